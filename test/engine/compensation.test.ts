/**
 * Compensation (saga) through a real Temporal dev server (issue 13 §5): after a failure, or a stop that asks for it,
 * the compensations of the succeeded steps run newest completion first, each with the step's input and output and
 * the run's error; a failing one is retried by its processor's policy, reported, and does not stop the others.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runView } from '../../api/orchestration/schemas';
import type { CompensationInput, RunSummary } from '../../domain/flow-types';
import { invocationsSeen, outages, scriptedProcessor } from '../fixtures/scripted-processor';
import {
  createFlow,
  eventually,
  runFlow,
  startRun,
  startTestEngine,
  stepNamed,
  waitForRun,
  type StepSpec,
  type TestEngine,
} from '../support/engine';
import { unique } from '../support/fixtures';

const P = `saga-${unique()}`;
/** The compensations' processor: it undoes; fast retries so a flaky undo is retried quickly. */
const UNDO = `undo-${unique()}`;

describe('compensation through Temporal', () => {
  let engine: TestEngine;
  before(async () => {
    engine = await startTestEngine([
      scriptedProcessor(P),
      scriptedProcessor(UNDO, {
        defaults: { retryPolicy: { maximumAttempts: 3, initialIntervalMs: 50, backoffCoefficient: 1 } },
      }),
    ]);
  });
  after(() => engine.close());

  const partner = `shipping-${unique()}`;
  /** An order: reserve stock, charge the card, notify (nothing to undo), ship through a partner that may be down. */
  const order = (
    undo: { reserve?: Record<string, unknown>; charge?: Record<string, unknown> } = {},
    ship: StepSpec['configuration'] = { partner },
  ): Record<string, StepSpec> => ({
    Reserve: {
      processor: P,
      configuration: { output: { reservation: 'r-1' } },
      compensation: { processor: UNDO, configuration: { output: 'released', ...undo.reserve } },
      next: ['Charge'],
    },
    Charge: {
      processor: P,
      configuration: { output: { charge: 'ch-9' } },
      compensation: { processor: UNDO, configuration: { output: 'refunded', ...undo.charge } },
      next: ['Notify'],
    },
    Notify: { processor: P, next: ['Ship'] },
    Ship: { processor: P, configuration: ship, timeouts: { heartbeatMs: 1_000 } },
  });
  const undone = (runId: string) =>
    invocationsSeen.filter((i) => i.runId === runId && i.processor === `${UNDO}@1.0.0`);

  it('undoes the charge, then the reservation, after the run fails; status shows both', async () => {
    const flow = await createFlow(engine.api, order());
    outages.add(partner);
    try {
      const run = await runFlow(engine.api, flow.flowId, { cart: 3 });
      assert.equal(run.status, 'Failed');
      assert.ok(run.completedAt);
      assert.deepEqual(
        run.compensation && {
          status: run.compensation.status,
          steps: run.compensation.steps.map((s) => [s.name, s.status, s.attempts]),
        },
        {
          status: 'Completed',
          steps: [
            ['Charge', 'Succeeded', 1],
            ['Reserve', 'Succeeded', 1],
          ],
        },
      );
      runView.parse(run);
      // Each compensation received the step's input and output, and why the run failed.
      const calls = undone(run.runId);
      assert.deepEqual(
        calls.map((c) => c.step),
        ['Charge', 'Reserve'],
      );
      const charge = calls[0]!.input as CompensationInput;
      assert.deepEqual(charge.output, { charge: 'ch-9' });
      assert.deepEqual(charge.input, { reservation: 'r-1' });
      assert.deepEqual(charge.error, { message: 'Unhandled step failure: "Ship"', type: 'FlowFailed' });
      assert.deepEqual((calls[1]!.input as CompensationInput).input, { cart: 3 });
    } finally {
      outages.delete(partner);
    }
  });

  it('a compensation that keeps failing is reported, and the others still run; a flaky one is retried', async () => {
    const flow = await createFlow(
      engine.api,
      order({ charge: { fail: true, nonRetryable: true }, reserve: { failTimes: 1 } }),
    );
    outages.add(partner);
    try {
      const run = await runFlow(engine.api, flow.flowId, {});
      assert.equal(run.status, 'Failed');
      const [charge, reserve] = run.compensation?.steps ?? [];
      assert.equal(run.compensation?.status, 'Failed');
      assert.deepEqual(
        [charge?.name, charge?.status, charge?.error?.type],
        ['Charge', 'Failed', 'Permanent'],
      );
      assert.deepEqual([reserve?.name, reserve?.status, reserve?.attempts], ['Reserve', 'Succeeded', 2]);
    } finally {
      outages.delete(partner);
    }
  });

  it('a stop with compensate=true undoes what succeeded, and the run stays Cancelled', async () => {
    const flow = await createFlow(engine.api, order({}, { delayMs: 30_000 }));
    const started = await startRun(engine.api, flow.flowId, {});
    await eventually('Ship running', async () => {
      const status = await engine.api.request<RunSummary>('GET', `/api/Orchestration/status/${flow.flowId}`);
      return status.body.steps?.find((s) => s.name === 'Ship')?.status === 'Running' ? true : undefined;
    });
    const stopped = await engine.api.request(
      'POST',
      `/api/Orchestration/stop/${flow.flowId}?compensate=true`,
    );
    assert.equal(stopped.status, 200, JSON.stringify(stopped.body));
    const run = await waitForRun(engine.api, flow.flowId);
    assert.equal(run.status, 'Cancelled');
    assert.equal(stepNamed(run, 'Ship').status, 'Cancelled');
    assert.deepEqual(
      run.compensation?.steps.map((s) => [s.name, s.status]),
      [
        ['Charge', 'Succeeded'],
        ['Reserve', 'Succeeded'],
      ],
    );
    assert.deepEqual(
      undone(started.runId).map((c) => (c.input as CompensationInput).error),
      [
        { message: 'the run was stopped', type: 'Cancelled' },
        { message: 'the run was stopped', type: 'Cancelled' },
      ],
    );
  });

  it('a plain stop, and a run that completes, compensate nothing', async () => {
    const flow = await createFlow(engine.api, order({}, {}));
    const run = await runFlow(engine.api, flow.flowId, {});
    assert.equal(run.status, 'Completed');
    assert.equal(run.compensation, undefined);
    assert.deepEqual(undone(run.runId), []);

    const slow = await createFlow(engine.api, order({}, { delayMs: 30_000 }));
    const started = await startRun(engine.api, slow.flowId, {});
    await eventually('Ship running', async () => {
      const status = await engine.api.request<RunSummary>('GET', `/api/Orchestration/status/${slow.flowId}`);
      return status.body.steps?.find((s) => s.name === 'Ship')?.status === 'Running' ? true : undefined;
    });
    await engine.api.request('POST', `/api/Orchestration/stop/${slow.flowId}`);
    const cancelled = await waitForRun(engine.api, slow.flowId);
    assert.equal(cancelled.status, 'Cancelled');
    assert.equal(cancelled.compensation, undefined);
    assert.deepEqual(undone(started.runId), []);
    const refused = await engine.api.request(
      'POST',
      `/api/Orchestration/stop/${slow.flowId}?compensate=true&terminate=true`,
    );
    assert.equal(refused.status, 400, JSON.stringify(refused.body));
    assert.deepEqual(
      (refused.body as { details: Array<{ field: string; rule: string }> }).details.map((d) => [
        d.field,
        d.rule,
      ]),
      [['compensate', 'notWithTerminate']],
    );
  });
});
