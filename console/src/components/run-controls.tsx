import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import { api, unwrap } from '../api/client';
import { flowKeys, type Run } from '../api/queries';
import { canRerun } from '../lib/run-control';
import { isOpenRun } from '../lib/status';
import { ApiErrorView } from './api-error-view';
import { Dialog } from './dialog';

interface RunControlsProps {
  flowId: string;
  run: Run;
  /** Opens the rerun dialog (the flow page owns it: the step panel opens it too). */
  onRerun: () => void;
  /** Tells the page's status line what happened. */
  onNotice: (notice: string) => void;
}

const REASON_MAX = 500;

/**
 * The selected run's own controls (operators and up): Pause (with an optional reason) and Resume while it is open,
 * Rerun once it closed. Refusals show the API's message, details and correlation ID.
 */
export function RunControls({ flowId, run, onRerun, onNotice }: RunControlsProps) {
  const [pausing, setPausing] = useState(false);
  const client = useQueryClient();
  const settled = async (summary: Run) => {
    client.setQueryData(flowKeys.run(flowId, summary.runId), summary);
    await client.invalidateQueries({ queryKey: flowKeys.runs(flowId) });
  };
  const target = { path: { orchestratedFlowId: flowId }, query: { runId: run.runId } };

  const pause = useMutation({
    mutationFn: async (reason: string) =>
      unwrap(
        await api.POST('/api/Orchestration/pause/{orchestratedFlowId}', {
          params: target,
          body: reason ? { reason } : {},
        }),
      ),
    onSuccess: async (summary) => {
      setPausing(false);
      onNotice('Run paused: no new step starts until it is resumed.');
      await settled(summary);
    },
  });
  const resume = useMutation({
    mutationFn: async () =>
      unwrap(await api.POST('/api/Orchestration/resume/{orchestratedFlowId}', { params: target })),
    onSuccess: async (summary) => {
      onNotice('Run resumed.');
      await settled(summary);
    },
  });

  return (
    <div className="actions" role="group" aria-label="This run">
      {run.status === 'Paused' ? (
        <button
          type="button"
          className="primary"
          onClick={() => {
            pause.reset();
            resume.mutate();
          }}
          disabled={resume.isPending}
        >
          {resume.isPending ? 'Resuming…' : 'Resume run'}
        </button>
      ) : isOpenRun(run.status) ? (
        <button
          type="button"
          onClick={() => {
            resume.reset();
            pause.reset();
            setPausing(true);
          }}
        >
          Pause run
        </button>
      ) : canRerun(run) ? (
        <button type="button" onClick={onRerun}>
          Rerun
        </button>
      ) : null}
      {resume.isError && (
        <div role="alert" className="field-errors">
          <p>
            <strong>The run was not resumed.</strong>
          </p>
          <ApiErrorView error={resume.error} />
        </div>
      )}

      <Dialog open={pausing} title="Pause this run?" onClose={() => setPausing(false)}>
        <PauseForm
          pending={pause.isPending}
          error={pause.isError ? pause.error : undefined}
          onCancel={() => setPausing(false)}
          onPause={(reason) => pause.mutate(reason)}
        />
      </Dialog>
    </div>
  );
}

function PauseForm({
  pending,
  error,
  onCancel,
  onPause,
}: {
  pending: boolean;
  error: unknown;
  onCancel: () => void;
  onPause: (reason: string) => void;
}) {
  const [reason, setReason] = useState('');
  const ids = { reason: useId(), hint: useId() };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onPause(reason.trim());
  };
  return (
    <form onSubmit={submit}>
      <p>
        No new step starts until the run is resumed; steps already running finish and are recorded. Stop still
        works on a paused run.
      </p>
      <div className="field">
        <label htmlFor={ids.reason}>Reason (optional)</label>
        <input
          id={ids.reason}
          type="text"
          maxLength={REASON_MAX}
          value={reason}
          onChange={(event) => setReason(event.target.value)}
          aria-describedby={ids.hint}
        />
        <span id={ids.hint} className="muted small">
          Shown with the run while it is paused, beside who paused it and when.
        </span>
      </div>
      {error !== undefined && (
        <div role="alert" className="field-errors">
          <p>
            <strong>The run was not paused.</strong>
          </p>
          <ApiErrorView error={error} />
        </div>
      )}
      <div className="dialog-actions">
        <button type="button" onClick={onCancel}>
          Keep running
        </button>
        <button type="submit" className="primary" disabled={pending}>
          {pending ? 'Pausing…' : 'Pause run'}
        </button>
      </div>
    </form>
  );
}
