import { useEffect, useState } from 'react';

/** True once `delayMs` has passed since mount: rows scrolled past quickly never fetch their details. */
export function useDelayed(delayMs: number): boolean {
  const [ready, setReady] = useState(false);
  useEffect(() => {
    const timer = setTimeout(() => setReady(true), delayMs);
    return () => clearTimeout(timer);
  }, [delayMs]);
  return ready;
}
