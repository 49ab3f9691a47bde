/**
 * Records representative interpreter histories into test/fixtures/histories/ for the replay test.
 * Run it with the test runner's services: `npm test -- test/replay/record-histories.ts`. Re-record only on purpose
 * (a new fixture for new behaviour); never to make a failing replay pass — that failure is the point.
 */
import { fixtureCodec } from './fixture-codec';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { FlowRunInput, RunSummary } from '../../domain/flow-types';
import { FLOW_WORKFLOW_TYPE, manualRunWorkflowId } from '../../domain/task-queue';
import { outages, scriptedProcessor } from '../fixtures/scripted-processor';
import {
  createFlow,
  runFlow,
  startTestEngine,
  waitForRun,
  type StepSpec,
  type TestEngine,
} from '../support/engine';
import { unique } from '../support/fixtures';

/**
 * One folder per interpreter generation; older generations stay, so runs recorded before a patch keep replaying.
 * v1: definition loaded by a regular activity. v2: manual runs carry the definition in their input; runs started
 * without it (schedules) load it with a local activity (patch `snapshot-local-activity`). v3: each predecessor's output
 * travels once per invocation, in `input` (patch `step-data-once`); payloads encrypted with the fixture codec. v4: each
 * decided step's trace in status (patch `decision-trace`). v5: run control (patches `correlation-id-from-run`,
`stop-waits-for-steps`, `run-control`): a paused and resumed run, a rerun, a for-each step, a saga. v6: long runs
 * (patch `continue-as-new`): every scenario again, a scheduled run loading its definition in pages, and a chain that
 * continues as new, one file per segment (`segmented-1`, `segmented-2`, …). From v6 on a run records one patch
 * marker, which stands for every earlier patch. v7: a stop at a segment's edge is a stop like any other (patch
 * `stop-at-segment-edge`, recorded by each segment that continues or was continued): every scenario again. v8: steps
 * settle in their activity's own promise callbacks (patch `lean-steps`, whose one marker stands for every earlier
 * patch, `stop-at-segment-edge` included): every scenario again.
 */
const OUT = path.join(__dirname, '..', 'fixtures', 'histories', 'v8');
const P = `replay-${unique()}`;
const fast = { maximumAttempts: 3, initialIntervalMs: 50, backoffCoefficient: 1 };

const SCENARIOS: Record<string, Record<string, StepSpec>> = {
  // A chain passing data along.
  chain: { A: { processor: P, next: ['B'] }, B: { processor: P, next: ['C'] }, C: { processor: P } },
  // A fan-out and a join, with a Never step and retries.
  'fan-out-join': {
    Start: { processor: P, next: ['Left', 'Right', 'Off'] },
    Left: { processor: P, next: ['Join'], configuration: { failTimes: 1 }, retryPolicy: fast },
    Right: { processor: P, next: ['Join'] },
    Off: { processor: P, entryCondition: 'Never' },
    Join: { processor: P },
  },
  // A failure handled by a PreviousFailure step; the success path is skipped.
  'handled-failure': {
    Fetch: { processor: P, next: ['Parse', 'Alert'], configuration: { fail: true, nonRetryable: true } },
    Parse: { processor: P },
    Alert: { processor: P, entryCondition: 'PreviousFailure' },
  },
  // A for-each step over the input's orders, two at a time, each item retried once; then a step receiving the outputs.
  'for-each': {
    Each: {
      processor: P,
      forEach: { items: 'orders', maxParallel: 2 },
      configuration: { failTimes: 1 },
      retryPolicy: fast,
      next: ['Sum'],
    },
    Sum: { processor: P },
  },
  // A saga: the charge and the reservation are undone, newest first, after shipping fails (one undo retried).
  compensated: {
    Reserve: {
      processor: P,
      compensation: { processor: P, configuration: { failTimes: 1 } },
      next: ['Charge'],
    },
    Charge: { processor: P, compensation: { processor: P }, next: ['Ship'] },
    Ship: { processor: P, configuration: { fail: true, nonRetryable: true } },
  },
  // A failure nothing handles: the run fails.
  'unhandled-failure': {
    Fetch: {
      processor: P,
      next: ['Parse'],
      configuration: { fail: true },
      retryPolicy: { ...fast, maximumAttempts: 2 },
    },
    Parse: { processor: P },
  },
};

describe('record interpreter histories', () => {
  let engine: TestEngine;
  before(async () => {
    await mkdir(OUT, { recursive: true });
    engine = await startTestEngine([scriptedProcessor(P)], { codec: fixtureCodec });
  });
  after(() => engine.close());

  const save = async (name: string, summary: RunSummary) => {
    const handle = engine.client.workflow.getHandle(summary.workflowId, summary.runId);
    const history = await handle.fetchHistory();
    await writeFile(path.join(OUT, `${name}.json`), historyToJSON(history) + '\n');
  };

  for (const [name, steps] of Object.entries(SCENARIOS))
    it(`records ${name}`, async () => {
      const flow = await createFlow(engine.api, steps);
      await save(name, await runFlow(engine.api, flow.flowId, { order: 42, orders: [1, 2, 3, 4, 5] }));
    });

  it('records scheduled-local-load', async () => {
    const flow = await createFlow(engine.api, SCENARIOS.chain!);
    // As a schedule starts it: no definition and no correlation ID in the input.
    const handle = await engine.client.workflow.start(FLOW_WORKFLOW_TYPE, {
      taskQueue: engine.taskQueue,
      workflowId: `flow-scheduled-${flow.flowId}-recorded`,
      args: [{ orchestratedFlowId: flow.flowId, trigger: 'schedule' } satisfies FlowRunInput],
    });
    const summary = await handle.result();
    await save('scheduled-local-load', summary);
  });

  it('records segmented', async () => {
    const chain: Record<string, StepSpec> = {};
    for (let i = 1; i <= 10; i++)
      chain[`S${i}`] = { processor: P, ...(i < 10 ? { next: [`S${i + 1}`] } : {}) };
    const flow = await createFlow(engine.api, chain);
    // As the API starts a manual run, with a budget small enough for several segments.
    const handle = await engine.client.workflow.start(FLOW_WORKFLOW_TYPE, {
      taskQueue: engine.taskQueue,
      workflowId: manualRunWorkflowId(flow.flowId),
      args: [
        {
          orchestratedFlowId: flow.flowId,
          input: { order: 7 },
          correlationId: `recorded-${unique()}`,
          trigger: 'manual',
          historyBudget: { events: 20 },
        } satisfies FlowRunInput,
      ],
    });
    await handle.result();
    let runId: string | null | undefined = handle.firstExecutionRunId;
    for (let segment = 1; runId; segment++) {
      const history = await engine.client.workflow.getHandle(handle.workflowId, runId).fetchHistory();
      await writeFile(path.join(OUT, `segmented-${segment}.json`), historyToJSON(history) + '\n');
      runId = history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
    }
  });

  const whenRunning = async (flowId: string, name: string) => {
    for (;;) {
      const status = await engine.api.request<RunSummary>('GET', `/api/Orchestration/status/${flowId}`);
      if (status.body.steps?.some((s) => s.name === name && s.status === 'Running')) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  it('records paused-resumed', async () => {
    const flow = await createFlow(engine.api, {
      First: {
        processor: P,
        next: ['Second'],
        configuration: { delayMs: 1_000 },
        timeouts: { heartbeatMs: 2_000 },
      },
      Second: { processor: P },
    });
    await engine.api.request('POST', `/api/Orchestration/start/${flow.flowId}`, {});
    await whenRunning(flow.flowId, 'First');
    await engine.api.request('POST', `/api/Orchestration/pause/${flow.flowId}`, { reason: 'recording' });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await engine.api.request('POST', `/api/Orchestration/resume/${flow.flowId}`, {});
    await save('paused-resumed', await waitForRun(engine.api, flow.flowId));
  });

  it('records rerun', async () => {
    const partner = `partner-${unique()}`;
    const flow = await createFlow(engine.api, {
      A: { processor: P, next: ['B'] },
      B: { processor: P, next: ['C'], configuration: { partner } },
      C: { processor: P },
    });
    outages.add(partner);
    const failed = await runFlow(engine.api, flow.flowId, { order: 1 });
    outages.delete(partner);
    await engine.api.request('POST', `/api/Orchestration/rerun/${flow.flowId}/${failed.runId}`, {});
    await save('rerun', await waitForRun(engine.api, flow.flowId));
  });

  it('records cancelled', async () => {
    const flow = await createFlow(engine.api, {
      Slow: {
        processor: P,
        next: ['After'],
        configuration: { delayMs: 30_000 },
        timeouts: { heartbeatMs: 2_000 },
      },
      After: { processor: P },
    });
    await engine.api.request('POST', `/api/Orchestration/start/${flow.flowId}`, {});
    for (;;) {
      const status = await engine.api.request<RunSummary>('GET', `/api/Orchestration/status/${flow.flowId}`);
      if (status.body.currentSteps?.length) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await engine.api.request('POST', `/api/Orchestration/stop/${flow.flowId}`);
    await save('cancelled', await waitForRun(engine.api, flow.flowId));
  });
});
