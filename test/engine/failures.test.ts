/**
 * How steps and runs fail, through REST against a real Temporal dev server: schema violations of input and output,
 * retries (processor defaults, step overrides, non-retryable errors), timeouts, and the start refusals (an invalid
 * definition, an unknown flow, a malformed ID).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { RunSummary } from '../../domain/flow-types';
import { attemptsSeen, scriptedProcessor } from '../fixtures/scripted-processor';
import { assertError } from '../support/assertions';
import {
  createFlow,
  eventually,
  runFlow,
  startRun,
  startTestEngine,
  stepNamed,
  type StepSpec,
  type TestEngine,
} from '../support/engine';
import { create, unique } from '../support/fixtures';

const P = `scripted-${unique()}`;
/** Strict input (`{ text: string }`) and output (`{ count: integer }`) schemas. */
const STRICT = `strict-${unique()}`;
/** Retries twice, quickly, unless a step says otherwise. */
const DEFAULTS = `defaults-${unique()}`;
const fast = { initialIntervalMs: 50 };

describe('failures through Temporal', () => {
  let engine: TestEngine;
  before(async () => {
    engine = await startTestEngine([
      scriptedProcessor(P),
      scriptedProcessor(STRICT, {
        inputSchema: {
          type: 'object',
          required: ['text'],
          properties: { text: { type: 'string' } },
        },
        outputSchema: {
          type: 'object',
          required: ['count'],
          properties: { count: { type: 'integer' } },
        },
      }),
      scriptedProcessor(DEFAULTS, {
        defaults: { retryPolicy: { maximumAttempts: 2, initialIntervalMs: 50 } },
      }),
    ]);
  });
  after(() => engine.close());

  /** Runs a one-step flow (its step named `name`) with `input`; returns the summary. */
  const runOne = async (name: string, step: StepSpec, input?: unknown): Promise<RunSummary> =>
    runFlow(engine.api, (await createFlow(engine.api, { [name]: step })).flowId, input);
  const attemptsOf = (name: string) => attemptsSeen.filter((a) => a.startsWith(`${name}#`));

  it('fails a step whose input breaks its schema at once, naming the field and the rule', async () => {
    const [wrongType, missing] = await Promise.all([
      runOne('WrongType', { processor: STRICT }, { text: 5 }),
      runOne('Missing', { processor: STRICT }, { other: 'x' }),
    ]);
    for (const summary of [wrongType, missing]) {
      assert.equal(summary.status, 'Failed');
      assert.deepEqual(summary.unhandledFailures, [summary.steps[0]!.stepId]);
    }
    // The default policy allows 3 attempts; a schema violation takes one.
    const step = stepNamed(wrongType, 'WrongType');
    assert.equal(step.status, 'Failed');
    assert.equal(step.attempts, 1);
    assert.deepEqual(step.error, {
      message: `The input does not match the input schema of processor ${STRICT}@1.0.0: input.text must be string (type)`,
      type: 'SchemaViolation',
      details: {
        target: 'input',
        processor: `${STRICT}@1.0.0`,
        details: [{ field: 'input.text', rule: 'type', message: 'must be string' }],
      },
    });
    assert.deepEqual(attemptsOf('WrongType'), [], 'the processor never ran');

    const absent = stepNamed(missing, 'Missing');
    assert.equal(absent.attempts, 1);
    assert.equal(absent.error?.type, 'SchemaViolation');
    assert.deepEqual(absent.error?.details, {
      target: 'input',
      processor: `${STRICT}@1.0.0`,
      details: [{ field: 'input.text', rule: 'required', message: "must have required property 'text'" }],
    });
  });

  it('fails a step whose output breaks its schema at once, naming the field and the rule', async () => {
    const [wrongType, passes] = await Promise.all([
      runOne(
        'BadOutput',
        { processor: STRICT, configuration: { output: { count: 'three' } } },
        { text: 'hi' },
      ),
      runOne('GoodOutput', { processor: STRICT, configuration: { output: { count: 3 } } }, { text: 'hi' }),
    ]);
    assert.equal(wrongType.status, 'Failed');
    const step = stepNamed(wrongType, 'BadOutput');
    assert.equal(step.attempts, 1);
    assert.equal(step.output, undefined);
    assert.deepEqual(step.error, {
      message: `The output does not match the output schema of processor ${STRICT}@1.0.0: output.count must be integer (type)`,
      type: 'SchemaViolation',
      details: {
        target: 'output',
        processor: `${STRICT}@1.0.0`,
        details: [{ field: 'output.count', rule: 'type', message: 'must be integer' }],
      },
    });
    assert.deepEqual(attemptsOf('BadOutput'), ['BadOutput#1'], 'the processor ran once');

    assert.equal(passes.status, 'Completed');
    assert.deepEqual(stepNamed(passes, 'GoodOutput').output, { count: 3 });
  });

  it('retries per the step policy and fails non-retryable errors at once', async () => {
    const [flaky, exhausted, permanent, listedType] = await Promise.all([
      runOne('Flaky', {
        processor: P,
        configuration: { failTimes: 2 },
        retryPolicy: { ...fast, maximumAttempts: 3 },
      }),
      runOne('Exhausted', {
        processor: P,
        configuration: { failTimes: 5 },
        retryPolicy: { ...fast, maximumAttempts: 2 },
      }),
      runOne('Permanent', {
        processor: P,
        configuration: { fail: true, nonRetryable: true },
        retryPolicy: { ...fast, maximumAttempts: 5 },
      }),
      runOne('ListedType', {
        processor: P,
        configuration: { failTimes: 3 },
        retryPolicy: { ...fast, maximumAttempts: 5, nonRetryableErrorTypes: ['Transient'] },
      }),
    ]);

    assert.equal(flaky.status, 'Completed');
    const succeeded = stepNamed(flaky, 'Flaky');
    assert.equal(succeeded.status, 'Succeeded');
    assert.equal(succeeded.attempts, 3);
    assert.equal(succeeded.error, undefined);
    assert.deepEqual(attemptsOf('Flaky'), ['Flaky#1', 'Flaky#2', 'Flaky#3']);

    assert.equal(exhausted.status, 'Failed');
    const gaveUp = stepNamed(exhausted, 'Exhausted');
    assert.equal(gaveUp.attempts, 2);
    assert.deepEqual(gaveUp.error, { message: 'transient failure on attempt 2', type: 'Transient' });

    assert.equal(permanent.status, 'Failed');
    const failed = stepNamed(permanent, 'Permanent');
    assert.equal(failed.attempts, 1);
    assert.deepEqual(failed.error, { message: 'scripted permanent failure', type: 'Permanent' });
    assert.deepEqual(attemptsOf('Permanent'), ['Permanent#1']);

    // The step's nonRetryableErrorTypes make an otherwise retryable failure final.
    const listed = stepNamed(listedType, 'ListedType');
    assert.equal(listed.status, 'Failed');
    assert.equal(listed.attempts, 1);
    assert.deepEqual(listed.error, { message: 'transient failure on attempt 1', type: 'Transient' });
  });

  it('shows the current attempt and the last failure of a step while it retries', async () => {
    const flow = await createFlow(engine.api, {
      Flaky: {
        processor: P,
        configuration: { failTimes: 5 },
        retryPolicy: { maximumAttempts: 6, initialIntervalMs: 60_000, backoffCoefficient: 1 },
      },
    });
    await startRun(engine.api, flow.flowId);
    const retrying = await eventually('a second attempt to be pending', async () => {
      const status = await engine.api.request<RunSummary>('GET', `/api/Orchestration/status/${flow.flowId}`);
      const step = status.body.steps?.find((s) => s.name === 'Flaky');
      return step && step.attempts >= 2 ? { status, step } : undefined;
    });
    assert.equal(retrying.status.status, 200);
    assert.equal(retrying.status.body.status, 'Running');
    assert.equal(retrying.step.status, 'Running');
    assert.equal(retrying.step.attempts, 2);
    assert.equal(retrying.step.error?.message, 'last attempt failed: transient failure on attempt 1');
    const stopped = await engine.api.request('POST', `/api/Orchestration/stop/${flow.flowId}`);
    assert.equal(stopped.status, 200, JSON.stringify(stopped.body));
  });

  it("uses the processor's retry defaults unless the step overrides them", async () => {
    const registered = await engine.api.request('GET', `/api/Processor/composite/1.0.0/${DEFAULTS}`);
    assert.equal(registered.status, 200, JSON.stringify(registered.body));
    assert.deepEqual(registered.body.retryPolicy, { maximumAttempts: 2, initialIntervalMs: 50 });
    assert.equal(registered.body.timeouts, null);

    const [byDefault, overridden] = await Promise.all([
      runOne('ByDefault', { processor: DEFAULTS, configuration: { fail: true } }),
      // Only maximumAttempts is overridden; the processor's initial interval still applies.
      runOne('Overridden', {
        processor: DEFAULTS,
        configuration: { fail: true },
        retryPolicy: { maximumAttempts: 4 },
      }),
    ]);
    const defaulted = stepNamed(byDefault, 'ByDefault');
    assert.equal(defaulted.status, 'Failed');
    assert.equal(defaulted.attempts, 2);
    assert.deepEqual(defaulted.error, { message: 'scripted failure', type: 'Error' });
    assert.deepEqual(attemptsOf('ByDefault'), ['ByDefault#1', 'ByDefault#2']);

    const override = stepNamed(overridden, 'Overridden');
    assert.equal(override.status, 'Failed');
    assert.equal(override.attempts, 4);
    assert.deepEqual(attemptsOf('Overridden'), [
      'Overridden#1',
      'Overridden#2',
      'Overridden#3',
      'Overridden#4',
    ]);
  });

  it('fails a step that outlives its start-to-close timeout', async () => {
    const summary = await runOne('Slow', {
      processor: P,
      configuration: { delayMs: 5_000 },
      timeouts: { startToCloseMs: 500 },
      retryPolicy: { maximumAttempts: 1 },
    });
    assert.equal(summary.status, 'Failed');
    const slow = stepNamed(summary, 'Slow');
    assert.equal(slow.status, 'Failed');
    assert.equal(slow.attempts, 1);
    assert.equal(slow.output, undefined);
    assert.deepEqual(slow.error, {
      message: 'activity StartToClose timeout',
      type: 'Timeout.START_TO_CLOSE',
    });
  });

  it('refuses to start an invalid definition with 422, listing every problem', async () => {
    const flow = await createFlow(engine.api, {
      A: { processor: P, next: ['B'] },
      B: { processor: P },
      C: { processor: P, next: ['D'] },
      D: { processor: P },
    });
    const processor = await engine.api.request('GET', `/api/Processor/composite/1.0.0/${P}`);
    const outside = await create(engine.api, 'Step', {
      version: `1.0-${unique()}`,
      name: 'Outside',
      processorId: processor.body.id,
    });
    const { A, B, C, D } = flow.stepIds as Record<'A' | 'B' | 'C' | 'D', string>;
    // The API refuses cycles, so break the stored definition directly: B → A, D → C, and A → a step outside the
    // workflow (the snapshot holds the workflow's steps only, so that one is named by its id).
    await engine.api.prisma.stepNext.createMany({
      data: [
        { stepId: B, position: 0, nextStepId: A },
        { stepId: D, position: 0, nextStepId: C },
        { stepId: A, position: 1, nextStepId: outside.id },
      ],
    });

    const response = await engine.api.request('POST', `/api/Orchestration/start/${flow.flowId}`, {});
    const messages = [
      `step "A" (id ${A}) lists next step id "${outside.id}", which is not part of the workflow`,
      'cycle: "A" → "B" → "A"',
      'cycle: "C" → "D" → "C"',
    ];
    assertError(response, 422, 'InvalidDefinition', [
      { field: 'definition', rule: 'danglingNextStep', message: messages[0] },
      { field: 'definition', rule: 'cycle', message: messages[1] },
      { field: 'definition', rule: 'cycle', message: messages[2] },
    ]);
    assert.deepEqual(response.body, {
      error: 'InvalidDefinition',
      message: `The flow's definition cannot run: ${messages.join('; ')}`,
      details: [
        {
          field: 'definition',
          message: messages[0],
          rule: 'danglingNextStep',
          stepId: A,
          nextStepId: outside.id,
        },
        { field: 'definition', message: messages[1], rule: 'cycle', stepIds: [A, B, A] },
        { field: 'definition', message: messages[2], rule: 'cycle', stepIds: [C, D, C] },
      ],
    });
    // Nothing was started.
    assertError(await engine.api.request('GET', `/api/Orchestration/status/${flow.flowId}`), 404, 'NeverRan');
  });

  it('answers 404 for an unknown flow', async () => {
    const id = randomUUID();
    const started = await engine.api.request('POST', `/api/Orchestration/start/${id}`, { input: 1 });
    assertError(started, 404, 'NotFound');
    assert.deepEqual(started.body, { error: 'NotFound', message: `OrchestratedFlow ${id} was not found` });

    const stopped = await engine.api.request('POST', `/api/Orchestration/stop/${id}`);
    assertError(stopped, 404, 'NoOpenRun');
    assert.deepEqual(stopped.body, { error: 'NoOpenRun', message: `Flow ${id} has no open run` });

    const status = await engine.api.request('GET', `/api/Orchestration/status/${id}`);
    assertError(status, 404, 'NeverRan');
    assert.deepEqual(status.body, { error: 'NeverRan', message: `Flow ${id} has no runs` });

    // Runs are read from Temporal alone: a flow it knows no runs of lists none.
    const runs = await engine.api.request('GET', `/api/Orchestration/runs/${id}`);
    assert.equal(runs.status, 200, JSON.stringify(runs.body));
    assert.deepEqual(runs.body, []);
    assert.equal(runs.headers.get('X-Total-Count'), '0');

    const runId = randomUUID();
    const run = await engine.api.request('GET', `/api/Orchestration/runs/${id}/${runId}`);
    assertError(run, 404, 'NotFound');
    assert.deepEqual(run.body, { error: 'NotFound', message: `Run ${runId} of flow ${id} was not found` });
  });

  it('answers 400 for a malformed start request', async () => {
    const flow = await createFlow(engine.api, { Never: { processor: P } });
    const path = `/api/Orchestration/start/${flow.flowId}`;
    assertError(await engine.api.request('POST', path, [1]), 400, 'ValidationFailed', [
      { field: 'body', rule: 'object', message: 'must be a JSON object such as {"input": …}' },
    ]);
    assertError(await engine.api.request('POST', path, { input: 1, extra: true }), 400, 'ValidationFailed', [
      { field: 'extra', rule: 'unknownField' },
    ]);
    assertError(
      await engine.api.request('POST', path, {}, { 'Idempotency-Key': 'not a key!' }),
      400,
      'ValidationFailed',
      [{ field: 'Idempotency-Key', rule: 'regex' }],
    );
    assertError(
      await engine.api.request('POST', `/api/Orchestration/stop/${flow.flowId}?terminate=yes`),
      400,
      'ValidationFailed',
      [{ field: 'query.terminate', rule: 'oneOf', message: 'must be true or false' }],
    );
    // None of them started a run.
    assertError(await engine.api.request('GET', `/api/Orchestration/status/${flow.flowId}`), 404, 'NeverRan');
  });

  it('answers 400 for a malformed ID', async () => {
    const id = randomUUID();
    for (const [method, path, field] of [
      ['POST', '/api/Orchestration/start/not-a-guid', 'orchestratedFlowId'],
      ['POST', '/api/Orchestration/stop/not-a-guid', 'orchestratedFlowId'],
      ['GET', '/api/Orchestration/status/not-a-guid', 'orchestratedFlowId'],
      ['GET', '/api/Orchestration/runs/not-a-guid', 'orchestratedFlowId'],
      ['GET', `/api/Orchestration/runs/${id}/not-a-guid`, 'runId'],
    ] as const) {
      const response = await engine.api.request(method, path, method === 'POST' ? {} : undefined);
      assertError(response, 400, 'ValidationFailed', [{ field, rule: 'guid' }]);
    }
  });
});
