/**
 * For-each steps through a real Temporal dev server (issue 13 §3): one activity per item, bounded by `maxParallel` and
 * by the run's own limit, outputs in item order, failFast and collect, the empty list, and what status shows.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runView } from '../../api/orchestration/schemas';
import type { RunSummary } from '../../domain/flow-types';
import { callsSeen, scriptedProcessor, type Echo } from '../fixtures/scripted-processor';
import {
  createFlow,
  runFlow,
  startTestEngine,
  stepNamed,
  type StepSpec,
  type TestEngine,
} from '../support/engine';
import { unique } from '../support/fixtures';

const P = `for-each-${unique()}`;

/** The most items running at once, from each item's own receive and finish times. */
function maxOverlap(echoes: Echo[]): number {
  const edges = echoes.flatMap((e) => [
    [e.ranFrom, 1],
    [e.ranUntil, -1],
  ]);
  // At equal times a finish comes before a start: back-to-back items do not overlap.
  edges.sort(([a, da], [b, db]) => a! - b! || da! - db!);
  let now = 0;
  let most = 0;
  for (const [, delta] of edges) most = Math.max(most, (now += delta!));
  return most;
}

describe('for-each steps through Temporal', () => {
  let engine: TestEngine;
  before(async () => {
    engine = await startTestEngine([scriptedProcessor(P)]);
  });
  after(() => engine.close());

  const items = (n: number) => Array.from({ length: n }, (_, i) => ({ sku: `sku-${i}`, quantity: i }));
  const fanOut = (
    forEach: Record<string, unknown>,
    configuration: Record<string, unknown> = {},
  ): Record<string, StepSpec> => ({
    Each: {
      processor: P,
      forEach,
      configuration: { echo: true, ...configuration },
      next: ['After'],
      retryPolicy: { maximumAttempts: 1 },
    },
    After: { processor: P, configuration: { echo: true } },
  });
  const callsOf = (runId: string) => callsSeen.filter((c) => c.startsWith(`${runId}/`));

  it('runs 50 items at most 5 at once, gives each its item and index, and keeps the outputs in item order', async () => {
    const flow = await createFlow(engine.api, fanOut({ items: 'orders', maxParallel: 5 }, { delayMs: 150 }));
    const orders = items(50);
    const run = await runFlow(engine.api, flow.flowId, { orders, customer: 'c-1' });
    assert.equal(run.status, 'Completed', JSON.stringify(run));
    const each = stepNamed(run, 'Each');
    assert.equal(each.status, 'Succeeded');
    assert.deepEqual(each.items, { total: 50, done: 50, failed: 0, running: 0 });
    const echoes = each.output as Echo[];
    assert.deepEqual(
      echoes.map((e) => [e.input, e.item]),
      orders.map((order, index) => [order, { index, total: 50 }]),
    );
    const overlap = maxOverlap(echoes);
    assert.ok(overlap <= 5, `${overlap} items ran at once`);
    assert.ok(overlap >= 2, `items ran one at a time (${overlap}): maxParallel is not used`);
    // The next step receives the array of outputs.
    assert.deepEqual((stepNamed(run, 'After').output as Echo).input, echoes);
    runView.parse(run);

    // In Temporal: activity `<stepId>/<index>`, summary `<step name> [<index>]`.
    const history = await engine.client.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
    const scheduled = (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes);
    const ids = scheduled.map((e) => e.activityTaskScheduledEventAttributes!.activityId);
    assert.deepEqual(
      ids.filter((id) => id?.startsWith(`${flow.stepIds.Each}/`)).sort(),
      orders.map((_, i) => `${flow.stepIds.Each}/${i}`).sort(),
    );
  });

  it('failFast: the first failed item fails the step and the rest are not started', async () => {
    const flow = await createFlow(
      engine.api,
      fanOut({ items: '$', maxParallel: 2 }, { failItems: [3], delayMs: 100 }),
    );
    const run = await runFlow(engine.api, flow.flowId, items(20));
    assert.equal(run.status, 'Failed');
    const each = stepNamed(run, 'Each');
    assert.equal(each.status, 'Failed');
    assert.equal(each.error?.type, 'ItemRejected');
    assert.equal(each.error?.message, 'item 3 of 20 failed: item 3 is rejected');
    assert.deepEqual((each.error?.details as { failedIndexes: number[] }).failedIndexes, [3]);
    assert.equal(each.items?.failed, 1);
    const calls = callsOf(run.runId).length;
    assert.ok(calls < 20, `${calls} items were called after item 3 failed`);
    assert.equal(stepNamed(run, 'After').status, 'Skipped');
  });

  it('collect: every item runs, and the step fails listing the failed indexes', async () => {
    const flow = await createFlow(
      engine.api,
      fanOut({ items: '$', maxParallel: 4, failurePolicy: 'collect' }, { failItems: [3, 7] }),
    );
    const run = await runFlow(engine.api, flow.flowId, items(12));
    assert.equal(run.status, 'Failed');
    const each = stepNamed(run, 'Each');
    assert.deepEqual(
      { type: each.error?.type, message: each.error?.message, items: each.items },
      {
        type: 'ForEachFailed',
        message: '2 of 12 items failed: 3, 7',
        items: { total: 12, done: 10, failed: 2, running: 0 },
      },
    );
    assert.deepEqual(
      (each.error?.details as { errors: Array<{ index: number; error: { message: string } }> }).errors.map(
        (e) => [e.index, e.error.message],
      ),
      [
        [3, 'item 3 is rejected'],
        [7, 'item 7 is rejected'],
      ],
    );
    assert.equal(callsOf(run.runId).length, 12);
  });

  it('an empty list succeeds with []; a single value is a list of one', async () => {
    const flow = await createFlow(engine.api, fanOut({ items: 'orders' }));
    const empty = await runFlow(engine.api, flow.flowId, { orders: [] });
    assert.equal(empty.status, 'Completed');
    assert.deepEqual(stepNamed(empty, 'Each').output, []);
    assert.deepEqual(stepNamed(empty, 'Each').items, { total: 0, done: 0, failed: 0, running: 0 });
    assert.deepEqual((stepNamed(empty, 'After').output as Echo).input, []);
    const none = await runFlow(engine.api, flow.flowId, { customer: 'no orders key' });
    assert.deepEqual(stepNamed(none, 'Each').output, []);
    const one = await runFlow(engine.api, flow.flowId, { orders: { sku: 'only' } });
    assert.deepEqual(
      (stepNamed(one, 'Each').output as Echo[]).map((e) => e.input),
      [{ sku: 'only' }],
    );
  });

  it('"assignments": one item per assigned Address / Delivery, in assignment order', async () => {
    const tag = unique();
    const applied = await engine.api.request('POST', '/api/Bundle/apply', {
      documents: [
        ...['eu', 'us', 'apac'].map((region) => ({
          kind: 'Delivery',
          name: `${tag}-${region}`,
          version: '1',
          connectionString: `https://${region}.partner.example/orders`,
        })),
        {
          kind: 'Step',
          name: `${tag}-Send`,
          version: '1',
          processor: `${P}@1.0.0`,
          forEach: { items: 'assignments', maxParallel: 3 },
          configuration: { echo: true },
        },
        { kind: 'Workflow', name: `${tag}-wf`, version: '1', steps: [`${tag}-Send@1`] },
        {
          kind: 'Assignment',
          name: `${tag}-regions`,
          version: '1',
          step: `${tag}-Send@1`,
          entities: [`${tag}-eu@1`, `${tag}-us@1`, `${tag}-apac@1`],
        },
        {
          kind: 'OrchestratedFlow',
          name: `${tag}-flow`,
          version: '1',
          workflow: `${tag}-wf@1`,
          assignments: [`${tag}-regions@1`],
        },
      ],
    });
    assert.equal(applied.status, 200, JSON.stringify(applied.body));
    const flow = await engine.api.request('GET', `/api/OrchestratedFlow/composite/1/${tag}-flow`);
    const run = await runFlow(engine.api, flow.body.id, { order: 5 });
    assert.equal(run.status, 'Completed', JSON.stringify(run));
    const echoes = run.steps[0]!.output as Echo[];
    assert.deepEqual(
      echoes.map((e) => [(e.input as { connectionString: string }).connectionString, e.item]),
      [
        ['https://eu.partner.example/orders', { index: 0, total: 3 }],
        ['https://us.partner.example/orders', { index: 1, total: 3 }],
        ['https://apac.partner.example/orders', { index: 2, total: 3 }],
      ],
    );
  });

  it('an expression that fails to evaluate fails the step with why', async () => {
    const flow = await createFlow(engine.api, fanOut({ items: '$error("no items today")' }));
    const run = await runFlow(engine.api, flow.flowId, {});
    const each = stepNamed(run, 'Each');
    assert.equal(each.status, 'Failed');
    assert.equal(each.error?.type, 'ForEachItemsInvalid');
    assert.match(each.error?.message ?? '', /no items today/);
  });

  it('1,000 items complete without exceeding the flow limit on activities at once', async () => {
    const flow = await createFlow(
      engine.api,
      {
        Each: {
          processor: P,
          forEach: { items: '$', maxParallel: 100 },
          configuration: { echo: true, delayMs: 20 },
        },
      },
      { maxConcurrentSteps: 20 },
    );
    const run = await runFlow(engine.api, flow.flowId, items(1_000));
    assert.equal(run.status, 'Completed');
    const echoes = stepNamed(run, 'Each').output as Echo[];
    assert.equal(echoes.length, 1_000);
    assert.deepEqual(
      echoes.map((e) => e.item?.index),
      [...Array(1_000).keys()],
    );
    const overlap = maxOverlap(echoes);
    assert.ok(overlap <= 20, `${overlap} items ran at once under a limit of 20`);
  });

  it('status shows the item counts while the step runs', async () => {
    const flow = await createFlow(engine.api, fanOut({ items: '$', maxParallel: 2 }, { delayMs: 400 }));
    await engine.api.request('POST', `/api/Orchestration/start/${flow.flowId}`, { input: items(6) });
    let seen: RunSummary | undefined;
    for (let i = 0; i < 100 && !seen; i++) {
      const status = await engine.api.request<RunSummary>('GET', `/api/Orchestration/status/${flow.flowId}`);
      const counts = status.body.steps?.find((s) => s.name === 'Each')?.items;
      if (counts && counts.running === 2 && counts.done >= 1) seen = status.body;
      else await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(seen, 'never saw two items running with one done');
    assert.equal(stepNamed(seen, 'Each').items?.total, 6);
    runView.parse(seen);
  });
});
