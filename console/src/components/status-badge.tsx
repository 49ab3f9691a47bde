import { runLook, stepLook } from '../lib/status';

/** A state in colour and in words (never colour alone). */
export function StatusBadge({ status, kind = 'step' }: { status: string; kind?: 'step' | 'run' }) {
  const look = kind === 'run' ? runLook(status) : stepLook(status);
  return (
    <span className="badge" style={{ background: look.badge }} data-status={status}>
      {look.label}
    </span>
  );
}
