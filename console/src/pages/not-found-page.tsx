import { Link } from 'wouter';
import { useTitle } from '../lib/use-title';

export function NotFoundPage() {
  useTitle('Not found');
  return (
    <>
      <h1>Page not found</h1>
      <p>
        Nothing lives at this address. <Link href="/">Go to the flows</Link>.
      </p>
    </>
  );
}
