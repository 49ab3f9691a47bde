import { useId } from 'react';
import type { Run } from '../api/queries';
import { formatAttempts } from '../lib/format';
import { StatusBadge } from './status-badge';

type Compensation = NonNullable<Run['compensation']>;

/**
 * The saga of a run that failed (or was stopped with compensation): its status and each compensation in the order
 * they ran, newest completion first, with its state, attempts and last error.
 */
export function CompensationView({ compensation }: { compensation: Compensation }) {
  const headingId = useId();
  return (
    <section className="compensation" aria-labelledby={headingId}>
      <h3 id={headingId}>
        Compensation <StatusBadge status={compensation.status} kind="run" />
      </h3>
      <p className="muted small">
        The steps that succeeded are undone one at a time, the last to complete first; a compensation that
        keeps failing is reported and the others still run.
      </p>
      {compensation.steps.length === 0 ? (
        <p>No step that succeeded has a compensation.</p>
      ) : (
        <ol>
          {compensation.steps.map((step) => (
            <li key={step.stepId}>
              {step.name} <StatusBadge status={step.status} />{' '}
              <span className="small">{formatAttempts(step.attempts)}</span>
              {step.error && (
                <span className="small">
                  {' '}
                  — {step.error.type && <strong>{step.error.type}: </strong>}
                  {step.error.message}
                </span>
              )}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
