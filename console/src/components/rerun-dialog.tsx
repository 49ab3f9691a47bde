import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import { api, unwrap } from '../api/client';
import { flowKeys, type Run } from '../api/queries';
import { defaultRerunMode, rerunNotice, type RerunMode } from '../lib/run-control';
import { ApiErrorView } from './api-error-view';
import { Dialog } from './dialog';

/** What the dialog was opened for: the run's failed steps, or (from the step panel) a step. */
export interface RerunRequest {
  fromStepId?: string;
}

interface RerunDialogProps {
  flowId: string;
  run: Run | undefined;
  request: RerunRequest | null;
  onClose: () => void;
  /** The new run's ID and what it reused, in words. */
  onStarted: (runId: string, notice: string) => void;
}

/** Rerun a closed run: from its failed steps (the default) or a chosen step, on its recorded or the current definition. */
export function RerunDialog({ flowId, run, request, onClose, onStarted }: RerunDialogProps) {
  return (
    <Dialog open={request !== null && run !== undefined} title="Rerun this run" onClose={onClose}>
      {request && run && (
        <RerunForm flowId={flowId} run={run} request={request} onCancel={onClose} onStarted={onStarted} />
      )}
    </Dialog>
  );
}

function RerunForm({
  flowId,
  run,
  request,
  onCancel,
  onStarted,
}: {
  flowId: string;
  run: Run;
  request: RerunRequest;
  onCancel: () => void;
  onStarted: RerunDialogProps['onStarted'];
}) {
  const [mode, setMode] = useState<RerunMode>(request.fromStepId ? 'step' : defaultRerunMode(run));
  const [fromStepId, setFromStepId] = useState(request.fromStepId ?? run.steps[0]?.stepId ?? '');
  const [current, setCurrent] = useState(false);
  const ids = { mode: useId(), step: useId(), current: useId() };
  const client = useQueryClient();

  const rerun = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST('/api/Orchestration/rerun/{orchestratedFlowId}/{runId}', {
          params: { path: { orchestratedFlowId: flowId, runId: run.runId } },
          body: {
            ...(mode === 'step' && fromStepId && { fromStepId }),
            definition: current ? 'current' : 'recorded',
          },
        }),
      ),
    onSuccess: async (started) => {
      await client.invalidateQueries({ queryKey: flowKeys.runs(flowId) });
      if (started.runId) onStarted(started.runId, rerunNotice(started));
    },
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    rerun.mutate();
  };
  return (
    <form onSubmit={submit}>
      <fieldset className="choices">
        <legend>What runs again</legend>
        <label>
          <input
            type="radio"
            name={ids.mode}
            value="failed"
            checked={mode === 'failed'}
            onChange={() => setMode('failed')}
          />
          The failed, cancelled and undecided steps, and every step after them
        </label>
        <label>
          <input
            type="radio"
            name={ids.mode}
            value="step"
            checked={mode === 'step'}
            onChange={() => setMode('step')}
          />
          A step I choose, and every step after it
        </label>
      </fieldset>
      {mode === 'step' && (
        <div className="field">
          <label htmlFor={ids.step}>Rerun from step</label>
          <select id={ids.step} value={fromStepId} onChange={(event) => setFromStepId(event.target.value)}>
            {run.steps.map((step) => (
              <option key={step.stepId} value={step.stepId}>
                {step.name} ({step.status})
              </option>
            ))}
          </select>
        </div>
      )}
      <label className="check" htmlFor={ids.current}>
        <input
          id={ids.current}
          type="checkbox"
          checked={current}
          onChange={(event) => setCurrent(event.target.checked)}
        />
        Use the current definition (refused when a step it would reuse has changed since this run)
      </label>
      <p className="muted small">
        Every other step keeps its recorded outcome and output and is shown as Reused; its processor is not
        called. The new run gets this run&apos;s input
        {current ? '' : ' and follows the definition this run recorded'}.
      </p>
      {rerun.isError && (
        <div role="alert" className="field-errors">
          <p>
            <strong>The run was not rerun.</strong>
          </p>
          <ApiErrorView error={rerun.error} />
        </div>
      )}
      <div className="dialog-actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={rerun.isPending}>
          {rerun.isPending ? 'Starting…' : 'Start rerun'}
        </button>
      </div>
    </form>
  );
}
