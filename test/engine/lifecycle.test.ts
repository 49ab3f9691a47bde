/**
 * A run's life through REST against a real Temporal dev server: status while it runs, stop and terminate, one open
 * manual run per flow, Idempotency-Key, the definition snapshot, the runs listing, correlation IDs, closed runs read
 * with no worker left, and 503 when Temporal is down. The last test shuts this file's workers down.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunListItem } from '../../api/orchestration/run-status';
import type { FlowRunInput, RunSummary } from '../../domain/flow-types';
import { FLOW_WORKFLOW_TYPE, manualRunWorkflowId } from '../../domain/task-queue';
import { findFreePort } from '../../infra/ports';
import { abortsSeen, attemptsSeen, scriptedProcessor } from '../fixtures/scripted-processor';
import { startTestApi } from '../support/api';
import { assertError, ISO_TIMESTAMP, UUID } from '../support/assertions';
import {
  createFlow,
  eventually,
  runFlow,
  startRun,
  startTestEngine,
  stepNamed,
  waitForRun,
  type StartedRun,
  type StepSpec,
  type TestEngine,
} from '../support/engine';
import { unique } from '../support/fixtures';

const P = `scripted-${unique()}`;
/**
 * A step working `delayMs`, heartbeating. Its heartbeat timeout makes the worker send heartbeats at least every
 * 2.4 s (0.8 × the timeout), so a stop reaches the processor within a few seconds (without one, the worker throttles
 * heartbeats to one per 30 s, and the processor learns of a stop that late). Three seconds, as in run-control's
 * tests: with one second, a loaded machine timed a step out and its second attempt broke the tests' `attempts: 1`.
 */
const slow = (delayMs: number, more: Partial<StepSpec> = {}): StepSpec => ({
  processor: P,
  configuration: { delayMs },
  timeouts: { heartbeatMs: 3_000 },
  ...more,
});
const ok = (output: unknown, more: Partial<StepSpec> = {}): StepSpec => ({
  processor: P,
  configuration: { output },
  ...more,
});

type ListedRun = RunListItem;

describe('run lifecycle through Temporal', () => {
  let engine: TestEngine;
  before(async () => {
    engine = await startTestEngine([scriptedProcessor(P)]);
  });
  after(() => engine.close());

  const status = (flowId: string) =>
    engine.api.request<RunSummary>('GET', `/api/Orchestration/status/${flowId}`);
  const stop = (flowId: string, query = '') =>
    engine.api.request('POST', `/api/Orchestration/stop/${flowId}${query}`);
  const start = (flowId: string, headers: Record<string, string> = {}) =>
    engine.api.request('POST', `/api/Orchestration/start/${flowId}`, {}, headers);
  /** Waits until the latest run's status shows exactly these steps running (names). */
  const whileRunning = (flowId: string, names: string[]) =>
    eventually(`${names.join(', ')} running`, async () => {
      const response = await status(flowId);
      const running = response.body.currentSteps?.map(
        (id) => response.body.steps.find((s) => s.stepId === id)?.name,
      );
      return response.status === 200 && JSON.stringify(running) === JSON.stringify(names)
        ? response.body
        : undefined;
    });
  /** The runs listing once the visibility store shows `count` runs, none Running. */
  const listedRuns = (flowId: string, count: number, query = '') =>
    eventually(`${count} closed runs listed`, async () => {
      const response = await engine.api.request<ListedRun[]>(
        'GET',
        `/api/Orchestration/runs/${flowId}${query}`,
      );
      assert.equal(response.status, 200, JSON.stringify(response.body));
      const total = Number(response.headers.get('X-Total-Count'));
      return total === count && response.body.every((run) => run.status !== 'Running') ? response : undefined;
    });

  it('shows the status advancing step by step while the run is running', async () => {
    const flow = await createFlow(engine.api, {
      A: slow(1_500, { next: ['B'] }),
      B: slow(1_500, { next: ['C'] }),
      C: ok('done'),
    });
    const started = await startRun(engine.api, flow.flowId);
    const seen: Array<{ status: string; current: string[]; completed: number; steps: string }> = [];
    for (;;) {
      const response = await status(flow.flowId);
      assert.equal(response.status, 200, JSON.stringify(response.body));
      const body = response.body;
      assert.equal(body.runId, started.runId);
      if (body.totalSteps > 0) {
        const observed = {
          status: body.status,
          current: body.currentSteps.map((id) => body.steps.find((s) => s.stepId === id)!.name),
          completed: body.completedSteps,
          steps: body.steps.map((s) => `${s.name}:${s.status}`).join(' '),
        };
        if (JSON.stringify(seen.at(-1)) !== JSON.stringify(observed)) seen.push(observed);
      }
      if (body.status !== 'Running') break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // Every observation is one of these, in this order; each slow step was seen running, and the end.
    const expected = [
      { status: 'Running', current: ['A'], completed: 0, steps: 'A:Running B:Pending C:Pending' },
      { status: 'Running', current: ['B'], completed: 1, steps: 'A:Succeeded B:Running C:Pending' },
      { status: 'Running', current: ['C'], completed: 2, steps: 'A:Succeeded B:Succeeded C:Running' },
      { status: 'Completed', current: [], completed: 3, steps: 'A:Succeeded B:Succeeded C:Succeeded' },
    ];
    const positions = seen.map((observed) => expected.findIndex((e) => isEqual(e, observed)));
    assert.ok(!positions.includes(-1), `unexpected status: ${JSON.stringify(seen)}`);
    assert.deepEqual(
      positions,
      [...positions].sort((a, b) => a - b),
      `out of order: ${JSON.stringify(seen)}`,
    );
    for (const required of [0, 1, 3]) assert.ok(positions.includes(required), JSON.stringify(seen));
  });

  it('stops a run during a running step: the processor sees the abort, undecided steps are cancelled', async () => {
    const flow = await createFlow(engine.api, {
      Stoppable: slow(20_000, { next: ['After'] }),
      After: ok('never', { next: ['Last'] }),
      Last: ok('never'),
    });
    const started = await startRun(engine.api, flow.flowId);
    await whileRunning(flow.flowId, ['Stoppable']);
    await eventually('the processor to start', () =>
      attemptsSeen.includes('Stoppable#1') ? true : undefined,
    );

    const stopped = await stop(flow.flowId);
    assert.equal(stopped.status, 200, JSON.stringify(stopped.body));
    assert.deepEqual(Object.keys(stopped.body).sort(), [
      'message',
      'orchestratedFlowId',
      'runId',
      'runIds',
      'stoppedAt',
    ]);
    assert.equal(stopped.body.message, 'Orchestration stop requested');
    assert.equal(stopped.body.orchestratedFlowId, flow.flowId);
    assert.equal(stopped.body.runId, started.runId);
    assert.deepEqual(stopped.body.runIds, [started.runId]);
    assert.match(stopped.body.stoppedAt, ISO_TIMESTAMP);

    const summary = await waitForRun(engine.api, flow.flowId);
    assert.equal(summary.runId, started.runId);
    assert.equal(summary.status, 'Cancelled');
    assert.match(summary.completedAt ?? '', ISO_TIMESTAMP);
    assert.deepEqual(
      summary.steps.map(({ name, status, reason }) => ({ name, status, reason })),
      [
        {
          name: 'Stoppable',
          status: 'Cancelled',
          reason: 'the run was stopped; the processor acknowledged the cancellation',
        },
        { name: 'After', status: 'Cancelled', reason: 'the run was stopped before the step was decided' },
        { name: 'Last', status: 'Cancelled', reason: 'the run was stopped before the step was decided' },
      ],
    );
    // The trace: Stoppable was decided to run; the others were cancelled undecided, their predecessors as they were.
    assert.deepEqual(
      summary.steps.map(({ name, decision }) => [
        name,
        decision?.outcome,
        decision?.predecessors.map((p) => `${p.name} ${p.status}`),
      ]),
      [
        ['Stoppable', 'Run', []],
        ['After', 'Cancelled', ['Stoppable Cancelled']],
        ['Last', 'Cancelled', ['After Cancelled']],
      ],
    );
    assert.equal(summary.completedSteps, 3);
    assert.deepEqual(summary.currentSteps, []);
    await eventually('the processor to see the abort', () =>
      abortsSeen.includes('Stoppable') ? true : undefined,
    );

    // Nothing is open any more.
    const again = await stop(flow.flowId);
    assertError(again, 404, 'NoOpenRun');
    assert.deepEqual(again.body, { error: 'NoOpenRun', message: `Flow ${flow.flowId} has no open run` });
  });

  it('terminates a run with ?terminate=true', async () => {
    const flow = await createFlow(engine.api, { Terminated: slow(20_000) });
    const started = await startRun(engine.api, flow.flowId);
    await whileRunning(flow.flowId, ['Terminated']);
    const stopped = await stop(flow.flowId, '?terminate=true');
    assert.equal(stopped.status, 200, JSON.stringify(stopped.body));
    assert.equal(stopped.body.message, 'Orchestration terminated');
    assert.equal(stopped.body.runId, started.runId);
    assert.deepEqual(stopped.body.runIds, [started.runId]);

    const response = await status(flow.flowId);
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.equal(response.body.runId, started.runId);
    assert.equal(response.body.status, 'Terminated');
    // Rebuilt from the run's history: the step it was running, and why the run ended.
    assert.deepEqual(
      response.body.steps.map(({ name, status, reason, attempts }) => ({ name, status, reason, attempts })),
      [
        {
          name: 'Terminated',
          status: 'Cancelled',
          reason: 'the run was terminated while the step ran',
          attempts: 1,
        },
      ],
    );
    assert.deepEqual(response.body.error, {
      message: 'terminated: stopped through the API',
      type: 'Terminated',
    });
    assert.equal(response.body.correlationId, started.correlationId);
    assert.match(response.body.completedAt ?? '', ISO_TIMESTAMP);
    assertError(await stop(flow.flowId), 404, 'NoOpenRun');
    // Terminated, the workflow cannot tell the step; the processor still learns through its heartbeat.
    await eventually('the processor to see the abort', () =>
      abortsSeen.includes('Terminated') ? true : undefined,
    );
  });

  it("rebuilds a terminated run's finished steps, outputs and errors from its history", async () => {
    const flow = await createFlow(engine.api, {
      Fetched: ok({ rows: 3 }, { next: ['Loading'] }),
      Loading: slow(20_000),
    });
    const started = await startRun(engine.api, flow.flowId);
    await whileRunning(flow.flowId, ['Loading']);
    assert.equal((await stop(flow.flowId, '?terminate=true')).status, 200);
    const response = await status(flow.flowId);
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.equal(response.body.runId, started.runId);
    assert.equal(response.body.status, 'Terminated');
    assert.deepEqual(
      response.body.steps.map(({ name, status, output, stepId }) => ({ name, status, output, stepId })),
      [
        { name: 'Fetched', status: 'Succeeded', output: { rows: 3 }, stepId: flow.stepIds.Fetched },
        { name: 'Loading', status: 'Cancelled', output: undefined, stepId: flow.stepIds.Loading },
      ],
    );
    assert.equal(response.body.completedSteps, 1);
    assert.match(stepNamed(response.body, 'Fetched').completedAt ?? '', ISO_TIMESTAMP);
  });

  it("rebuilds a timed-out run's steps from its history and says it timed out", async () => {
    const flow = await createFlow(engine.api, {
      Fetched: ok({ rows: 3 }, { next: ['Loading'] }),
      Loading: slow(20_000),
    });
    // Our starts set no run timeout; a run started elsewhere (the Temporal CLI, a client) may have one.
    const handle = await engine.client.workflow.start(FLOW_WORKFLOW_TYPE, {
      taskQueue: engine.taskQueue,
      workflowId: manualRunWorkflowId(flow.flowId),
      workflowExecutionTimeout: '6s', // room for Fetched to finish on a loaded machine
      args: [{ orchestratedFlowId: flow.flowId, trigger: 'manual' } satisfies FlowRunInput],
    });
    await whileRunning(flow.flowId, ['Loading']);
    const response = await eventually('the run to time out', async () => {
      const answer = await status(flow.flowId);
      return answer.body.status === 'TimedOut' ? answer : undefined;
    });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.equal(response.body.runId, handle.firstExecutionRunId);
    assert.deepEqual(
      response.body.steps.map(({ name, status, reason, output }) => ({ name, status, reason, output })),
      [
        { name: 'Fetched', status: 'Succeeded', reason: undefined, output: { rows: 3 } },
        {
          name: 'Loading',
          status: 'Cancelled',
          reason: 'the run timed out while the step ran',
          output: undefined,
        },
      ],
    );
    assert.deepEqual(response.body.error, {
      message: 'the run timed out (its workflow execution or run timeout passed)',
      type: 'TimedOut',
    });
    assert.equal(response.body.completedSteps, 1);
    assert.deepEqual(response.body.currentSteps, []);
    assert.match(response.body.completedAt ?? '', ISO_TIMESTAMP);
  });

  it('lets exactly one of two simultaneous starts through', async () => {
    const flow = await createFlow(engine.api, { Once: slow(1_000) });
    const responses = await Promise.all([start(flow.flowId), start(flow.flowId)]);
    const accepted = responses.find((r) => r.status === 202);
    const refused = responses.find((r) => r.status !== 202);
    assert.ok(accepted && refused, JSON.stringify(responses.map((r) => [r.status, r.body])));
    assert.match(accepted.body.runId, UUID);
    assertError(refused, 409, 'RunAlreadyOpen', [{ field: 'orchestratedFlowId', rule: 'oneOpenRun' }]);
    assert.deepEqual(refused.body, {
      error: 'RunAlreadyOpen',
      message: `A manual run of flow ${flow.flowId} is still open: ${accepted.body.runId}`,
      details: [
        {
          field: 'orchestratedFlowId',
          rule: 'oneOpenRun',
          message: 'stop it or wait until it closes',
          runId: accepted.body.runId,
        },
      ],
    });
    const summary = await waitForRun(engine.api, flow.flowId);
    assert.equal(summary.runId, accepted.body.runId);
    assert.equal(summary.status, 'Completed');
    const listed = await listedRuns(flow.flowId, 1);
    assert.deepEqual(
      listed.body.map((r) => r.runId),
      [accepted.body.runId],
    );
  });

  it('returns the same run for the same Idempotency-Key, also after it closed', async () => {
    const [flow, raced] = await Promise.all([
      createFlow(engine.api, { Keyed: slow(2_000) }),
      createFlow(engine.api, { Raced: slow(500) }),
    ]);
    const first = await start(flow.flowId, { 'Idempotency-Key': 'key-1', 'X-Correlation-ID': 'first-call' });
    assert.equal(first.status, 202, JSON.stringify(first.body));
    assert.equal(first.body.message, 'Orchestration started successfully');
    const again = await start(flow.flowId, { 'Idempotency-Key': 'key-1', 'X-Correlation-ID': 'second-call' });
    assert.equal(again.status, 202, JSON.stringify(again.body));
    assert.deepEqual(again.body, {
      ...(first.body as StartedRun),
      message: 'Orchestration already started with this Idempotency-Key',
    });

    const otherKey = await start(flow.flowId, { 'Idempotency-Key': 'key-2' });
    assertError(otherKey, 409, 'RunAlreadyOpen');
    assert.equal(otherKey.body.details[0].runId, first.body.runId);

    const closed = await waitForRun(engine.api, flow.flowId);
    assert.equal(closed.runId, first.body.runId);
    const afterClose = await start(flow.flowId, { 'Idempotency-Key': 'key-1' });
    assert.equal(afterClose.status, 202, JSON.stringify(afterClose.body));
    assert.deepEqual(afterClose.body, {
      ...(first.body as StartedRun),
      message: 'Orchestration already started with this Idempotency-Key',
    });
    // Refused while the first was open, key-2 starts a new run now.
    const second = await start(flow.flowId, { 'Idempotency-Key': 'key-2' });
    assert.equal(second.status, 202, JSON.stringify(second.body));
    assert.notEqual(second.body.runId, first.body.runId);
    await waitForRun(engine.api, flow.flowId);

    // Two simultaneous starts with one key: one run, both told about it.
    const both = await Promise.all([
      start(raced.flowId, { 'Idempotency-Key': 'same' }),
      start(raced.flowId, { 'Idempotency-Key': 'same' }),
    ]);
    assert.deepEqual(
      both.map((r) => r.status),
      [202, 202],
      JSON.stringify(both.map((r) => r.body)),
    );
    // Both answers describe the same run the same way; only the message says which call started it.
    const messages = both.map((r) => r.body.message as string).sort();
    assert.deepEqual(messages, [
      'Orchestration already started with this Idempotency-Key',
      'Orchestration started successfully',
    ]);
    assert.deepEqual({ ...both[0].body, message: '' }, { ...both[1].body, message: '' });
    // A later call with the key gets that same answer.
    const later = await start(raced.flowId, { 'Idempotency-Key': 'same' });
    assert.deepEqual({ ...later.body, message: '' }, { ...both[0].body, message: '' });
    await waitForRun(engine.api, raced.flowId);
    assert.deepEqual(
      (await listedRuns(raced.flowId, 1)).body.map((r) => r.runId),
      [both[0].body.runId],
    );
  });

  it('a retried start whose key was never recorded answers the run Temporal started, open or closed', async () => {
    const flow = await createFlow(engine.api, { Once: ok('done') });
    const first = await start(flow.flowId, { 'Idempotency-Key': 'lost' });
    assert.equal(first.status, 202, JSON.stringify(first.body));
    await waitForRun(engine.api, flow.flowId);
    // As if the API died after Temporal accepted the start and before it recorded the key.
    const forgotten = await engine.api.prisma.runIdempotencyKey.deleteMany({
      where: { orchestratedFlowId: flow.flowId },
    });
    assert.equal(forgotten.count, 1);
    const retried = await start(flow.flowId, { 'Idempotency-Key': 'lost' });
    assert.equal(retried.status, 202, JSON.stringify(retried.body));
    // The same run, as Temporal recorded its start (the first answer gave the API's clock).
    const { startedAt, ...answer } = retried.body as StartedRun;
    const { startedAt: firstStartedAt, ...firstAnswer } = first.body as StartedRun;
    assert.deepEqual(answer, {
      ...firstAnswer,
      message: 'Orchestration already started with this Idempotency-Key',
    });
    assert.ok(
      Math.abs(Date.parse(startedAt) - Date.parse(firstStartedAt)) < 5_000,
      `${startedAt} ${firstStartedAt}`,
    );
    assert.deepEqual(
      (await listedRuns(flow.flowId, 1)).body.map((r) => r.runId),
      [first.body.runId],
      'one run, not two',
    );
    // Recorded now: the next retry is answered from the database.
    const row = await engine.api.prisma.runIdempotencyKey.findFirst({
      where: { orchestratedFlowId: flow.flowId },
    });
    assert.equal(row?.runId, first.body.runId);
  });

  it('runs the definition it started with when the definition is edited mid-run', async () => {
    const flow = await createFlow(engine.api, {
      First: slow(1_500, { next: ['Second'] }),
      Second: ok('old'),
    });
    const started = await startRun(engine.api, flow.flowId);
    await whileRunning(flow.flowId, ['First']);
    const step = await engine.api.request('GET', `/api/Step/${flow.stepIds.Second}`);
    assert.equal(step.status, 200, JSON.stringify(step.body));
    const edited = await engine.api.request('PUT', `/api/Step/${flow.stepIds.Second}`, {
      ...step.body,
      configuration: { output: 'new' },
    });
    assert.equal(edited.status, 204, JSON.stringify(edited.body));

    const oldRun = await waitForRun(engine.api, flow.flowId);
    assert.equal(oldRun.runId, started.runId);
    assert.equal(oldRun.status, 'Completed');
    assert.equal(stepNamed(oldRun, 'Second').output, 'old');
    assert.match(oldRun.definition?.hash ?? '', /^[0-9a-f]{64}$/);
    assert.equal(oldRun.definition?.workflow.id, flow.workflowId);
    assert.equal(oldRun.definition?.orchestratedFlow.id, flow.flowId);

    const newRun = await runFlow(engine.api, flow.flowId);
    assert.equal(stepNamed(newRun, 'Second').output, 'new');
    assert.notEqual(newRun.definition?.hash, oldRun.definition?.hash);
    // The older run still reads as it ran.
    const older = await engine.api.request<RunSummary>(
      'GET',
      `/api/Orchestration/runs/${flow.flowId}/${started.runId}`,
    );
    assert.equal(older.status, 200, JSON.stringify(older.body));
    assert.deepEqual(older.body, oldRun);
  });

  it('lists runs newest first, paginated, and reads an older run', async () => {
    const flow = await createFlow(engine.api, { Quick: ok('q') });
    const runs: RunSummary[] = [];
    for (let i = 0; i < 3; i++) runs.push(await runFlow(engine.api, flow.flowId, { i }));
    const [oldest, middle, newest] = runs as [RunSummary, RunSummary, RunSummary];

    const listed = await listedRuns(flow.flowId, 3);
    assert.equal(listed.headers.get('X-Total-Count'), '3');
    assert.deepEqual(
      listed.body,
      [newest, middle, oldest].map((run) => ({
        runId: run.runId,
        workflowId: run.workflowId,
        status: 'Completed',
        trigger: 'manual',
        correlationId: run.correlationId,
        startedAt: listed.body.find((r) => r.runId === run.runId)?.startedAt,
        completedAt: listed.body.find((r) => r.runId === run.runId)?.completedAt,
      })),
    );
    for (const run of listed.body) {
      assert.match(run.startedAt, ISO_TIMESTAMP);
      assert.match(run.completedAt ?? '', ISO_TIMESTAMP);
    }

    const page = await engine.api.request<ListedRun[]>(
      'GET',
      `/api/Orchestration/runs/${flow.flowId}?limit=1&offset=1`,
    );
    assert.equal(page.status, 200, JSON.stringify(page.body));
    assert.equal(page.headers.get('X-Total-Count'), '3');
    assert.deepEqual(page.body, [listed.body[1]]);
    const firstTwo = await engine.api.request('GET', `/api/Orchestration/runs/${flow.flowId}?limit=2`);
    assert.deepEqual(firstTwo.body, listed.body.slice(0, 2));
    const beyond = await engine.api.request('GET', `/api/Orchestration/runs/${flow.flowId}?offset=3`);
    assert.equal(beyond.status, 200, JSON.stringify(beyond.body));
    assert.deepEqual(beyond.body, []);
    assert.equal(beyond.headers.get('X-Total-Count'), '3');
    assertError(
      await engine.api.request('GET', `/api/Orchestration/runs/${flow.flowId}?limit=0`),
      400,
      'ValidationFailed',
    );

    const older = await engine.api.request<RunSummary>(
      'GET',
      `/api/Orchestration/runs/${flow.flowId}/${oldest.runId}`,
    );
    assert.equal(older.status, 200, JSON.stringify(older.body));
    assert.deepEqual(older.body, oldest);
    assert.deepEqual(stepNamed(older.body, 'Quick').output, 'q');
    const latest = await status(flow.flowId);
    assert.equal(latest.status, 200);
    assert.deepEqual(latest.body, newest);
  });

  it('carries the X-Correlation-ID of the start into the run', async () => {
    const flow = await createFlow(engine.api, { Correlated: ok('c') });
    const correlationId = `order-${unique()}`;
    const response = await start(flow.flowId, { 'X-Correlation-ID': correlationId });
    assert.equal(response.status, 202, JSON.stringify(response.body));
    assert.equal(response.headers.get('X-Correlation-ID'), correlationId);
    assert.deepEqual(Object.keys(response.body).sort(), [
      'correlationId',
      'message',
      'orchestratedFlowId',
      'runId',
      'startedAt',
      'workflowId',
    ]);
    assert.equal(response.body.correlationId, correlationId);
    assert.equal(response.body.orchestratedFlowId, flow.flowId);
    assert.match(response.body.startedAt, ISO_TIMESTAMP);
    const summary = await waitForRun(engine.api, flow.flowId);
    assert.equal(summary.correlationId, correlationId);
    assert.equal((await listedRuns(flow.flowId, 1)).body[0]!.correlationId, correlationId);

    // Without the header, the API makes one and says which.
    const flow2 = await createFlow(engine.api, { Uncorrelated: ok('u') });
    const made = await start(flow2.flowId);
    assert.equal(made.status, 202, JSON.stringify(made.body));
    assert.match(made.body.correlationId, UUID);
    assert.equal(made.headers.get('X-Correlation-ID'), made.body.correlationId);
    assert.equal((await waitForRun(engine.api, flow2.flowId)).correlationId, made.body.correlationId);
  });

  it('answers 503 for start, stop, status and runs when Temporal is down', async () => {
    const down = await startTestApi({ temporalAddress: `127.0.0.1:${await findFreePort()}` });
    try {
      const processor = await down.request('POST', '/api/Schema', {
        version: '1.0',
        name: `schema-${unique()}`,
        definition: {},
      });
      assert.equal(processor.status, 201, JSON.stringify(processor.body));
      const created = await down.request('POST', '/api/Processor', {
        version: '1.0.0',
        name: P,
        inputSchemaId: processor.body.id,
        outputSchemaId: processor.body.id,
        implementationHash: 'a'.repeat(64),
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const flow = await createFlow(down, { Unreachable: ok('x') });
      const unavailable = {
        error: 'ServiceUnavailable',
        message: 'Temporal is unavailable: the Temporal server cannot be reached',
      };
      const requests = [
        ['POST', `/api/Orchestration/start/${flow.flowId}`],
        ['POST', `/api/Orchestration/stop/${flow.flowId}`],
        ['GET', `/api/Orchestration/status/${flow.flowId}`],
        ['GET', `/api/Orchestration/runs/${flow.flowId}`],
      ] as const;
      const responses = await Promise.all(
        requests.map(([method, path]) => down.request(method, path, method === 'POST' ? {} : undefined)),
      );
      responses.forEach((response, i) => {
        const shown = `${requests[i]!.join(' ')}: ${JSON.stringify(response.body)}`;
        assert.equal(response.status, 503, shown);
        assert.deepEqual(response.body, unavailable, shown);
      });
    } finally {
      await down.close();
    }
  });

  // Last: shuts this file's workers down.
  it('reads completed, failed, cancelled and terminated runs when no worker is left', async () => {
    const [completed, failed, cancelled, terminated] = await Promise.all([
      createFlow(engine.api, { Done: ok({ n: 1 }) }),
      createFlow(engine.api, { Broken: { processor: P, configuration: { fail: true, nonRetryable: true } } }),
      createFlow(engine.api, { Halted: slow(20_000, { next: ['Undecided'] }), Undecided: ok('u') }),
      createFlow(engine.api, { Killed: slow(20_000) }),
    ]);
    const runs = await Promise.all([
      runFlow(engine.api, completed.flowId),
      runFlow(engine.api, failed.flowId),
      (async () => {
        await startRun(engine.api, cancelled.flowId);
        await whileRunning(cancelled.flowId, ['Halted']);
        assert.equal((await stop(cancelled.flowId)).status, 200);
        return waitForRun(engine.api, cancelled.flowId);
      })(),
      (async () => {
        await startRun(engine.api, terminated.flowId);
        await whileRunning(terminated.flowId, ['Killed']);
        assert.equal((await stop(terminated.flowId, '?terminate=true')).status, 200);
        return waitForRun(engine.api, terminated.flowId);
      })(),
    ]);
    const flows = [completed, failed, cancelled, terminated];
    const listings = await Promise.all(flows.map((flow) => listedRuns(flow.flowId, 1)));

    await engine.stopWorkers();

    const statuses = ['Completed', 'Failed', 'Cancelled', 'Terminated'];
    for (const [i, flow] of flows.entries()) {
      const before = runs[i]!;
      assert.equal(before.status, statuses[i]);
      const now = await status(flow.flowId);
      assert.equal(now.status, 200, JSON.stringify(now.body));
      assert.deepEqual(now.body, before, statuses[i]);
      const one = await engine.api.request('GET', `/api/Orchestration/runs/${flow.flowId}/${before.runId}`);
      assert.equal(one.status, 200, JSON.stringify(one.body));
      assert.deepEqual(one.body, before, statuses[i]);
      const list = await engine.api.request<ListedRun[]>('GET', `/api/Orchestration/runs/${flow.flowId}`);
      assert.equal(list.status, 200, JSON.stringify(list.body));
      assert.deepEqual(list.body, listings[i]!.body);
      assert.equal(list.body[0]?.status, statuses[i]);
    }
    assert.deepEqual(stepNamed(runs[0], 'Done').output, { n: 1 });
    assert.deepEqual(stepNamed(runs[1], 'Broken').error, {
      message: 'scripted permanent failure',
      type: 'Permanent',
    });
    assert.deepEqual(
      runs[2].steps.map(({ name, status, reason }) => ({ name, status, reason })),
      [
        {
          name: 'Halted',
          status: 'Cancelled',
          reason: 'the run was stopped; the processor acknowledged the cancellation',
        },
        { name: 'Undecided', status: 'Cancelled', reason: 'the run was stopped before the step was decided' },
      ],
    );
  });
});

function isEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
