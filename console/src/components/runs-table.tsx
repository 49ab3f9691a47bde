import { useState } from 'react';
import { Link } from 'wouter';
import type { RunListItem } from '../api/queries';
import { durationBetween, formatDuration, formatTime } from '../lib/format';
import { shortRunId, triggerLabel } from '../lib/run-control';
import { RUN_STATUSES, runLook } from '../lib/status';
import { temporalRunUrl } from '../lib/temporal-link';
import { Empty } from './states';
import { StatusBadge } from './status-badge';

export interface TemporalUi {
  url: string;
  namespace: string;
}

interface RunsTableProps {
  flowId: string;
  runs: RunListItem[];
  selectedRunId: string | undefined;
  temporalUi: TemporalUi | undefined;
  /** The href that opens a run (keeps the page's other parameters). */
  runHref: (runId: string) => string;
  now: number;
}

/**
 * The flow's runs, newest first, filterable by status; each opens its state on the DAG. A rerun names (and links)
 * the run it repairs.
 */
export function RunsTable({ runs, selectedRunId, temporalUi, runHref, now }: RunsTableProps) {
  const [status, setStatus] = useState('');
  const shown = status ? runs.filter((run) => run.status === status) : runs;
  return (
    <>
      <div className="toolbar">
        <label>
          Status{' '}
          <select value={status} onChange={(event) => setStatus(event.target.value)}>
            <option value="">All</option>
            {RUN_STATUSES.map((s) => (
              <option key={s} value={s}>
                {runLook(s).label}
              </option>
            ))}
          </select>
        </label>
        <span className="muted small" aria-live="polite">
          {shown.length} of {runs.length} runs
        </span>
      </div>
      {shown.length === 0 ? (
        <Empty>{runs.length === 0 ? 'This flow has not run yet.' : 'No run has this status.'}</Empty>
      ) : (
        <div className="table-scroll">
          <table className="runs">
            <thead>
              <tr>
                <th scope="col">Started</th>
                <th scope="col">Status</th>
                <th scope="col">Trigger</th>
                <th scope="col">Duration</th>
                <th scope="col">Completed</th>
                <th scope="col">Correlation ID</th>
                {temporalUi && <th scope="col">Temporal</th>}
              </tr>
            </thead>
            <tbody>
              {shown.map((run) => {
                const selected = run.runId === selectedRunId;
                const duration = durationBetween(run.startedAt, run.completedAt, now);
                return (
                  <tr key={run.runId} className={selected ? 'selected' : undefined}>
                    <th scope="row">
                      <Link href={runHref(run.runId)} aria-current={selected ? 'true' : undefined}>
                        {formatTime(run.startedAt)}
                      </Link>
                    </th>
                    <td>
                      <StatusBadge status={run.status} kind="run" />
                    </td>
                    <td>
                      {triggerLabel(run.trigger)}
                      {run.rerunOf && (
                        <span className="small">
                          {' '}
                          of{' '}
                          <Link href={runHref(run.rerunOf.runId)} title={run.rerunOf.runId}>
                            run <code>{shortRunId(run.rerunOf.runId)}</code>
                          </Link>
                        </span>
                      )}
                    </td>
                    <td>{duration === undefined ? '—' : formatDuration(duration)}</td>
                    <td>{formatTime(run.completedAt)}</td>
                    <td>
                      <code className="small">{run.correlationId ?? '—'}</code>
                    </td>
                    {temporalUi && (
                      <td>
                        <a
                          href={temporalRunUrl(
                            temporalUi.url,
                            temporalUi.namespace,
                            run.workflowId,
                            run.runId,
                          )}
                          target="_blank"
                          rel="noreferrer"
                        >
                          Open in Temporal
                          <span className="sr-only"> (run started {formatTime(run.startedAt)}, new tab)</span>
                        </a>
                      </td>
                    )}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
