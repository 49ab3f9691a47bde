/** Helpers shared by the schedule tests: flows with a cron expression, and reading their schedules both ways. */
import assert from 'node:assert/strict';
import { ScheduleNotFoundError, type Client, type ScheduleDescription } from '@temporalio/client';
import type { ApiClient } from '../support/api';
import { create, unique } from '../support/fixtures';

export const scheduleIdOf = (flowId: string) => `flow-schedule-${flowId}`;

/** A flow body on `workflowId` with a unique name; `extra` adds or overrides fields. */
export const flowBody = (workflowId: string, extra: Record<string, unknown> = {}) => ({
  version: '1.0',
  name: `flow-${unique()}`,
  workflowId,
  ...extra,
});

/** Creates a flow (201 asserted) and returns it. */
export const createScheduledFlow = (
  api: ApiClient,
  workflowId: string,
  extra: Record<string, unknown> = {},
) => create(api, 'OrchestratedFlow', flowBody(workflowId, extra));

/** PUTs a full replacement of a flow (204 asserted). */
export async function replaceFlow(
  api: ApiClient,
  flow: Record<string, any>,
  changes: Record<string, unknown>,
) {
  const { id, createdAt: _c, updatedAt: _u, createdBy: _cb, updatedBy: _ub, ...body } = flow;
  const response = await api.request('PUT', `/api/OrchestratedFlow/${id}`, { ...body, ...changes });
  assert.equal(response.status, 204, JSON.stringify(response.body));
}

/** Temporal's description of the flow's schedule, or undefined when Temporal has none. */
export async function describeSchedule(
  client: Client,
  flowId: string,
): Promise<ScheduleDescription | undefined> {
  try {
    return await client.schedule.getHandle(scheduleIdOf(flowId)).describe();
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) return undefined;
    throw error;
  }
}

/** The schedule view the API answers for a description of it (what GET …/schedule must equal). */
export function viewOf(
  flowId: string,
  d: ScheduleDescription,
  expected: { cronExpression: string; timezone: string; overlapPolicy: string; catchupWindowMs: number },
) {
  return {
    scheduleId: scheduleIdOf(flowId),
    orchestratedFlowId: flowId,
    ...expected,
    paused: d.state.paused,
    ...(d.state.note ? { note: d.state.note } : {}),
    nextRunTimes: d.info.nextActionTimes.slice(0, 5).map((t) => t.toISOString()),
    recentRuns: d.info.recentActions
      .map((a) => ({
        runId: a.action.workflow.firstExecutionRunId,
        workflowId: a.action.workflow.workflowId,
        scheduledAt: a.scheduledAt.toISOString(),
        startedAt: a.takenAt.toISOString(),
      }))
      .reverse(),
  };
}

/** Asserts Temporal has no schedule for the flow, and the API answers 404 with `body` for it. */
export async function assertNoSchedule(
  api: ApiClient,
  client: Client,
  flowId: string,
  body: { error: string; message: string },
): Promise<void> {
  assert.equal(await describeSchedule(client, flowId), undefined, `flow ${flowId} still has a schedule`);
  const view = await api.request('GET', `/api/OrchestratedFlow/${flowId}/schedule`);
  assert.equal(view.status, 404, JSON.stringify(view.body));
  assert.deepEqual(view.body, body);
}
