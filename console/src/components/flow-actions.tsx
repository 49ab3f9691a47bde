import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, unwrap } from '../api/client';
import { flowKeys, type FlowSchedule, type OrchestratedFlow } from '../api/queries';
import type { GraphView } from '../lib/graph';
import { ApiErrorView } from './api-error-view';
import { Dialog } from './dialog';
import { StartForm } from './start-dialog';

interface FlowActionsProps {
  flow: OrchestratedFlow;
  view: GraphView | undefined;
  /** Whether a run of the flow is open (Stop is offered then). */
  hasOpenRun: boolean;
  schedule: FlowSchedule | null | undefined;
  onStarted: (runId: string) => void;
}

type ScheduleVerb = 'trigger' | 'pause' | 'resume';

/**
 * Run control (shown to operators, editors and admins): start, stop (optionally compensating), and the schedule's
 * trigger, pause and resume. The selected run's own pause, resume and rerun are in run-controls.tsx.
 */
export function FlowActions({ flow, view, hasOpenRun, schedule, onStarted }: FlowActionsProps) {
  const [dialog, setDialog] = useState<'start' | 'stop' | null>(null);
  const [compensate, setCompensate] = useState(false);
  const [notice, setNotice] = useState<string>();
  const client = useQueryClient();
  const refreshRuns = () =>
    Promise.all([
      client.invalidateQueries({ queryKey: flowKeys.runs(flow.id) }),
      client.invalidateQueries({ queryKey: ['run', flow.id] }),
    ]);

  const stop = useMutation({
    onMutate: () => setNotice(undefined),
    mutationFn: async (undo: boolean) =>
      unwrap(
        await api.POST('/api/Orchestration/stop/{orchestratedFlowId}', {
          params: {
            path: { orchestratedFlowId: flow.id },
            query: { terminate: 'false', ...(undo && { compensate: 'true' }) },
          },
        }),
      ),
    onSuccess: async (_, undo) => {
      setDialog(null);
      setCompensate(false);
      setNotice(
        undo
          ? 'Stop requested: running steps are being cancelled, then the compensations run.'
          : 'Stop requested: running steps are being cancelled.',
      );
      await refreshRuns();
    },
  });

  const scheduleAction = useMutation({
    onMutate: () => setNotice(undefined),
    mutationFn: async (verb: ScheduleVerb) => {
      const params = { params: { path: { id: flow.id } } };
      if (verb === 'trigger')
        return {
          verb,
          result: unwrap(await api.POST('/api/OrchestratedFlow/{id}/schedule/trigger', params)),
        };
      const path =
        verb === 'pause'
          ? '/api/OrchestratedFlow/{id}/schedule/pause'
          : '/api/OrchestratedFlow/{id}/schedule/resume';
      return { verb, result: unwrap(await api.POST(path, params)) };
    },
    onSuccess: async ({ verb }) => {
      setNotice(
        verb === 'trigger'
          ? `Schedule triggered (overlap policy ${flow.overlapPolicy}).`
          : verb === 'pause'
            ? 'Schedule paused.'
            : 'Schedule resumed.',
      );
      await Promise.all([
        client.invalidateQueries({ queryKey: flowKeys.schedule(flow.id) }),
        client.invalidateQueries({ queryKey: flowKeys.one(flow.id) }),
        client.invalidateQueries({ queryKey: flowKeys.all }),
        refreshRuns(),
      ]);
    },
  });

  const paused = schedule ? schedule.paused : !flow.isScheduleEnabled;
  return (
    <div className="actions" role="group" aria-label="Run control">
      <button type="button" className="primary" onClick={() => setDialog('start')}>
        Start run
      </button>
      <button type="button" className="danger" onClick={() => setDialog('stop')} disabled={!hasOpenRun}>
        Stop
      </button>
      {flow.cronExpression && (
        <>
          <button
            type="button"
            onClick={() => scheduleAction.mutate('trigger')}
            disabled={scheduleAction.isPending}
          >
            Trigger schedule now
          </button>
          <button
            type="button"
            onClick={() => scheduleAction.mutate(paused ? 'resume' : 'pause')}
            disabled={scheduleAction.isPending}
          >
            {paused ? 'Resume schedule' : 'Pause schedule'}
          </button>
        </>
      )}
      <p className="notice" role="status">
        {notice}
      </p>
      {scheduleAction.isError && (
        <div role="alert" className="field-errors">
          <p>
            <strong>The schedule action was refused.</strong>
          </p>
          <ApiErrorView error={scheduleAction.error} />
        </div>
      )}

      <Dialog open={dialog === 'start'} title={`Start ${flow.name}`} onClose={() => setDialog(null)}>
        <StartForm
          flowId={flow.id}
          view={view}
          onCancel={() => setDialog(null)}
          onStarted={(runId) => {
            setDialog(null);
            setNotice('Run started.');
            onStarted(runId);
          }}
        />
      </Dialog>

      <Dialog
        open={dialog === 'stop'}
        title={`Stop ${flow.name}?`}
        onClose={() => {
          setDialog(null);
          setCompensate(false);
          stop.reset();
        }}
      >
        <p>
          This stops <strong>every open run</strong> of the flow (paused ones too): running steps are asked to
          cancel, and steps not yet decided are marked Cancelled. Finished steps keep their results.
        </p>
        <label className="check">
          <input
            type="checkbox"
            checked={compensate}
            onChange={(event) => setCompensate(event.target.checked)}
          />
          Compensate: undo the steps that succeeded, newest first, with their compensations (steps without one
          are passed over)
        </label>
        {stop.isError && (
          <div role="alert" className="field-errors">
            <p>
              <strong>The runs were not stopped.</strong>
            </p>
            <ApiErrorView error={stop.error} />
          </div>
        )}
        <div className="dialog-actions">
          <button type="button" onClick={() => setDialog(null)}>
            Keep running
          </button>
          <button
            type="button"
            className="danger"
            onClick={() => stop.mutate(compensate)}
            disabled={stop.isPending}
          >
            {stop.isPending ? 'Stopping…' : 'Stop runs'}
          </button>
        </div>
      </Dialog>
    </div>
  );
}
