/**
 * Long runs continue as new (issue 14 §2), through a real Temporal dev server: runs started with a small history
 * budget span several segments, decide exactly what one unsegmented run decides, hand data across segments, and
 * answer status, listing, pause and stop as one run under their first run ID.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { temporal } from '@temporalio/proto';
import { transformProcessor } from '../../activities/processors';
import { loadFlowSnapshot } from '../../activities/snapshot';
import type { RunListItem } from '../../api/orchestration/run-status';
import { runListItemView, runView } from '../../api/orchestration/schemas';
import type { FlowRunInput, HistoryBudget, RunSummary } from '../../domain/flow-types';
import { runSearchAttributes } from '../../domain/search-attributes';
import { FLOW_WORKFLOW_TYPE, manualRunWorkflowId } from '../../domain/task-queue';
import { scriptedProcessor } from '../fixtures/scripted-processor';
import {
  createFlow,
  eventually,
  startTestEngine,
  waitForRun,
  type StepSpec,
  type TestEngine,
} from '../support/engine';
import { unique } from '../support/fixtures';
import { poolOf } from '../../prisma/client';

const T = { ...transformProcessor, name: `transform-${unique()}` };
const S = `segments-${unique()}`;

describe('long runs continue as new', () => {
  let engine: TestEngine;
  before(async () => {
    engine = await startTestEngine([T, scriptedProcessor(S)]);
  });
  after(() => engine.close());

  /**
   * Starts the flow's manual run the way the API does, with a history budget (the API's runs use the default one):
   * the definition inline when `inline`, else loaded (in pages) by the run.
   */
  async function start(flowId: string, input: unknown, historyBudget?: HistoryBudget, inline = false) {
    const snapshot = inline ? await loadFlowSnapshot(engine.api.prisma, flowId) : null;
    const correlationId = randomUUID();
    const args: [FlowRunInput] = [
      {
        orchestratedFlowId: flowId,
        input,
        correlationId,
        trigger: 'manual',
        ...(historyBudget ? { historyBudget } : {}),
        ...(snapshot ? { snapshot } : {}),
      },
    ];
    const handle = await engine.client.workflow.start(FLOW_WORKFLOW_TYPE, {
      taskQueue: engine.taskQueue,
      workflowId: manualRunWorkflowId(flowId),
      args,
      typedSearchAttributes: runSearchAttributes({
        orchestratedFlowId: flowId,
        orchestratedFlowName: 'long',
        trigger: 'manual',
        correlationId,
      }),
    });
    return handle.firstExecutionRunId;
  }

  /** Each segment's history, first to last, following continue-as-new. */
  async function segmentsOf(flowId: string, runId: string) {
    const histories: temporal.api.history.v1.IHistory[] = [];
    let next: string | null | undefined = runId;
    while (next) {
      const history: temporal.api.history.v1.IHistory = await engine.client.workflow
        .getHandle(manualRunWorkflowId(flowId), next)
        .fetchHistory();
      histories.push(history);
      const last: temporal.api.history.v1.IHistoryEvent | undefined =
        history.events?.[history.events.length - 1];
      next = last?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
    }
    return histories;
  }

  /** A chain `<prefix>01` → `<prefix>02` → … of `length` steps, each as `step(i)` says (i from 1). */
  const chainOf = (prefix: string, length: number, step: (i: number) => StepSpec) => {
    const name = (i: number) => `${prefix}${String(i).padStart(2, '0')}`;
    const chain: Record<string, StepSpec> = {};
    for (let i = 1; i <= length; i++)
      chain[name(i)] = { ...step(i), ...(i < length ? { next: [name(i + 1)] } : {}) };
    return chain;
  };

  /**
   * A chain of `length` steps of S, each waiting `delayMs` and answering its number, started with a 30-event budget
   * so it continues as new every few steps.
   */
  const startSlowChain = async (
    prefix: string,
    length: number,
    delayMs: number,
    extra: Partial<StepSpec> = {},
  ) => {
    const flow = await createFlow(
      engine.api,
      chainOf(prefix, length, (i) => ({ processor: S, configuration: { delayMs, output: i }, ...extra })),
    );
    return { flow, runId: await start(flow.flowId, null, { events: 30 }) };
  };

  const run = (flowId: string, runId: string) =>
    engine.api.request<RunSummary>('GET', `/api/Orchestration/runs/${flowId}/${runId}`);
  const runs = (flowId: string) =>
    engine.api.request<RunListItem[]>('GET', `/api/Orchestration/runs/${flowId}`);

  it('a 40-step chain over several segments: data flows through, status and listing answer for the whole run', async () => {
    const chain = chainOf('C', 40, () => ({
      processor: T.name,
      configuration: { expression: '$ + 1' },
    }));
    const flow = await createFlow(engine.api, chain);
    const runId = await start(flow.flowId, 0, { events: 40 }, true);
    const summary = await waitForRun(engine.api, flow.flowId, 180_000);

    assert.equal(summary.status, 'Completed', JSON.stringify(summary).slice(0, 1500));
    assert.equal(summary.runId, runId, 'the run keeps its first run ID');
    assert.deepEqual(runView.parse(summary), summary, 'the answer is what OpenAPI documents');
    const histories = await segmentsOf(flow.flowId, runId);
    assert.ok(histories.length >= 4, `${histories.length} segments`);
    assert.deepEqual(summary.segments, { count: histories.length });
    // Every step, whole: outputs count up across segments, each with its decision; nothing left as a stub.
    assert.equal(summary.steps.length, 40);
    summary.steps.forEach((step, index) => {
      assert.equal(step.status, 'Succeeded', step.name);
      assert.equal(step.output, index + 1, step.name);
      assert.equal(step.archived, undefined, step.name);
      assert.equal(step.decision?.outcome, 'Run', step.name);
    });
    assert.equal(summary.completedSteps, 40);

    // One Temporal execution per segment, each one's own history within its budget (plus the last step's events).
    for (const [index, history] of histories.entries()) {
      const events = history.events ?? [];
      assert.ok(events.length <= 40 + 20, `segment ${index + 1} has ${events.length} events`);
      const activities = events.filter((e) => e.activityTaskScheduledEventAttributes).length;
      assert.ok(activities >= 1, `segment ${index + 1} ran steps`);
    }

    const listed = await runs(flow.flowId);
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    assert.equal(listed.body.length, 1, JSON.stringify(listed.body));
    const [item] = listed.body;
    assert.deepEqual(runListItemView.parse(item), item);
    assert.equal(item?.runId, runId);
    assert.equal(item?.status, 'Completed');
    assert.equal(item?.segments, histories.length);
    assert.equal(item?.startedAt, summary.startedAt);

    const one = await run(flow.flowId, runId);
    assert.equal(one.status, 200);
    assert.deepEqual(one.body, summary);
  });

  it('decides across segments exactly what one segment decides: joins, a failure, its handler and skips', async () => {
    // 5 layers of 4; each step feeds the same and the next position of the next layer (joins of two). L2_1 fails;
    // H handles it; what needs L2_1's success is skipped, and skips spread.
    const steps: Record<string, StepSpec> = {};
    const name = (layer: number, j: number) => `L${layer}_${j}`;
    for (let layer = 1; layer <= 5; layer++)
      for (let j = 0; j < 4; j++)
        steps[name(layer, j)] = {
          processor: S,
          ...(layer === 2 && j === 1 ? { configuration: { fail: true, nonRetryable: true } } : {}),
          ...(layer === 3 && j === 1 ? { entryCondition: 'Always' } : {}),
          next: [
            ...(layer < 5 ? [name(layer + 1, j), name(layer + 1, (j + 1) % 4)] : []),
            ...(layer === 2 && j === 1 ? ['H'] : []),
          ],
        };
    steps.H = { processor: S, entryCondition: 'PreviousFailure', configuration: { output: 'handled' } };
    const flow = await createFlow(engine.api, steps);

    await start(flow.flowId, { go: 1 });
    const whole = await waitForRun(engine.api, flow.flowId, 120_000);
    // A segment runs past its budget while the steps already started finish (a layer of four, each with its three
    // activity events), and how many events that takes depends on how completions batch into workflow tasks: a
    // budget of 30 gave two segments when they batched well. At 15 the 21 steps need at least three.
    const runId = await start(flow.flowId, { go: 1 }, { events: 15 });
    const segmented = await waitForRun(engine.api, flow.flowId, 180_000);

    assert.equal(segmented.runId, runId);
    assert.equal(whole.segments, undefined, 'the default budget is far off');
    assert.ok((segmented.segments?.count ?? 0) >= 3, JSON.stringify(segmented.segments));
    assert.equal(segmented.status, whole.status);
    assert.deepEqual(segmented.unhandledFailures, whole.unhandledFailures);
    const view = (summary: RunSummary) =>
      summary.steps.map(({ name: step, status, reason, output, error, decision }) => ({
        step,
        status,
        reason,
        output,
        error,
        decision,
      }));
    assert.deepEqual(view(segmented), view(whole));
    assert.equal(segmented.steps.find((s) => s.name === 'H')?.output, 'handled');
    assert.ok(
      segmented.steps.some((s) => s.status === 'Skipped'),
      'the failure skips what needs it',
    );
  });

  it('pause, resume and stop reach the segment the run is at, by its first run ID', async () => {
    const { flow, runId } = await startSlowChain('P', 60, 100, { timeouts: { heartbeatMs: 3_000 } });
    await eventually(
      'the run continued as new twice',
      async () => {
        const status = await run(flow.flowId, runId);
        return (status.body.segments?.count ?? 0) >= 3 ? true : undefined;
      },
      120_000,
    );

    const paused = await engine.api.request<RunSummary>(
      'POST',
      `/api/Orchestration/pause/${flow.flowId}?runId=${runId}`,
      { reason: 'long run' },
    );
    assert.equal(paused.status, 200, JSON.stringify(paused.body));
    assert.equal(paused.body.status, 'Paused');
    assert.equal(paused.body.runId, runId);
    assert.equal(paused.body.steps.length, 60);
    assert.ok(
      paused.body.steps.every((s) => s.archived === undefined),
      'the answer is the whole run: archived steps read back',
    );
    const resumed = await engine.api.request<RunSummary>(
      'POST',
      `/api/Orchestration/resume/${flow.flowId}?runId=${runId}`,
      {},
    );
    assert.equal(resumed.status, 200, JSON.stringify(resumed.body));
    assert.equal(resumed.body.status, 'Running');

    const stopped = await engine.api.request<{ runIds: string[] }>(
      'POST',
      `/api/Orchestration/stop/${flow.flowId}`,
    );
    assert.equal(stopped.status, 200, JSON.stringify(stopped.body));
    assert.deepEqual(stopped.body.runIds, [runId], 'the run, by its first run ID, once');
    const summary = await waitForRun(engine.api, flow.flowId, 60_000);
    assert.equal(summary.status, 'Cancelled', JSON.stringify(summary).slice(0, 1500));
    assert.equal(summary.runId, runId);
    assert.equal(summary.steps.length, 60);
    const succeeded = summary.steps.filter((s) => s.status === 'Succeeded');
    assert.ok(succeeded.length >= 10, `${succeeded.length} succeeded before the stop`);
    // Steps from earlier segments are whole again, from their archives: outputs too (a cancelled run's last segment
    // leaves its own steps' outputs out of its memo, as every cancelled run does).
    const withOutput = succeeded.filter((s) => s.output !== undefined);
    assert.ok(withOutput.length >= 6, `${withOutput.length} outputs`);
    for (const step of withOutput) assert.equal(step.output, Number(step.name.slice(1)), step.name);
    assert.ok(summary.steps.every((s) => s.archived === undefined));
    assert.ok(summary.steps.slice(-1)[0]?.status === 'Cancelled');
  });

  it('a stop while a segment hands over ends the run Cancelled with its whole summary', async () => {
    const { flow, runId } = await startSlowChain('E', 30, 20);
    await eventually(
      'the run loaded its definition',
      async () => ((await run(flow.flowId, runId)).body.completedSteps ?? 0) > 0 || undefined,
      30_000,
    );
    // Hold the blob store's table: the segment's archive cannot be saved, so the run waits at its hand-over.
    const holder = await poolOf(engine.api.prisma)!.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE payload_blob IN EXCLUSIVE MODE');
      await eventually(
        'the segment waits to save its archive',
        async () => {
          const { rows } = await holder.query<{ waiting: number }>(
            `SELECT count(*)::int AS waiting FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
             WHERE c.relname = 'payload_blob' AND NOT l.granted`,
          );
          return rows[0]!.waiting > 0 || undefined;
        },
        30_000,
      );
      const stopped = await engine.api.request<{ runIds: string[] }>(
        'POST',
        `/api/Orchestration/stop/${flow.flowId}`,
      );
      assert.equal(stopped.status, 200, JSON.stringify(stopped.body));
      assert.deepEqual(stopped.body.runIds, [runId]);
      const summary = await waitForRun(engine.api, flow.flowId, 30_000);
      assert.equal(summary.status, 'Cancelled', JSON.stringify(summary).slice(0, 500));
      assert.equal(summary.runId, runId);
      // Before patch stop-at-segment-edge the segment ended without its summary: no steps at all.
      assert.equal(summary.steps.length, 30);
      const succeeded = summary.steps.filter((s) => s.status === 'Succeeded').length;
      assert.ok(succeeded > 0 && succeeded < 30, `${succeeded} succeeded`);
      assert.equal(summary.steps.filter((s) => s.status === 'Cancelled').length, 30 - succeeded);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
  });

  it('a long run ended from outside (terminated) is still named by its first run ID and start', async () => {
    const { flow, runId } = await startSlowChain('T', 40, 100);
    await eventually(
      'the run continued as new',
      async () => ((await run(flow.flowId, runId)).body.segments?.count ?? 0) >= 2 || undefined,
      120_000,
    );
    const first = await engine.client.workflow.getHandle(manualRunWorkflowId(flow.flowId), runId).describe();
    // Terminated: no summary of its own, the status is read from the history of the segment it was at.
    await engine.client.workflow.getHandle(manualRunWorkflowId(flow.flowId)).terminate('ended from outside');
    const summary = await waitForRun(engine.api, flow.flowId, 60_000);
    assert.equal(summary.status, 'Terminated', JSON.stringify(summary).slice(0, 500));
    assert.equal(summary.runId, runId);
    assert.equal(summary.startedAt, first.startTime.toISOString());
    const byId = await run(flow.flowId, runId);
    assert.equal(byId.status, 200, JSON.stringify(byId.body).slice(0, 500));
    assert.equal(byId.body.runId, runId);
    assert.equal(byId.body.status, 'Terminated');
  });
});
