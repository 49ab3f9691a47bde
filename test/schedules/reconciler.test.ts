/**
 * The reconciler makes Temporal's schedules match the database: it recreates a schedule deleted behind our back,
 * corrects one changed behind our back, deletes orphans carrying our prefix (flow gone, or flow without a cron
 * expression), leaves schedules of other deployments alone, reports a schedule Temporal refuses, and logs each change.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ScheduleNotFoundError, type Client } from '@temporalio/client';
import pino from 'pino';
import { reconcileSchedules } from '../../api/schedules/reconciler';
import { ScheduleService } from '../../api/schedules/service';
import { scriptedProcessor } from '../fixtures/scripted-processor';
import { createFlow, eventually, startTestEngine, type TestEngine } from '../support/engine';
import { unique } from '../support/fixtures';
import { createScheduledFlow, describeSchedule, scheduleIdOf, viewOf } from './helpers';

const P = `scripted-${unique()}`;
const CRON = '0 9 1 3,4,10,11 *';

/** A schedule made behind the API's back, starting runs on `taskQueue`. */
async function strayScheduled(client: Client, scheduleId: string, taskQueue: string): Promise<void> {
  await client.schedule.create({
    scheduleId,
    spec: { cronExpressions: [CRON] },
    action: { type: 'startWorkflow', workflowType: 'flowInterpreter', taskQueue, args: [] },
    state: { paused: true },
  });
}

/** A logger whose lines land in `lines`, parsed. */
function capturingLogger(lines: Array<Record<string, any>>) {
  return pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
}

const sorted = (ids: string[]) => [...ids].sort();

describe('the schedule reconciler', () => {
  let engine: TestEngine;
  let workflowId: string;
  const foreign = scheduleIdOf(randomUUID());
  before(async () => {
    engine = await startTestEngine([scriptedProcessor(P)]);
    workflowId = (await createFlow(engine.api, { A: { processor: P } })).workflowId;
  });
  after(async () => {
    await engine.client.schedule
      .getHandle(foreign)
      .delete()
      .catch(() => undefined);
    await engine.close();
  });

  it('repairs drift, deletes orphans, keeps other deployments’ schedules, and logs each change', async () => {
    const { client, api } = engine;
    const deletedBehind = await createScheduledFlow(api, workflowId, {
      cronExpression: CRON,
      isScheduleEnabled: true,
    });
    const changedBehind = await createScheduledFlow(api, workflowId, {
      cronExpression: CRON,
      timezone: 'Europe/Paris',
    });
    const intact = await createScheduledFlow(api, workflowId, {
      cronExpression: '@hourly',
      isScheduleEnabled: true,
    });
    const withoutCron = await createScheduledFlow(api, workflowId);
    const refused = await createScheduledFlow(api, workflowId);
    // Stored before the API checked cron expressions against Temporal's dialect.
    await api.prisma.orchestratedFlow.update({
      where: { id: refused.id },
      data: { cronExpression: '0 9 L * *' },
    });

    await client.schedule.getHandle(scheduleIdOf(deletedBehind.id)).delete();
    await client.schedule.getHandle(scheduleIdOf(changedBehind.id)).update((previous) => ({
      ...previous,
      spec: { cronExpressions: ['0 12 * * *'], timezone: 'UTC' },
      state: { paused: false },
    }));
    const orphan = scheduleIdOf(randomUUID());
    await strayScheduled(client, orphan, engine.taskQueue);
    const stale = scheduleIdOf(withoutCron.id);
    await strayScheduled(client, stale, `elsewhere-${unique()}`);
    await strayScheduled(client, foreign, `elsewhere-${unique()}`);
    // The reconciler finds orphans through Temporal's (eventually consistent) list.
    await eventually('the stray schedules to be listed', async () => {
      const listed = new Set<string>();
      for await (const schedule of client.schedule.list()) listed.add(schedule.scheduleId);
      return [orphan, stale, foreign].every((id) => listed.has(id)) ? true : undefined;
    });

    const schedules = new ScheduleService(api.prisma, client, engine.taskQueue);
    const lines: Array<Record<string, any>> = [];
    const report = await reconcileSchedules(api.prisma, schedules, capturingLogger(lines));
    assert.deepEqual(
      { ...report, deleted: sorted(report.deleted) },
      {
        created: [scheduleIdOf(deletedBehind.id)],
        updated: [
          { scheduleId: scheduleIdOf(changedBehind.id), aspects: ['cronExpression', 'timezone', 'paused'] },
        ],
        deleted: sorted([orphan, stale]),
        unchanged: [scheduleIdOf(intact.id)],
        failed: [
          {
            scheduleId: scheduleIdOf(refused.id),
            error: 'Temporal refused the schedule: DayOfMonth is not in range [1-31]',
          },
        ],
      },
    );
    assert.deepEqual(
      sorted(lines.filter((l) => l.level === 30).map((l) => `${l.msg}: ${l.scheduleId}`)),
      sorted([
        `reconciler created a missing schedule: ${scheduleIdOf(deletedBehind.id)}`,
        `reconciler corrected a schedule: ${scheduleIdOf(changedBehind.id)}`,
        `reconciler deleted an orphaned schedule (its flow is gone or has no cron): ${orphan}`,
        `reconciler deleted an orphaned schedule (its flow is gone or has no cron): ${stale}`,
      ]),
    );
    assert.deepEqual(
      lines.filter((l) => l.level === 50).map((l) => [l.msg, l.scheduleId]),
      [['reconciler could not fix a schedule', scheduleIdOf(refused.id)]],
    );

    // Temporal now matches the database.
    const recreated = await describeSchedule(client, deletedBehind.id);
    assert.ok(recreated);
    const view = await api.request('GET', `/api/OrchestratedFlow/${deletedBehind.id}/schedule`);
    assert.deepEqual(
      view.body,
      viewOf(deletedBehind.id, recreated, {
        cronExpression: CRON,
        timezone: 'UTC',
        overlapPolicy: 'Skip',
        catchupWindowMs: 60_000,
      }),
    );
    assert.equal(recreated.state.paused, false);
    const corrected = await describeSchedule(client, changedBehind.id);
    assert.deepEqual(
      corrected?.spec.calendars?.map((c) => c.comment),
      [CRON],
    );
    assert.equal(corrected?.spec.timezone, 'Europe/Paris');
    assert.deepEqual(corrected?.state, {
      paused: true,
      note: 'disabled through the API',
      remainingActions: undefined,
    });
    for (const gone of [orphan, stale])
      await assert.rejects(client.schedule.getHandle(gone).describe(), ScheduleNotFoundError);
    assert.equal((await client.schedule.getHandle(foreign).describe()).scheduleId, foreign);

    // A second pass finds nothing left to do but the schedule Temporal refuses.
    const again = await reconcileSchedules(api.prisma, schedules, capturingLogger([]));
    assert.deepEqual(
      { ...again, unchanged: sorted(again.unchanged) },
      {
        created: [],
        updated: [],
        deleted: [],
        unchanged: sorted([deletedBehind.id, changedBehind.id, intact.id].map(scheduleIdOf)),
        failed: report.failed,
      },
    );
  });
});
