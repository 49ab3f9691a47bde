/**
 * Retention of step data: the cleanup deletes the blobs of runs closed more than the retention period ago (its
 * clock comes from its input: "8 days later" without waiting 8 days), keeps those of open runs; the daily schedule
 * is ensured idempotently.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { delayProcessor, transformProcessor } from '../../activities/processors';
import type { RetentionReport } from '../../activities/data/retention';
import { ensureRetentionSchedule, RETENTION_WORKFLOW_TYPE } from '../../api/schedules/retention';
import { assertError } from '../support/assertions';
import { testCodec } from '../support/codec';
import {
  createFlow,
  runFlow,
  startRun,
  startTestEngine,
  stepNamed,
  waitForRun,
  type TestEngine,
} from '../support/engine';
import { eventually } from '../support/flows';
import { unique } from '../support/fixtures';
import type { RunSummary } from '../../domain/flow-types';

const DAY_MS = 24 * 60 * 60 * 1000;
const transform = { ...transformProcessor, name: `transform-${unique()}` };
const delay = { ...delayProcessor, name: `delay-${unique()}` };
const large = (fill: string) => ({
  processor: transform.name,
  configuration: { expression: `{ "blob": $pad("", 200000, "${fill}") }` },
});

describe('step data retention', () => {
  let engine: TestEngine;

  before(async () => {
    engine = await startTestEngine([transform, delay]);
  });
  after(() => engine?.close());

  const cleanup = (now: Date) =>
    engine.client.workflow.execute<
      (input: { retentionDays: number; now: string }) => Promise<RetentionReport>
    >(RETENTION_WORKFLOW_TYPE, {
      taskQueue: engine.taskQueue,
      workflowId: `retention-${randomUUID()}`,
      args: [{ retentionDays: 7, now: now.toISOString() }],
    });
  const outputHref = (run: RunSummary, name: string) =>
    (stepNamed(run, name).output as { href: string }).href;

  it("deletes a closed run's data once the period has passed, and never an open run's", async () => {
    const done = await createFlow(engine.api, { Made: large('d') });
    const finished = await runFlow(engine.api, done.flowId, {});
    assert.equal(finished.status, 'Completed');
    const open = await createFlow(engine.api, {
      First: { ...large('o'), next: ['Waiting'] },
      Waiting: { processor: delay.name, configuration: { durationMs: 60_000 } },
    });
    await startRun(engine.api, open.flowId);
    const running = await eventually('the open run to reach Waiting', async () => {
      const status = await engine.api.request<RunSummary>('GET', `/api/Orchestration/status/${open.flowId}`);
      return status.body.steps?.find((s) => s.name === 'Waiting')?.status === 'Running'
        ? status.body
        : undefined;
    });

    const today = await cleanup(new Date());
    assert.equal(today.blobsDeleted, 0, 'nothing is old enough yet');
    assert.equal((await engine.api.request('GET', outputHref(finished, 'Made'))).status, 200);

    const later = await cleanup(new Date(Date.now() + 8 * DAY_MS));
    assert.ok(later.blobsDeleted >= 1, JSON.stringify(later));
    assertError(await engine.api.request('GET', outputHref(finished, 'Made')), 404, 'DataExpired');
    const kept = await engine.api.request('GET', outputHref(running, 'First'));
    assert.equal(kept.status, 200, 'the open run keeps its data');
    assert.equal(kept.body.blob.length, 200_000);

    assert.equal((await engine.api.request('POST', `/api/Orchestration/stop/${open.flowId}`)).status, 200);
    await waitForRun(engine.api, open.flowId);
  });

  it('ensures the daily schedule idempotently, with the current retention period', async () => {
    const scheduleId = `retention-test-${randomUUID()}`;
    const ensure = (retentionDays: number) =>
      ensureRetentionSchedule({
        connection: engine.client.connection,
        namespace: 'default',
        codec: testCodec(),
        taskQueue: engine.taskQueue,
        retentionDays,
        scheduleId,
      });
    try {
      assert.equal(await ensure(7), 'created');
      assert.equal(await ensure(30), 'updated');
      const description = await engine.client.schedule.getHandle(scheduleId).describe();
      assert.equal(description.action.type, 'startWorkflow');
      assert.equal(description.action.workflowType, RETENTION_WORKFLOW_TYPE);
      assert.deepEqual(description.action.args, [{ retentionDays: 30 }]);
      assert.equal(description.spec.intervals?.[0]?.every, 24 * 60 * 60 * 1000);
    } finally {
      await engine.client.schedule.getHandle(scheduleId).delete();
    }
  });
});
