/**
 * Runs started by a flow's schedule: a triggered run completes and is listed as a scheduled run with its own
 * correlation ID; a backfill takes exactly the runs due in its range; overlap policy Skip really skips. Runs are
 * counted through `GET /api/Orchestration/runs/{id}` (Temporal's visibility store, eventually consistent: polled)
 * and through the schedule's own counters.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunListItem } from '../../api/orchestration/run-status';
import { scriptedProcessor } from '../fixtures/scripted-processor';
import { createFlow, eventually, startTestEngine, waitForRun, type TestEngine } from '../support/engine';
import { unique } from '../support/fixtures';
import { createScheduledFlow, describeSchedule, scheduleIdOf } from './helpers';

const P = `scripted-${unique()}`;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
/** Every minute of 03:00-03:59 UTC on 1 January: never due while the tests run, easy to backfill. */
const NEW_YEAR_CRON = '* 3 1 1 *';

type RunItem = RunListItem;

describe('scheduled runs', () => {
  let engine: TestEngine;
  before(async () => {
    engine = await startTestEngine([scriptedProcessor(P)]);
  });
  after(() => engine.close());

  /** The flow's runs once `ready` holds for the list (visibility catches up eventually). */
  async function runsWhen(flowId: string, ready: (runs: RunItem[]) => boolean): Promise<RunItem[]> {
    return eventually(`runs of ${flowId}`, async () => {
      const listed = await engine.api.request<RunItem[]>('GET', `/api/Orchestration/runs/${flowId}`);
      assert.equal(listed.status, 200, JSON.stringify(listed.body));
      if (!ready(listed.body)) return undefined;
      assert.equal(listed.headers.get('x-total-count'), String(listed.body.length));
      return listed.body;
    });
  }

  it('trigger starts a run that completes, listed with trigger "schedule" and a correlation ID of its own', async () => {
    const { workflowId } = await createFlow(engine.api, {
      Only: { processor: P, configuration: { output: 42 } },
    });
    const flow = await createScheduledFlow(engine.api, workflowId, {
      cronExpression: NEW_YEAR_CRON,
      isScheduleEnabled: true,
    });
    const triggered = await engine.api.request(
      'POST',
      `/api/OrchestratedFlow/${flow.id}/schedule/trigger`,
      undefined,
      {
        'X-Correlation-ID': 'the-trigger-request',
      },
    );
    assert.equal(triggered.status, 202, JSON.stringify(triggered.body));
    assert.match(triggered.body.triggeredAt, ISO);
    assert.deepEqual(triggered.body, {
      message: 'Scheduled run triggered',
      orchestratedFlowId: flow.id,
      scheduleId: scheduleIdOf(flow.id),
      overlapPolicy: 'Skip',
      triggeredAt: triggered.body.triggeredAt,
    });

    const summary = await waitForRun(engine.api, flow.id);
    assert.equal(summary.status, 'Completed');
    assert.equal(summary.trigger, 'schedule');
    assert.deepEqual(
      summary.steps.map((s) => [s.name, s.status, s.output]),
      [['Only', 'Succeeded', 42]],
    );
    assert.match(
      summary.workflowId,
      new RegExp(`^flow-scheduled-${flow.id}-\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$`),
    );
    // A scheduled run's correlation ID is its own first run ID (recorded, so every replay computes the same).
    assert.equal(summary.correlationId, summary.runId);
    assert.notEqual(summary.correlationId, 'the-trigger-request');

    const [run, ...others] = await runsWhen(
      flow.id,
      (runs) => runs[0]?.status === 'Completed' && !!runs[0].correlationId,
    );
    assert.deepEqual(others, []);
    assert.deepEqual(run, {
      runId: summary.runId,
      workflowId: summary.workflowId,
      status: 'Completed',
      trigger: 'schedule',
      correlationId: summary.correlationId,
      startedAt: run!.startedAt,
      completedAt: run!.completedAt,
    });
    const one = await engine.api.request('GET', `/api/Orchestration/runs/${flow.id}/${summary.runId}`);
    assert.equal(one.status, 200);
    assert.deepEqual(one.body, summary);

    const view = await engine.api.request('GET', `/api/OrchestratedFlow/${flow.id}/schedule`);
    assert.deepEqual(
      view.body.recentRuns.map((r: { runId: string; workflowId: string }) => [r.runId, r.workflowId]),
      [[summary.runId, summary.workflowId]],
    );

    // A second run gets another correlation ID; status shows the latest run, whatever started it.
    const manual = await engine.api.request('POST', `/api/Orchestration/start/${flow.id}`, {});
    assert.equal(manual.status, 202);
    const latest = await waitForRun(engine.api, flow.id);
    assert.equal(latest.runId, manual.body.runId);
    assert.equal(latest.trigger, 'manual');
    assert.notEqual(latest.correlationId, summary.correlationId);
  });

  it('backfill over five minutes of an every-minute cron with AllowAll takes exactly five runs', async () => {
    const { workflowId } = await createFlow(engine.api, { Only: { processor: P } });
    const flow = await createScheduledFlow(engine.api, workflowId, {
      cronExpression: NEW_YEAR_CRON,
      overlapPolicy: 'AllowAll',
    });
    // 02:59:30 to 03:04:30: due at 03:00, 03:01, 03:02, 03:03, 03:04 — whatever the range's edges mean.
    const range = { start: '2025-01-01T02:59:30Z', end: '2025-01-01T03:04:30Z' };
    const backfilled = await engine.api.request(
      'POST',
      `/api/OrchestratedFlow/${flow.id}/schedule/backfill`,
      range,
    );
    assert.equal(backfilled.status, 202, JSON.stringify(backfilled.body));
    assert.deepEqual(backfilled.body, {
      message: 'Backfill requested',
      orchestratedFlowId: flow.id,
      scheduleId: scheduleIdOf(flow.id),
      overlapPolicy: 'AllowAll',
      start: '2025-01-01T02:59:30.000Z',
      end: '2025-01-01T03:04:30.000Z',
    });

    const expectedIds = [0, 1, 2, 3, 4].map((m) => `flow-scheduled-${flow.id}-2025-01-01T03:0${m}:00Z`);
    const runs = await runsWhen(
      flow.id,
      (listed) => listed.length >= 5 && listed.every((r) => r.status === 'Completed' && r.correlationId),
    );
    assert.deepEqual(runs.map((r) => r.workflowId).sort(), expectedIds);
    assert.ok(runs.every((r) => r.trigger === 'schedule'));
    assert.equal(new Set(runs.map((r) => r.correlationId)).size, 5);

    const schedule = await describeSchedule(engine.client, flow.id);
    assert.equal(schedule?.info.numActionsTaken, 5);
    assert.deepEqual(
      schedule?.info.recentActions.map((a) => a.scheduledAt.toISOString()),
      [0, 1, 2, 3, 4].map((m) => `2025-01-01T03:0${m}:00.000Z`),
    );
  });

  it('overlap policy Skip: a trigger while a run is open starts nothing', async () => {
    const { workflowId } = await createFlow(engine.api, {
      Slow: { processor: P, configuration: { delayMs: 120_000 } },
    });
    const flow = await createScheduledFlow(engine.api, workflowId, {
      cronExpression: NEW_YEAR_CRON,
      isScheduleEnabled: true,
    });
    const trigger = async () => {
      const response = await engine.api.request('POST', `/api/OrchestratedFlow/${flow.id}/schedule/trigger`);
      assert.equal(response.status, 202, JSON.stringify(response.body));
      assert.equal(response.body.overlapPolicy, 'Skip');
    };
    try {
      await trigger();
      const first = await eventually('the first run', async () => {
        const d = await describeSchedule(engine.client, flow.id);
        return d?.info.runningActions.length === 1 ? d : undefined;
      });
      await trigger();
      const skipped = await eventually('the second trigger to be skipped', async () => {
        const d = await describeSchedule(engine.client, flow.id);
        return d && d.info.numActionsSkippedOverlap > 0 ? d : undefined;
      });
      assert.equal(skipped.info.numActionsSkippedOverlap, 1);
      assert.equal(skipped.info.numActionsTaken, 1);
      assert.deepEqual(skipped.info.runningActions, first.info.runningActions);
      const runs = await runsWhen(flow.id, (listed) => listed.length > 0);
      assert.deepEqual(
        runs.map((r) => [r.workflowId, r.status, r.trigger]),
        [[first.info.runningActions[0]!.workflow.workflowId, 'Running', 'schedule']],
      );
    } finally {
      // The open run is not needed past this point.
      await engine.api.request('POST', `/api/Orchestration/stop/${flow.id}?terminate=true`);
    }
  });
});
