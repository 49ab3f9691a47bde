/**
 * The interpreter's semantics (DESIGN.md §4), case by case, through REST against a real Temporal dev server: entry
 * conditions over succeeded / failed / skipped predecessors, joins, skip propagation, handled and unhandled
 * failures, data passing and concurrency. Independent flows of a test run concurrently.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runListItemView, runView } from '../../api/orchestration/schemas';
import type { RunSummary } from '../../domain/flow-types';
import { scriptedProcessor, type Echo } from '../fixtures/scripted-processor';
import { ISO_TIMESTAMP } from '../support/assertions';
import {
  createFlow,
  runFlow,
  startRun,
  startTestEngine,
  statusesByName,
  stepNamed,
  waitForRun,
  type StepSpec,
  type TestEngine,
} from '../support/engine';
import { create, unique } from '../support/fixtures';

const P = `scripted-${unique()}`;
const fast = { maximumAttempts: 2, initialIntervalMs: 50 };
/** A step that succeeds with `output`. */
const ok = (output: unknown, more: Partial<StepSpec> = {}): StepSpec => ({
  processor: P,
  configuration: { output },
  ...more,
});
/** A step that fails at once (non-retryable). */
const boom = (more: Partial<StepSpec> = {}): StepSpec => ({
  processor: P,
  configuration: { fail: true, nonRetryable: true },
  ...more,
});
/** A step that outputs everything it received. */
const echo = (more: Partial<StepSpec> = {}): StepSpec => ({
  processor: P,
  configuration: { echo: true },
  ...more,
});
const PERMANENT = { message: 'scripted permanent failure', type: 'Permanent' };

/** `{ name: "Status" }`, or `"Skipped: reason"` for skipped and cancelled steps. */
function outcomes(summary: RunSummary): Record<string, string> {
  return Object.fromEntries(
    summary.steps.map((s) => [s.name, s.reason === undefined ? s.status : `${s.status}: ${s.reason}`]),
  );
}

describe('interpreter semantics through Temporal', () => {
  let engine: TestEngine;
  before(async () => {
    engine = await startTestEngine([scriptedProcessor(P)]);
  });
  after(() => engine.close());

  /** Creates each flow, runs them all concurrently, and returns their summaries in the same order. */
  const runAll = (flows: Array<Record<string, StepSpec>>, input?: unknown) =>
    Promise.all(
      flows.map(async (steps) => runFlow(engine.api, (await createFlow(engine.api, steps)).flowId, input)),
    );

  it('runs a chain, passing each output to the next step', async () => {
    const flow = await createFlow(engine.api, {
      A: { processor: P, next: ['B'], configuration: { output: { n: 1 } } },
      B: { processor: P },
    });
    const summary = await runFlow(engine.api, flow.flowId, { hello: 'world' });
    assert.equal(summary.status, 'Completed');
    assert.deepEqual(statusesByName(summary), { A: 'Succeeded', B: 'Succeeded' });
    const b = summary.steps.find((s) => s.name === 'B')!;
    assert.deepEqual(b.output, { step: 'B', input: { n: 1 }, previous: ['A:Succeeded'] });
    assert.equal(summary.completedSteps, 2);
    assert.equal(summary.totalSteps, 2);
    assert.deepEqual(summary.currentSteps, []);
  });

  it('handles a failure with a PreviousFailure step and skips the success path', async () => {
    const flow = await createFlow(engine.api, {
      Fetch: { processor: P, next: ['Parse', 'Alert'], configuration: { fail: true }, retryPolicy: fast },
      Parse: { processor: P },
      Alert: { processor: P, entryCondition: 'PreviousFailure' },
    });
    const summary = await runFlow(engine.api, flow.flowId);
    assert.equal(summary.status, 'Completed');
    assert.deepEqual(statusesByName(summary), { Fetch: 'Failed', Parse: 'Skipped', Alert: 'Succeeded' });
    const parse = summary.steps.find((s) => s.name === 'Parse')!;
    assert.equal(parse.reason, 'PreviousSuccess not met: "Fetch" Failed');
    const fetch = summary.steps.find((s) => s.name === 'Fetch')!;
    assert.equal(fetch.attempts, 2);
    assert.equal(fetch.error?.message, 'scripted failure');
    assert.deepEqual(runView.parse(summary), summary, 'the answer is what OpenAPI documents');
    const runs = await engine.api.request<unknown[]>('GET', `/api/Orchestration/runs/${flow.flowId}`);
    assert.equal(runs.body.length, 1);
    assert.deepEqual(runListItemView.parse(runs.body[0]), runs.body[0]);
    // The decision trace: each step's condition, its predecessors as they were when it was decided, and why.
    const fetched = [{ stepId: fetch.stepId, name: 'Fetch', status: 'Failed' }];
    assert.deepEqual(
      summary.steps.map((s) => ({ name: s.name, ...s.decision })),
      [
        {
          name: 'Fetch',
          condition: 'PreviousSuccess',
          predecessors: [],
          outcome: 'Run',
          reason: 'entry point: no previous step, the start counts as a success',
        },
        {
          name: 'Parse',
          condition: 'PreviousSuccess',
          predecessors: fetched,
          outcome: 'Skipped',
          reason: 'PreviousSuccess not met: "Fetch" Failed',
        },
        {
          name: 'Alert',
          condition: 'PreviousFailure',
          predecessors: fetched,
          outcome: 'Run',
          reason: 'PreviousFailure met: "Fetch" Failed',
        },
      ],
    );
  });

  it('evaluates each condition after a succeeded, a failed and a skipped predecessor', async () => {
    const childrenOf = (predecessor: StepSpec): Record<string, StepSpec> => ({
      P: { ...predecessor, next: ['OnSuccess', 'OnFailure', 'Always', 'Never'] },
      OnSuccess: ok('s', { entryCondition: 'PreviousSuccess' }),
      OnFailure: ok('f', { entryCondition: 'PreviousFailure' }),
      Always: ok('a', { entryCondition: 'Always' }),
      Never: ok('n', { entryCondition: 'Never' }),
    });
    const [succeeded, failed, skipped] = await runAll([
      childrenOf(ok('p')),
      childrenOf(boom()),
      childrenOf(ok('p', { entryCondition: 'Never' })),
    ]);

    assert.equal(succeeded!.status, 'Completed');
    assert.deepEqual(outcomes(succeeded!), {
      P: 'Succeeded',
      OnSuccess: 'Succeeded',
      OnFailure: 'Skipped: PreviousFailure not met: no predecessor failed ("P" Succeeded)',
      Always: 'Succeeded',
      Never: 'Skipped: entry condition Never',
    });

    // The failure is handled (OnFailure and Always ran on account of it): the run completes.
    assert.equal(failed!.status, 'Completed');
    assert.equal(failed!.unhandledFailures, undefined);
    assert.deepEqual(outcomes(failed!), {
      P: 'Failed',
      OnSuccess: 'Skipped: PreviousSuccess not met: "P" Failed',
      OnFailure: 'Succeeded',
      Always: 'Succeeded',
      Never: 'Skipped: entry condition Never',
    });
    assert.deepEqual(stepNamed(failed!, 'P').error, PERMANENT);

    // A skipped predecessor does not count: whatever the condition, no predecessor ran.
    assert.equal(skipped!.status, 'Completed');
    assert.deepEqual(outcomes(skipped!), {
      P: 'Skipped: entry condition Never',
      OnSuccess: 'Skipped: no predecessor ran: "P" Skipped',
      OnFailure: 'Skipped: no predecessor ran: "P" Skipped',
      Always: 'Skipped: no predecessor ran: "P" Skipped',
      Never: 'Skipped: no predecessor ran: "P" Skipped',
    });
    assert.equal(skipped!.completedSteps, 5);
    // Skipped steps never started: no attempts, no start time, but a decision time.
    for (const step of skipped!.steps) {
      assert.equal(step.attempts, 0, step.name);
      assert.equal(step.startedAt, undefined, step.name);
      assert.match(step.completedAt ?? '', ISO_TIMESTAMP, step.name);
    }
  });

  it('treats the start as a success for entry points of each condition', async () => {
    const [summary] = await runAll(
      [
        {
          OnSuccess: echo({ entryCondition: 'PreviousSuccess' }),
          OnFailure: echo({ entryCondition: 'PreviousFailure' }),
          Always: echo({ entryCondition: 'Always' }),
          Never: echo({ entryCondition: 'Never' }),
        },
      ],
      { order: 7 },
    );
    assert.equal(summary!.status, 'Completed');
    assert.deepEqual(outcomes(summary!), {
      OnSuccess: 'Succeeded',
      OnFailure: 'Skipped: PreviousFailure not met: no previous step, the start counts as a success',
      Always: 'Succeeded',
      Never: 'Skipped: entry condition Never',
    });
    for (const name of ['OnSuccess', 'Always']) {
      const output = stepNamed(summary!, name).output as Echo;
      assert.deepEqual(output.input, { order: 7 }, name);
      assert.deepEqual(output.previous, [], name);
    }
  });

  it('decides joins once all predecessors are decided, and passes them an object keyed by step name', async () => {
    const [allSucceeded, successJoin, failureJoin, alwaysJoin, failureJoinNoFailure] = await runAll([
      { A: ok({ a: 1 }, { next: ['J'] }), B: ok({ b: 2 }, { next: ['J'] }), J: echo() },
      { A: ok({ a: 1 }, { next: ['J'] }), B: boom({ next: ['J'] }), J: echo() },
      {
        A: ok({ a: 1 }, { next: ['J'] }),
        B: boom({ next: ['J'] }),
        J: echo({ entryCondition: 'PreviousFailure' }),
      },
      { A: boom({ next: ['J'] }), B: boom({ next: ['J'] }), J: echo({ entryCondition: 'Always' }) },
      {
        A: ok({ a: 1 }, { next: ['J'] }),
        B: ok({ b: 2 }, { next: ['J'] }),
        J: echo({ entryCondition: 'PreviousFailure' }),
      },
    ]);
    const idOf = (summary: RunSummary, name: string) => stepNamed(summary, name).stepId;

    assert.equal(allSucceeded!.status, 'Completed');
    assert.deepEqual(outcomes(allSucceeded!), { A: 'Succeeded', B: 'Succeeded', J: 'Succeeded' });
    const joined = stepNamed(allSucceeded!, 'J').output as Echo;
    assert.deepEqual(joined.input, { A: { a: 1 }, B: { b: 2 } });
    assert.deepEqual(joined.previous, [
      { stepId: idOf(allSucceeded!, 'A'), name: 'A', status: 'Succeeded', output: { a: 1 } },
      { stepId: idOf(allSucceeded!, 'B'), name: 'B', status: 'Succeeded', output: { b: 2 } },
    ]);

    // One failed predecessor: a PreviousSuccess join is skipped, and nothing handled B's failure.
    assert.equal(successJoin!.status, 'Failed');
    assert.deepEqual(outcomes(successJoin!), {
      A: 'Succeeded',
      B: 'Failed',
      J: 'Skipped: PreviousSuccess not met: "B" Failed',
    });
    assert.deepEqual(successJoin!.unhandledFailures, [idOf(successJoin!, 'B')]);

    // A PreviousFailure join runs; the failed predecessor is null in its input and carries its error in previous.
    assert.equal(failureJoin!.status, 'Completed');
    assert.deepEqual(outcomes(failureJoin!), { A: 'Succeeded', B: 'Failed', J: 'Succeeded' });
    const handled = stepNamed(failureJoin!, 'J').output as Echo;
    assert.deepEqual(handled.input, { A: { a: 1 }, B: null });
    assert.deepEqual(handled.previous, [
      { stepId: idOf(failureJoin!, 'A'), name: 'A', status: 'Succeeded', output: { a: 1 } },
      { stepId: idOf(failureJoin!, 'B'), name: 'B', status: 'Failed', error: PERMANENT },
    ]);

    // An Always join runs over two failures and so handles both.
    assert.equal(alwaysJoin!.status, 'Completed');
    assert.deepEqual(outcomes(alwaysJoin!), { A: 'Failed', B: 'Failed', J: 'Succeeded' });
    assert.deepEqual((stepNamed(alwaysJoin!, 'J').output as Echo).input, { A: null, B: null });

    assert.equal(failureJoinNoFailure!.status, 'Completed');
    assert.deepEqual(outcomes(failureJoinNoFailure!), {
      A: 'Succeeded',
      B: 'Succeeded',
      J: 'Skipped: PreviousFailure not met: no predecessor failed ("A" Succeeded, "B" Succeeded)',
    });
  });

  it('leaves skipped predecessors out of a join, and skips a join none of whose predecessors ran', async () => {
    const [partly, none] = await runAll([
      {
        A: ok({ a: 1 }, { next: ['J'] }),
        B: ok({ b: 2 }, { next: ['J'], entryCondition: 'Never' }),
        J: echo(),
      },
      {
        A: ok({ a: 1 }, { next: ['J'], entryCondition: 'Never' }),
        B: ok({ b: 2 }, { next: ['J'], entryCondition: 'PreviousFailure' }),
        J: echo({ entryCondition: 'Always' }),
      },
    ]);
    assert.equal(partly!.status, 'Completed');
    assert.deepEqual(outcomes(partly!), {
      A: 'Succeeded',
      B: 'Skipped: entry condition Never',
      J: 'Succeeded',
    });
    const join = stepNamed(partly!, 'J').output as Echo;
    assert.deepEqual(join.input, { A: { a: 1 } });
    assert.deepEqual(join.previous, [
      { stepId: stepNamed(partly!, 'A').stepId, name: 'A', status: 'Succeeded', output: { a: 1 } },
    ]);

    assert.equal(none!.status, 'Completed');
    assert.deepEqual(outcomes(none!), {
      A: 'Skipped: entry condition Never',
      B: 'Skipped: PreviousFailure not met: no previous step, the start counts as a success',
      J: 'Skipped: no predecessor ran: "A" Skipped, "B" Skipped',
    });
  });

  it('propagates skips down a chain, whatever the later conditions', async () => {
    const [fromNever, fromFailure] = await runAll([
      {
        A: ok('a', { next: ['B'], entryCondition: 'Never' }),
        B: ok('b', { next: ['C'] }),
        C: ok('c', { next: ['D'], entryCondition: 'Always' }),
        D: ok('d', { entryCondition: 'PreviousFailure' }),
      },
      { X: boom({ next: ['Y'] }), Y: ok('y', { next: ['Z'] }), Z: ok('z', { entryCondition: 'Always' }) },
    ]);
    assert.equal(fromNever!.status, 'Completed');
    assert.deepEqual(outcomes(fromNever!), {
      A: 'Skipped: entry condition Never',
      B: 'Skipped: no predecessor ran: "A" Skipped',
      C: 'Skipped: no predecessor ran: "B" Skipped',
      D: 'Skipped: no predecessor ran: "C" Skipped',
    });
    assert.equal(fromNever!.completedSteps, 4);

    // Z is Always, but its only predecessor was skipped: it does not run, so X's failure stays unhandled.
    assert.equal(fromFailure!.status, 'Failed');
    assert.deepEqual(outcomes(fromFailure!), {
      X: 'Failed',
      Y: 'Skipped: PreviousSuccess not met: "X" Failed',
      Z: 'Skipped: no predecessor ran: "Y" Skipped',
    });
    assert.deepEqual(fromFailure!.unhandledFailures, [stepNamed(fromFailure!, 'X').stepId]);
  });

  it('fails a run with an unhandled failure, and shows it in the HTTP status', async () => {
    const flow = await createFlow(engine.api, {
      A: ok('a', { next: ['B'] }),
      B: boom({ next: ['C'] }),
      C: ok('c'),
    });
    const started = await startRun(engine.api, flow.flowId);
    await waitForRun(engine.api, flow.flowId);
    const response = await engine.api.request<RunSummary>('GET', `/api/Orchestration/status/${flow.flowId}`);
    assert.equal(response.status, 200, JSON.stringify(response.body));
    const body = response.body;
    assert.equal(body.runId, started.runId);
    assert.equal(body.orchestratedFlowId, flow.flowId);
    assert.equal(body.status, 'Failed');
    assert.match(body.completedAt ?? '', ISO_TIMESTAMP);
    assert.deepEqual(body.unhandledFailures, [flow.stepIds.B]);
    assert.equal(body.completedSteps, 3);
    assert.equal(body.totalSteps, 3);
    assert.deepEqual(body.currentSteps, []);
    assert.deepEqual(
      body.steps.map(({ stepId, name, processor, status, attempts, error, reason }) => ({
        stepId,
        name,
        processor,
        status,
        attempts,
        error,
        reason,
      })),
      [
        {
          stepId: flow.stepIds.A,
          name: 'A',
          processor: `${P}@1.0.0`,
          status: 'Succeeded',
          attempts: 1,
          error: undefined,
          reason: undefined,
        },
        {
          stepId: flow.stepIds.B,
          name: 'B',
          processor: `${P}@1.0.0`,
          status: 'Failed',
          attempts: 1,
          error: PERMANENT,
          reason: undefined,
        },
        {
          stepId: flow.stepIds.C,
          name: 'C',
          processor: `${P}@1.0.0`,
          status: 'Skipped',
          attempts: 0,
          error: undefined,
          reason: 'PreviousSuccess not met: "B" Failed',
        },
      ],
    );
    assert.equal(stepNamed(body, 'A').output, 'a');
  });

  it('completes a run whose failures were handled, and fails one whose handler failed too', async () => {
    const [handled, handlerFailed] = await runAll([
      { A: boom({ next: ['Handler'] }), Handler: ok('h', { entryCondition: 'PreviousFailure' }) },
      { A: boom({ next: ['Handler'] }), Handler: boom({ entryCondition: 'PreviousFailure' }) },
    ]);
    assert.equal(handled!.status, 'Completed');
    assert.equal(handled!.unhandledFailures, undefined);
    assert.deepEqual(outcomes(handled!), { A: 'Failed', Handler: 'Succeeded' });

    // A's failure was handled (Handler ran); Handler's own failure was not.
    assert.equal(handlerFailed!.status, 'Failed');
    assert.deepEqual(outcomes(handlerFailed!), { A: 'Failed', Handler: 'Failed' });
    assert.deepEqual(handlerFailed!.unhandledFailures, [stepNamed(handlerFailed!, 'Handler').stepId]);
  });

  it('passes the run input, outputs, configuration, assignments and run metadata to processors', async () => {
    const flow = await createFlow(engine.api, { A: echo({ next: ['B'] }), B: echo() });
    const address = await create(engine.api, 'Address', {
      version: '1.0',
      name: `source-${unique()}`,
      connectionString: 'https://example.test/orders',
      configuration: { method: 'GET' },
    });
    const assignment = await create(engine.api, 'Assignment', {
      version: '1.0',
      name: `assignment-${unique()}`,
      stepId: flow.stepIds.A,
      entityIds: [address.id],
    });
    const current = await engine.api.request('GET', `/api/OrchestratedFlow/${flow.flowId}`);
    assert.equal(current.status, 200, JSON.stringify(current.body));
    const updated = await engine.api.request('PUT', `/api/OrchestratedFlow/${flow.flowId}`, {
      ...current.body,
      assignmentIds: [assignment.id],
    });
    assert.equal(updated.status, 204, JSON.stringify(updated.body));
    assert.equal(updated.body, undefined);

    const correlationId = `semantics-${unique()}`;
    const started = await startRun(
      engine.api,
      flow.flowId,
      { order: 42 },
      { 'X-Correlation-ID': correlationId },
    );
    const summary = await waitForRun(engine.api, flow.flowId);
    assert.equal(summary.status, 'Completed');
    const a = stepNamed(summary, 'A').output as Echo;
    const b = stepNamed(summary, 'B').output as Echo;
    const run = {
      workflowId: started.workflowId,
      runId: started.runId,
      orchestratedFlowId: flow.flowId,
      orchestratedFlowName: summary.orchestratedFlowName,
      correlationId,
    };
    assert.deepEqual(a.input, { order: 42 });
    assert.deepEqual(a.previous, []);
    assert.deepEqual(a.configuration, { echo: true });
    assert.deepEqual(a.run, { ...run, stepId: flow.stepIds.A, stepName: 'A', attempt: 1 });
    assert.deepEqual(a.assignments, [
      {
        id: address.id,
        kind: 'Address',
        version: '1.0',
        name: address.name,
        connectionString: 'https://example.test/orders',
        configuration: { method: 'GET' },
        schemaId: null,
      },
    ]);
    // One predecessor: its output is the input, whole.
    assert.deepEqual(b.input, a);
    assert.deepEqual(b.previous, [{ stepId: flow.stepIds.A, name: 'A', status: 'Succeeded', output: a }]);
    assert.deepEqual(b.assignments, []);
    assert.deepEqual(b.run, { ...run, stepId: flow.stepIds.B, stepName: 'B', attempt: 1 });
  });

  it('runs independent steps concurrently', async () => {
    const [summary] = await runAll([
      {
        Start: ok('go', { next: ['Left', 'Right'] }),
        Left: { processor: P, configuration: { echo: true, delayMs: 1_000 } },
        Right: { processor: P, configuration: { echo: true, delayMs: 1_000 } },
      },
    ]);
    assert.equal(summary!.status, 'Completed');
    const left = stepNamed(summary!, 'Left').output as Echo;
    const right = stepNamed(summary!, 'Right').output as Echo;
    // Each processor ran while the other was running: their working intervals overlap.
    assert.ok(
      left.ranFrom < right.ranUntil && right.ranFrom < left.ranUntil,
      JSON.stringify({ left, right }),
    );
    assert.deepEqual(left.input, 'go');
    assert.deepEqual(right.input, 'go');
  });
});
