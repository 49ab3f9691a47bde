/**
 * Run control through REST against a real Temporal dev server (issue 13): pause and resume (Temporal Updates), a stop
 * that waits for the steps that can be told, and reruns from the failed step or a chosen one, on the recorded or the
 * current definition.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunListItem } from '../../api/orchestration/run-status';
import { runView } from '../../api/orchestration/schemas';
import type { RunSummary } from '../../domain/flow-types';
import { abortsSeen, callsSeen, outages, scriptedProcessor } from '../fixtures/scripted-processor';
import { assertError, ISO_TIMESTAMP } from '../support/assertions';
import {
  createFlow,
  eventually,
  startRun,
  startTestEngine,
  stepNamed,
  waitForRun,
  type StepSpec,
  type TestEngine,
} from '../support/engine';
import { unique } from '../support/fixtures';

const P = `control-${unique()}`;
/** Heartbeats at least every 2.4 s (0.8 × its heartbeat timeout): a stop reaches it soon, and a loaded machine does not time it out. */
const slow = (delayMs: number, more: Partial<StepSpec> = {}): StepSpec => ({
  processor: P,
  configuration: { delayMs },
  timeouts: { heartbeatMs: 3_000 },
  ...more,
});
const ok = (more: Partial<StepSpec> = {}): StepSpec => ({ processor: P, ...more });

describe('run control through Temporal', () => {
  let engine: TestEngine;
  before(async () => {
    engine = await startTestEngine([scriptedProcessor(P)]);
  });
  after(() => engine.close());

  const status = (flowId: string) =>
    engine.api.request<RunSummary>('GET', `/api/Orchestration/status/${flowId}`);
  const pause = (flowId: string, body: unknown = {}, query = '') =>
    engine.api.request<RunSummary>('POST', `/api/Orchestration/pause/${flowId}${query}`, body);
  const resume = (flowId: string, query = '') =>
    engine.api.request<RunSummary>('POST', `/api/Orchestration/resume/${flowId}${query}`, {});
  const rerun = (flowId: string, runId: string, body: unknown = {}) =>
    engine.api.request('POST', `/api/Orchestration/rerun/${flowId}/${runId}`, body);
  /** The calls of one run, as `stepName` (items as `stepName[index]`), in the order they started. */
  const callsOf = (runId: string) =>
    callsSeen.filter((c) => c.startsWith(`${runId}/`)).map((c) => c.slice(runId.length + 1));
  const stateWhere = (flowId: string, what: string, test: (summary: RunSummary) => boolean) =>
    eventually(what, async () => {
      const response = await status(flowId);
      return response.status === 200 && test(response.body) ? response.body : undefined;
    });

  it('pauses a run mid-way: the running step finishes, nothing new starts; resumed, it completes with no step run twice', async () => {
    const flow = await createFlow(engine.api, {
      A: slow(1_500, { next: ['B'] }),
      B: ok({ next: ['C'] }),
      C: slow(2_000),
    });
    const started = await startRun(engine.api, flow.flowId, { order: 1 });
    await stateWhere(flow.flowId, 'A running', (s) => stepNamed(s, 'A').status === 'Running');

    const paused = await pause(flow.flowId, { reason: 'partner maintenance' });
    assert.equal(paused.status, 200, JSON.stringify(paused.body));
    assert.equal(paused.body.status, 'Paused');
    assert.equal(paused.body.runId, started.runId);
    assert.equal(paused.body.paused?.by, 'test-editor');
    assert.equal(paused.body.paused?.reason, 'partner maintenance');
    assert.match(paused.body.paused?.at ?? '', ISO_TIMESTAMP);
    runView.parse(paused.body);

    // A finishes and is recorded; B is decided but does not start while the run is paused.
    const held = await stateWhere(flow.flowId, 'A recorded', (s) => stepNamed(s, 'A').status === 'Succeeded');
    assert.equal(held.status, 'Paused');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const still = (await status(flow.flowId)).body;
    assert.equal(still.status, 'Paused');
    assert.equal(stepNamed(still, 'B').status, 'Pending');
    assert.deepEqual(callsOf(started.runId), ['A']);

    assertError(await pause(flow.flowId), 409, 'AlreadyPaused', [{ field: 'runId', rule: 'notPaused' }]);
    // The runs listing (Temporal's visibility store) says Paused too.
    await eventually('the listing to say Paused', async () => {
      const runs = await engine.api.request<RunListItem[]>('GET', `/api/Orchestration/runs/${flow.flowId}`);
      return runs.body[0]?.status === 'Paused' ? true : undefined;
    });

    const resumed = await resume(flow.flowId, `?runId=${started.runId}`);
    assert.equal(resumed.status, 200, JSON.stringify(resumed.body));
    assert.equal(resumed.body.status, 'Running');
    assert.equal(resumed.body.paused, undefined);
    await eventually('the listing to say Running again', async () => {
      const runs = await engine.api.request<RunListItem[]>('GET', `/api/Orchestration/runs/${flow.flowId}`);
      return runs.body[0]?.status === 'Running' ? true : undefined;
    });
    const done = await waitForRun(engine.api, flow.flowId);
    assert.equal(done.status, 'Completed');
    assert.deepEqual(callsOf(started.runId), ['A', 'B', 'C']);
    await eventually('the listing to say Completed', async () => {
      const runs = await engine.api.request<RunListItem[]>('GET', `/api/Orchestration/runs/${flow.flowId}`);
      return runs.body[0]?.status === 'Completed' ? true : undefined;
    });

    assertError(await resume(flow.flowId, `?runId=${started.runId}`), 409, 'RunClosed', [
      { field: 'runId', rule: 'open' },
    ]);
    assertError(await pause(flow.flowId), 404, 'NoOpenRun');
  });

  it('refuses to resume a run that is not paused, and a viewer may not pause', async () => {
    const flow = await createFlow(engine.api, { Long: slow(5_000) });
    await startRun(engine.api, flow.flowId);
    await stateWhere(flow.flowId, 'Long running', (s) => stepNamed(s, 'Long').status === 'Running');
    assertError(await resume(flow.flowId), 409, 'NotPaused', [{ field: 'runId', rule: 'paused' }]);
    const denied = await engine.api
      .as('viewer')
      .request('POST', `/api/Orchestration/pause/${flow.flowId}`, {});
    assertError(denied, 403, 'Forbidden');
    assertError(await pause(flow.flowId, { reason: 7 }), 400, 'ValidationFailed', [
      { field: 'reason', rule: 'type' },
    ]);
    assertError(await pause(flow.flowId, {}, '?runId=nope'), 400, 'ValidationFailed', [
      { field: 'query.runId', rule: 'guid' },
    ]);
    await engine.api.request('POST', `/api/Orchestration/stop/${flow.flowId}`);
    assert.equal((await waitForRun(engine.api, flow.flowId)).status, 'Cancelled');
  });

  it('a pause outlives an orchestrator restart: it is workflow state', async () => {
    const flow = await createFlow(engine.api, { Before: slow(600, { next: ['After'] }), After: ok() });
    const started = await startRun(engine.api, flow.flowId);
    await stateWhere(flow.flowId, 'Before running', (s) => stepNamed(s, 'Before').status === 'Running');
    assert.equal((await pause(flow.flowId, { reason: 'restart' })).status, 200);
    await engine.restartOrchestrator();
    // The new worker rebuilt the run from its history: still paused, by the same caller, After not started.
    const rebuilt = await stateWhere(
      flow.flowId,
      'Before recorded',
      (s) => stepNamed(s, 'Before').status === 'Succeeded',
    );
    assert.deepEqual(
      [rebuilt.status, rebuilt.paused?.by, rebuilt.paused?.reason],
      ['Paused', 'test-editor', 'restart'],
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(stepNamed((await status(flow.flowId)).body, 'After').status, 'Pending');
    assert.equal((await resume(flow.flowId)).status, 200);
    assert.equal((await waitForRun(engine.api, flow.flowId)).status, 'Completed');
    assert.deepEqual(callsOf(started.runId), ['Before', 'After']);
  });

  it('stops a paused run: Cancelled, the undecided steps with why', async () => {
    const flow = await createFlow(engine.api, { First: slow(800, { next: ['Second'] }), Second: ok() });
    const started = await startRun(engine.api, flow.flowId);
    await stateWhere(flow.flowId, 'First running', (s) => stepNamed(s, 'First').status === 'Running');
    assert.equal((await pause(flow.flowId)).status, 200);
    await stateWhere(flow.flowId, 'First recorded', (s) => stepNamed(s, 'First').status === 'Succeeded');
    const stopped = await engine.api.request('POST', `/api/Orchestration/stop/${flow.flowId}`);
    assert.equal(stopped.status, 200, JSON.stringify(stopped.body));
    const run = await waitForRun(engine.api, flow.flowId);
    assert.equal(run.status, 'Cancelled');
    assert.equal(stepNamed(run, 'First').status, 'Succeeded');
    assert.equal(stepNamed(run, 'Second').status, 'Cancelled');
    assert.deepEqual(callsOf(started.runId), ['First']);
  });

  it('a stop waits for a step that heartbeats to acknowledge, and abandons at once one that cannot be told', async () => {
    const flow = await createFlow(engine.api, {
      Told: slow(30_000),
      Untold: { processor: P, configuration: { delayMs: 30_000 } },
    });
    await startRun(engine.api, flow.flowId);
    await stateWhere(flow.flowId, 'both running', (s) => s.currentSteps.length === 2);
    const stopped = await engine.api.request('POST', `/api/Orchestration/stop/${flow.flowId}`);
    assert.equal(stopped.status, 200, JSON.stringify(stopped.body));
    const run = await waitForRun(engine.api, flow.flowId);
    assert.equal(run.status, 'Cancelled');
    // The run closed only after Told's processor saw the cancellation.
    assert.ok(abortsSeen.includes('Told'), `aborts seen: ${abortsSeen.join(', ')}`);
    assert.deepEqual(
      { status: stepNamed(run, 'Told').status, reason: stepNamed(run, 'Told').reason },
      { status: 'Cancelled', reason: 'the run was stopped; the processor acknowledged the cancellation' },
    );
    assert.equal(stepNamed(run, 'Untold').status, 'Cancelled');
    assert.match(stepNamed(run, 'Untold').reason ?? '', /^abandoned: .*no heartbeat timeout/);
  });

  describe('rerun', () => {
    const partner = `partner-${unique()}`;
    /** Five steps in a chain; the fourth calls a partner that may be down. */
    const chain = (): Record<string, StepSpec> => ({
      S1: ok({ next: ['S2'], configuration: { output: { reserved: 1 } } }),
      S2: ok({ next: ['S3'] }),
      S3: ok({ next: ['S4'] }),
      S4: ok({ next: ['S5'], configuration: { partner } }),
      S5: ok(),
    });

    it('reruns a run that failed at step 4 of 5 without calling steps 1-3 again, and lists it as a rerun', async () => {
      const flow = await createFlow(engine.api, chain());
      outages.add(partner);
      const first = await startRun(engine.api, flow.flowId, { order: 7 });
      const failed = await waitForRun(engine.api, flow.flowId);
      assert.equal(failed.status, 'Failed');
      assert.equal(stepNamed(failed, 'S4').error?.message, `partner ${partner} is down`);
      assert.deepEqual(callsOf(first.runId), ['S1', 'S2', 'S3', 'S4']);

      outages.delete(partner);
      const response = await rerun(flow.flowId, first.runId);
      assert.equal(response.status, 202, JSON.stringify(response.body));
      assert.deepEqual(
        { ...response.body, runId: undefined, startedAt: undefined, correlationId: undefined },
        {
          message: 'Rerun started',
          orchestratedFlowId: flow.flowId,
          workflowId: failed.workflowId,
          runId: undefined,
          correlationId: undefined,
          startedAt: undefined,
          rerunOf: { workflowId: failed.workflowId, runId: first.runId },
          reused: ['S1', 'S2', 'S3'],
          rerun: ['S4', 'S5'],
        },
      );
      const again = await waitForRun(engine.api, flow.flowId);
      assert.equal(again.runId, response.body.runId);
      assert.equal(again.status, 'Completed');
      assert.equal(again.trigger, 'rerun');
      assert.deepEqual(again.rerunOf, { workflowId: failed.workflowId, runId: first.runId });
      assert.deepEqual(callsOf(again.runId), ['S4', 'S5']);
      for (const name of ['S1', 'S2', 'S3']) {
        const step = stepNamed(again, name);
        assert.equal(step.status, 'Succeeded');
        assert.deepEqual(step.reusedFrom, { workflowId: failed.workflowId, runId: first.runId });
        assert.deepEqual(
          [step.decision?.outcome, step.decision?.reason],
          ['Reused', `reused: Succeeded in run ${first.runId}`],
        );
      }
      // The reused outputs flow on: S2 got S1's recorded output in the first run, S4 gets S3's now.
      assert.deepEqual(stepNamed(again, 'S1').output, { reserved: 1 });
      assert.deepEqual(
        (stepNamed(again, 'S4').output as { input: unknown }).input,
        stepNamed(failed, 'S3').output,
      );
      runView.parse(again);

      const listed = await eventually('the rerun listed', async () => {
        const runs = await engine.api.request<RunListItem[]>('GET', `/api/Orchestration/runs/${flow.flowId}`);
        return runs.body.length === 2 && runs.body.every((r) => r.status !== 'Running')
          ? runs.body
          : undefined;
      });
      assert.deepEqual(
        listed.map((r) => [r.runId, r.trigger, r.rerunOf]),
        [
          [again.runId, 'rerun', { workflowId: failed.workflowId, runId: first.runId }],
          [first.runId, 'manual', undefined],
        ],
      );
      assertError(await rerun(flow.flowId, again.runId), 409, 'NothingToRerun', [
        { field: 'fromStepId', rule: 'required' },
      ]);
    });

    it('reruns from a chosen step: it and everything downstream run again', async () => {
      const flow = await createFlow(engine.api, chain());
      const first = await startRun(engine.api, flow.flowId);
      assert.equal((await waitForRun(engine.api, flow.flowId)).status, 'Completed');
      const response = await rerun(flow.flowId, first.runId, {
        fromStepId: flow.stepIds.S2,
        input: { fresh: true },
      });
      assert.equal(response.status, 202, JSON.stringify(response.body));
      assert.deepEqual([response.body.reused, response.body.rerun], [['S1'], ['S2', 'S3', 'S4', 'S5']]);
      const again = await waitForRun(engine.api, flow.flowId);
      assert.equal(again.status, 'Completed');
      assert.deepEqual(again.rerunOf, {
        workflowId: again.workflowId,
        runId: first.runId,
        fromStepId: flow.stepIds.S2,
      });
      assert.deepEqual(callsOf(again.runId), ['S2', 'S3', 'S4', 'S5']);
      const input = await engine.api.request(
        'GET',
        `/api/Orchestration/runs/${flow.flowId}/${again.runId}/input`,
      );
      assert.deepEqual(input.body, { fresh: true });
    });

    it('keeps to the recorded definition, and takes the current one only when the reused steps did not change', async () => {
      const flow = await createFlow(engine.api, chain());
      outages.add(partner);
      const first = await startRun(engine.api, flow.flowId);
      assert.equal((await waitForRun(engine.api, flow.flowId)).status, 'Failed');
      outages.delete(partner);

      // S1 (reused) changes: the current definition cannot take the recorded S1.
      const s1 = await engine.api.request('GET', `/api/Step/${flow.stepIds.S1}`);
      const changed = await engine.api.request('PUT', `/api/Step/${flow.stepIds.S1}`, {
        ...Object.fromEntries(
          Object.entries(s1.body as Record<string, unknown>).filter(([k]) =>
            [
              'version',
              'name',
              'description',
              'processorId',
              'nextStepIds',
              'entryCondition',
              'retryPolicy',
              'timeouts',
            ].includes(k),
          ),
        ),
        configuration: { output: { reserved: 2 } },
      });
      assert.equal(changed.status, 204, JSON.stringify(changed.body));
      assertError(
        await rerun(flow.flowId, first.runId, { definition: 'current' }),
        409,
        'DefinitionChanged',
        [{ field: 'definition', rule: 'reusedStepsUnchanged' }],
      );
      assertError(await rerun(flow.flowId, first.runId, { definition: 'newest' }), 400, 'ValidationFailed', [
        { field: 'definition', rule: 'oneOf' },
      ]);
      assertError(
        // Another ID: the last digit changed (to '0' it would be the same ID one time in sixteen).
        await rerun(flow.flowId, first.runId, {
          fromStepId: flow.stepIds.S1!.replace(/.$/, (last) => (last === '0' ? '1' : '0')),
        }),
        422,
        'UnknownStep',
        [{ field: 'fromStepId', rule: 'stepOfRun' }],
      );

      // The recorded definition still repairs the run; it is the same snapshot (hash) the first run ran.
      const response = await rerun(flow.flowId, first.runId);
      assert.equal(response.status, 202, JSON.stringify(response.body));
      const again = await waitForRun(engine.api, flow.flowId);
      assert.equal(again.status, 'Completed');
      const original = await engine.api.request<RunSummary>(
        'GET',
        `/api/Orchestration/runs/${flow.flowId}/${first.runId}`,
      );
      assert.equal(again.definition?.hash, original.body.definition?.hash);

      // Rerun from S1 on the current definition: nothing reused, so nothing can have changed.
      const current = await rerun(flow.flowId, again.runId, {
        fromStepId: flow.stepIds.S1,
        definition: 'current',
      });
      assert.equal(current.status, 202, JSON.stringify(current.body));
      const third = await waitForRun(engine.api, flow.flowId);
      assert.deepEqual(stepNamed(third, 'S1').output, { reserved: 2 });
      assert.notEqual(third.definition?.hash, original.body.definition?.hash);
    });

    it('refuses to rerun an open run', async () => {
      const flow = await createFlow(engine.api, { Long: slow(5_000) });
      const started = await startRun(engine.api, flow.flowId);
      assertError(await rerun(flow.flowId, started.runId), 409, 'RunStillOpen', [
        { field: 'runId', rule: 'closed' },
      ]);
      await engine.api.request('POST', `/api/Orchestration/stop/${flow.flowId}`);
      await waitForRun(engine.api, flow.flowId);
    });
  });
});
