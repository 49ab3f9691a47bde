import {
  WorkflowFailedError,
  type Client,
  type WorkflowExecutionDescription,
  type WorkflowExecutionInfo,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { RunStatus, RunSummary, RunTrigger } from '../../domain/flow-types';
import {
  CORRELATION_ID_ATTRIBUTE,
  FLOW_ID_ATTRIBUTE,
  FLOW_NAME_ATTRIBUTE,
  FLOW_TRIGGER_ATTRIBUTE,
} from '../../domain/search-attributes';
import { STATUS_QUERY } from '../../domain/task-queue';
import { summaryFromHistory } from './history-status';
import { describeCurrentSegment } from '../../infra/run-chain';

const QUERY_DEADLINE_MS = 5_000;

/** The error of an open run's summary when no worker answered its status query in time. */
export const NO_WORKER_ANSWERED = 'no worker answered the status query; showing what Temporal knows';

const STATUS_NAMES: Record<string, RunStatus> = {
  RUNNING: 'Running',
  COMPLETED: 'Completed',
  FAILED: 'Failed',
  CANCELLED: 'Cancelled',
  TERMINATED: 'Terminated',
  TIMED_OUT: 'TimedOut',
  CONTINUED_AS_NEW: 'Completed',
};

/** Our run status for a Temporal execution status name. */
export function runStatusOf(info: Pick<WorkflowExecutionInfo, 'status'>): RunStatus {
  return STATUS_NAMES[info.status.name] ?? 'Running';
}

/** A run as `GET /api/Orchestration/runs/{flowId}` lists it. */
export type RunListItem = ReturnType<typeof runListItem>;

/** A run as listed: what the visibility store knows, no worker needed. */
export function runListItem(info: WorkflowExecutionInfo) {
  const attributes = info.typedSearchAttributes;
  // A long run is listed once, as its last segment, under the first segment's run ID and start.
  const chain = chainOf(info.memo);
  return {
    runId: chain?.runId ?? info.runId,
    workflowId: info.workflowId,
    // A paused run is open (Running to Temporal); its memo says it is paused (runs from patch `pause-memo` on).
    status: runStatusOf(info) === 'Running' && isObject(info.memo?.paused) ? 'Paused' : runStatusOf(info),
    trigger: (attributes.get(FLOW_TRIGGER_ATTRIBUTE) ?? 'manual') as RunTrigger,
    correlationId: attributes.get(CORRELATION_ID_ATTRIBUTE) ?? null,
    startedAt: chain?.startedAt ?? info.startTime.toISOString(),
    completedAt: info.closeTime?.toISOString() ?? null,
    ...(isRerunOf(info.memo?.rerunOf) ? { rerunOf: info.memo.rerunOf } : {}),
    ...(chain ? { segments: chain.segment } : {}),
  };
}

/**
 * What a later segment of a long run writes to its memo (workflows/interpreter.ts): the run's own ID and start, and
 * the segment's number; undefined for a run of one segment.
 */
export function chainOf(
  memo: Record<string, unknown> | undefined,
): { runId: string; startedAt: string; segment: number } | undefined {
  const value = memo?.chain;
  return isObject(value) &&
    typeof (value as { runId?: unknown }).runId === 'string' &&
    typeof (value as { startedAt?: unknown }).startedAt === 'string' &&
    typeof (value as { segment?: unknown }).segment === 'number'
    ? (value as { runId: string; startedAt: string; segment: number })
    : undefined;
}

const isObject = (value: unknown): value is object => typeof value === 'object' && value !== null;

function isRerunOf(value: unknown): value is { workflowId: string; runId: string; fromStepId?: string } {
  return (
    !!value &&
    typeof value === 'object' &&
    typeof (value as { runId?: unknown }).runId === 'string' &&
    typeof (value as { workflowId?: unknown }).workflowId === 'string'
  );
}

/** What describe alone tells about a run, when neither a result, a memo nor a worker can say more. */
function describedSummary(d: WorkflowExecutionDescription): RunSummary {
  const attributes = d.typedSearchAttributes;
  // A long run's later segment is still the run: its first segment's ID and start, as the listing names it.
  const chain = chainOf(d.memo);
  return {
    orchestratedFlowId: attributes.get(FLOW_ID_ATTRIBUTE) ?? '',
    orchestratedFlowName: attributes.get(FLOW_NAME_ATTRIBUTE) ?? '',
    workflowId: d.workflowId,
    runId: chain?.runId ?? d.runId,
    status: runStatusOf(d),
    trigger: (attributes.get(FLOW_TRIGGER_ATTRIBUTE) ?? 'manual') as RunTrigger,
    correlationId: attributes.get(CORRELATION_ID_ATTRIBUTE) ?? '',
    startedAt: chain?.startedAt ?? d.startTime.toISOString(),
    ...(d.closeTime ? { completedAt: d.closeTime.toISOString() } : {}),
    completedSteps: 0,
    totalSteps: 0,
    currentSteps: [],
    steps: [],
  };
}

/**
 * The workflow only learns a step's attempts when the step ends; while it retries, Temporal's pending activity
 * (activity ID = step ID) knows the current attempt and the last failure. Merged into Running steps.
 */
function withPendingAttempts(summary: RunSummary, description: WorkflowExecutionDescription): RunSummary {
  const pending = new Map(
    (description.raw.pendingActivities ?? []).map((activity) => [activity.activityId ?? '', activity]),
  );
  if (pending.size === 0) return summary;
  return {
    ...summary,
    steps: summary.steps.map((step) => {
      const activity = step.status === 'Running' ? pending.get(step.stepId) : undefined;
      if (!activity) return step;
      const lastFailure = activity.lastFailure?.message;
      return {
        ...step,
        attempts: Math.max(step.attempts, activity.attempt ?? 1),
        ...(lastFailure ? { error: { message: `last attempt failed: ${lastFailure}` } } : {}),
      };
    }),
  };
}

function isSummary(value: unknown): value is RunSummary {
  return !!value && typeof value === 'object' && 'runId' in value && 'steps' in value && 'status' in value;
}

/**
 * The status of one run: the `status` query while it runs (with describe's facts if no worker answers), the
 * workflow result once it completed or failed (the interpreter returns / fails with its summary), the memo the
 * interpreter wrote when it was cancelled, and its history when it was terminated or timed out (every step's
 * activity events, and why the run ended). Closed runs need no worker.
 */
export async function readRunSummary(
  client: Client,
  workflowId: string,
  runId?: string,
): Promise<RunSummary> {
  // A long run that continued as new answers from the segment it is at now.
  const description = runId
    ? await describeCurrentSegment(client, workflowId, runId)
    : await client.workflow.getHandle(workflowId).describe();
  const handle = client.workflow.getHandle(workflowId, description.runId, { followRuns: false });
  const fallback = describedSummary(description);
  switch (description.status.name) {
    case 'RUNNING':
      try {
        const summary = await client.connection.withDeadline(Date.now() + QUERY_DEADLINE_MS, () =>
          handle.query<RunSummary>(STATUS_QUERY),
        );
        return withPendingAttempts(summary, description);
      } catch {
        return {
          ...fallback,
          error: { message: NO_WORKER_ANSWERED },
        };
      }
    case 'COMPLETED': {
      const result: unknown = await handle.result();
      return isSummary(result) ? result : fallback;
    }
    case 'FAILED':
      try {
        await handle.result();
        return fallback;
      } catch (error) {
        const cause = error instanceof WorkflowFailedError ? error.cause : undefined;
        const summary: unknown = cause instanceof ApplicationFailure ? cause.details?.[0] : undefined;
        if (isSummary(summary)) return summary;
        return {
          ...fallback,
          error: {
            message: cause?.message ?? String(error),
            ...(cause instanceof ApplicationFailure && cause.type ? { type: cause.type } : {}),
          },
        };
      }
    case 'CANCELLED': {
      const summary = description.memo?.summary;
      return isSummary(summary) ? summary : fallback;
    }
    case 'TERMINATED':
    case 'TIMED_OUT':
      return summaryFromHistory(client, handle, fallback);
    default:
      return fallback;
  }
}
