import { WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import {
  decodeFromPayloadsAtIndex,
  decodeUserMetadata,
} from '@temporalio/common/lib/internal-non-workflow/codec-helpers';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import { grpcCode, NOT_FOUND } from './temporal-errors';
import type { FlowRunInput, RunSummary, StepError, StepResult, StepState } from '../../domain/flow-types';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

const iso = (event: HistoryEvent) => {
  const ms = optionalTsToMs(event.eventTime);
  return ms === undefined ? undefined : new Date(ms).toISOString();
};

function failureOf(failure: temporal.api.failure.v1.IFailure | null | undefined): StepError {
  // The activity failure wraps the processor's own failure (its message and type).
  const cause = failure?.cause ?? failure;
  const type = cause?.applicationFailureInfo?.type;
  return { message: cause?.message || 'the step failed', ...(type ? { type } : {}) };
}

/**
 * The input a run was started with (a reference when it was large): the first history event only, one small call.
 * @throws WorkflowNotFoundError when Temporal has no such run.
 */
export async function runInputFromHistory(
  client: Client,
  workflowId: string,
  runId: string,
): Promise<unknown> {
  let page;
  try {
    page = await client.workflowService.getWorkflowExecutionHistory({
      namespace: client.options.namespace,
      execution: { workflowId, runId },
      maximumPageSize: 1,
    });
  } catch (error) {
    if (grpcCode(error) === NOT_FOUND)
      throw new WorkflowNotFoundError(`run ${runId} of ${workflowId} not found`, workflowId, runId);
    throw error;
  }
  const started = page.history?.events?.[0]?.workflowExecutionStartedEventAttributes;
  const args = await decodeFromPayloadsAtIndex<FlowRunInput | undefined>(
    client.options.loadedDataConverter,
    0,
    started?.input?.payloads,
  );
  return args?.input;
}

/**
 * A terminated or timed-out run's status, rebuilt from its history: the interpreter never got to write a result,
 * but every step it started left activity events (scheduled, started, completed / failed / timed out / cancelled,
 * with the attempt). Steps still open when the run ended are Cancelled, and the run's error says why it ended.
 */
export async function summaryFromHistory(
  client: Client,
  handle: WorkflowHandle,
  described: RunSummary,
): Promise<RunSummary> {
  const converter = client.options.loadedDataConverter;
  const history = await handle.fetchHistory();
  const steps = new Map<string, StepState>();
  let ended: StepError = { message: `the run ended ${described.status}` };
  for (const event of history.events ?? []) {
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled) {
      const metadata = await decodeUserMetadata(converter, event.userMetadata);
      steps.set(String(event.eventId), {
        stepId: scheduled.activityId ?? '',
        name: metadata.staticSummary ?? scheduled.activityId ?? '',
        processor: scheduled.activityType?.name ?? null,
        status: 'Running',
        attempts: 1,
        ...(iso(event) ? { startedAt: iso(event) } : {}),
      });
      continue;
    }
    const started = event.activityTaskStartedEventAttributes;
    const completed = event.activityTaskCompletedEventAttributes;
    const failed = event.activityTaskFailedEventAttributes;
    const timedOut = event.activityTaskTimedOutEventAttributes;
    const canceled = event.activityTaskCanceledEventAttributes;
    const scheduledId = (started ?? completed ?? failed ?? timedOut ?? canceled)?.scheduledEventId;
    const step =
      scheduledId === undefined || scheduledId === null ? undefined : steps.get(String(scheduledId));
    if (step) {
      const at = iso(event);
      if (started) step.attempts = Math.max(step.attempts, started.attempt ?? 1);
      if (completed) {
        const result = await decodeFromPayloadsAtIndex<StepResult>(converter, 0, completed.result?.payloads);
        Object.assign(step, {
          status: 'Succeeded',
          output: result?.output,
          attempts: result?.attempt ?? step.attempts,
          ...(at ? { completedAt: at } : {}),
        });
      }
      if (failed)
        Object.assign(step, {
          status: 'Failed',
          error: failureOf(failed.failure),
          ...(at ? { completedAt: at } : {}),
        });
      if (timedOut)
        Object.assign(step, {
          status: 'Failed',
          error: { message: timedOut.failure?.message || 'the step timed out', type: 'Timeout' },
          ...(at ? { completedAt: at } : {}),
        });
      if (canceled)
        Object.assign(step, {
          status: 'Cancelled',
          reason: 'the step was cancelled',
          ...(at ? { completedAt: at } : {}),
        });
    }
    const terminated = event.workflowExecutionTerminatedEventAttributes;
    if (terminated)
      ended = { message: `terminated: ${terminated.reason || 'no reason given'}`, type: 'Terminated' };
    if (event.workflowExecutionTimedOutEventAttributes)
      ended = {
        message: 'the run timed out (its workflow execution or run timeout passed)',
        type: 'TimedOut',
      };
  }
  const why = ended.type === 'TimedOut' ? 'timed out' : 'was terminated';
  const all = [...steps.values()].map((step) =>
    step.status === 'Running'
      ? { ...step, status: 'Cancelled' as const, reason: `the run ${why} while the step ran` }
      : step,
  );
  return {
    ...described,
    steps: all,
    completedSteps: all.filter((step) => step.status === 'Succeeded' || step.status === 'Failed').length,
    totalSteps: Math.max(described.totalSteps, all.length),
    currentSteps: [],
    error: ended,
  };
}
