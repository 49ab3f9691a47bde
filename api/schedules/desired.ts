/**
 * The Temporal Schedule a flow should have, and how an existing one differs from it. No I/O: the service and the
 * reconciler decide what to do with the answer.
 */
import { isDeepStrictEqual } from 'node:util';
import type { ScheduleDescription, ScheduleOptions, ScheduleUpdateOptions } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import type { FlowRunInput } from '../../domain/flow-types';
import {
  FLOW_ID_ATTRIBUTE,
  FLOW_NAME_ATTRIBUTE,
  FLOW_TRIGGER_ATTRIBUTE,
  runSearchAttributes,
} from '../../domain/search-attributes';
import { FLOW_WORKFLOW_TYPE } from '../../domain/task-queue';
import { DEFAULT_TIME_ZONE, TEMPORAL_OVERLAP, toTemporalCron, type OverlapPolicy } from './spec';

/** Every schedule this system owns has an ID with this prefix, followed by the flow's ID. */
export const SCHEDULE_ID_PREFIX = 'flow-schedule-';

/** The stable ID of a flow's schedule. */
export function scheduleIdOf(orchestratedFlowId: string): string {
  return `${SCHEDULE_ID_PREFIX}${orchestratedFlowId}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The flow ID in one of our schedule IDs, or undefined when the ID is not ours. */
export function flowIdOfSchedule(scheduleId: string): string | undefined {
  if (!scheduleId.startsWith(SCHEDULE_ID_PREFIX)) return undefined;
  const rest = scheduleId.slice(SCHEDULE_ID_PREFIX.length);
  return UUID.test(rest) ? rest : undefined;
}

/** Workflow ID of a flow's scheduled runs; Temporal appends each run's scheduled time to it. */
export function scheduledRunWorkflowId(orchestratedFlowId: string): string {
  return `flow-scheduled-${orchestratedFlowId}`;
}

/** The note on the schedule of a flow whose `isScheduleEnabled` is false. */
export const DISABLED_NOTE = 'disabled through the API';

/** The columns of a flow its schedule depends on. */
export interface ScheduledFlowFields {
  id: string;
  name: string;
  cronExpression: string | null;
  timezone: string | null;
  overlapPolicy: OverlapPolicy;
  catchupWindowMs: number;
  isScheduleEnabled: boolean;
}

/** Everything a flow's schedule is made of. Two equal values make the same schedule. */
export interface DesiredSchedule {
  scheduleId: string;
  orchestratedFlowId: string;
  orchestratedFlowName: string;
  cronExpression: string;
  timezone: string;
  overlapPolicy: OverlapPolicy;
  catchupWindowMs: number;
  paused: boolean;
  taskQueue: string;
}

/** The schedule `flow` should have on `taskQueue`, or undefined when it should have none (no cron expression). */
export function desiredSchedule(flow: ScheduledFlowFields, taskQueue: string): DesiredSchedule | undefined {
  if (!flow.cronExpression) return undefined;
  return {
    scheduleId: scheduleIdOf(flow.id),
    orchestratedFlowId: flow.id,
    orchestratedFlowName: flow.name,
    cronExpression: flow.cronExpression.trim(),
    timezone: flow.timezone ?? DEFAULT_TIME_ZONE,
    overlapPolicy: flow.overlapPolicy,
    catchupWindowMs: flow.catchupWindowMs,
    paused: !flow.isScheduleEnabled,
    taskQueue,
  };
}

/** What a scheduled run starts with: no correlation ID (the interpreter gives each run its own), no input. */
function runArgs(wanted: DesiredSchedule): [FlowRunInput] {
  return [{ orchestratedFlowId: wanted.orchestratedFlowId, trigger: 'schedule', input: null }];
}

/** The schedule as Temporal's client takes it for an update (everything but the ID). */
export function updateOptions(wanted: DesiredSchedule): ScheduleUpdateOptions {
  return {
    spec: { cronExpressions: [toTemporalCron(wanted.cronExpression)], timezone: wanted.timezone },
    action: {
      type: 'startWorkflow',
      workflowType: FLOW_WORKFLOW_TYPE,
      taskQueue: wanted.taskQueue,
      workflowId: scheduledRunWorkflowId(wanted.orchestratedFlowId),
      args: runArgs(wanted),
      typedSearchAttributes: runSearchAttributes({
        orchestratedFlowId: wanted.orchestratedFlowId,
        orchestratedFlowName: wanted.orchestratedFlowName,
        trigger: 'schedule',
      }),
      staticSummary: `${wanted.orchestratedFlowName} (scheduled)`,
    },
    policies: {
      overlap: TEMPORAL_OVERLAP[wanted.overlapPolicy],
      catchupWindow: wanted.catchupWindowMs,
    },
    state: wanted.paused ? { paused: true, note: DISABLED_NOTE } : { paused: false },
  };
}

/** The schedule as Temporal's client takes it for a create. */
export function createOptions(wanted: DesiredSchedule): ScheduleOptions {
  return { scheduleId: wanted.scheduleId, ...updateOptions(wanted) };
}

/** The parts of a schedule that can differ from what its flow wants. */
export type ScheduleAspect =
  'cronExpression' | 'timezone' | 'overlapPolicy' | 'catchupWindowMs' | 'paused' | 'action';

/**
 * Which aspects of an existing schedule differ from `wanted` (empty: it is as wanted). The cron expression is
 * recognised by the comment Temporal keeps on the calendar it compiled (see `toTemporalCron`); a spec edited in
 * Temporal behind our back (another calendar, an interval, a changed comment) counts as changed.
 */
export function differences(wanted: DesiredSchedule, actual: ScheduleDescription): ScheduleAspect[] {
  const changed: ScheduleAspect[] = [];
  const { spec, action, policies, state } = actual;
  const calendars = spec.calendars ?? [];
  const ownSpec =
    calendars.length === 1 &&
    calendars[0]!.comment === wanted.cronExpression &&
    (spec.intervals ?? []).length === 0 &&
    (spec.skip ?? []).length === 0 &&
    spec.startAt === undefined &&
    spec.endAt === undefined &&
    !spec.jitter;
  if (!ownSpec) changed.push('cronExpression');
  if ((spec.timezone || DEFAULT_TIME_ZONE) !== wanted.timezone) changed.push('timezone');
  if (policies.overlap !== TEMPORAL_OVERLAP[wanted.overlapPolicy]) changed.push('overlapPolicy');
  if (policies.catchupWindow !== wanted.catchupWindowMs) changed.push('catchupWindowMs');
  if (state.paused !== wanted.paused) changed.push('paused');
  const attributes = new TypedSearchAttributes(
    action.typedSearchAttributes instanceof TypedSearchAttributes
      ? action.typedSearchAttributes.getAll()
      : action.typedSearchAttributes,
  );
  const sameAction =
    action.type === 'startWorkflow' &&
    action.workflowType === FLOW_WORKFLOW_TYPE &&
    action.taskQueue === wanted.taskQueue &&
    action.workflowId === scheduledRunWorkflowId(wanted.orchestratedFlowId) &&
    isDeepStrictEqual(action.args, runArgs(wanted)) &&
    attributes.get(FLOW_ID_ATTRIBUTE) === wanted.orchestratedFlowId &&
    attributes.get(FLOW_NAME_ATTRIBUTE) === wanted.orchestratedFlowName &&
    attributes.get(FLOW_TRIGGER_ATTRIBUTE) === 'schedule';
  if (!sameAction) changed.push('action');
  return changed;
}
