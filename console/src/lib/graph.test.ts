import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import ELK from 'elkjs/lib/elk.bundled.js';
import {
  NODE_WIDTH,
  entryNodes,
  fromElkLayout,
  layerLayout,
  predecessorNames,
  splitProcessor,
  toElkGraph,
  toFlowElements,
  type GraphView,
  type StepNode,
} from './graph';

/** Fetch → (Shout | Handle failure) → Notify */
const view: GraphView = {
  workflow: { id: 'w', name: 'Greeting', version: '1.0' },
  nodes: [
    {
      id: 'a',
      name: 'Fetch',
      version: '1.0',
      processor: 'http-request@1.0.0',
      entryCondition: 'PreviousSuccess',
      entryPoint: true,
      layer: 0,
    },
    {
      id: 'b',
      name: 'Shout',
      version: '1.0',
      processor: 'transform@1.0.0',
      entryCondition: 'PreviousSuccess',
      entryPoint: false,
      layer: 1,
    },
    {
      id: 'c',
      name: 'Handle failure',
      version: '1.0',
      processor: 'transform@1.0.0',
      entryCondition: 'PreviousFailure',
      entryPoint: false,
      layer: 1,
    },
    {
      id: 'd',
      name: 'Notify',
      version: '1.0',
      processor: 'transform@1.0.0',
      entryCondition: 'Always',
      entryPoint: false,
      layer: 2,
    },
  ],
  edges: [
    { from: 'a', to: 'b' },
    { from: 'a', to: 'c' },
    { from: 'b', to: 'd' },
    { from: 'c', to: 'd' },
  ],
};
const now = Date.parse('2026-01-01T00:00:10Z');

describe('toFlowElements', () => {
  it('makes one node per step with its name, processor, condition and entry mark', () => {
    const { nodes, edges } = toFlowElements(view, { positions: new Map(), now });
    assert.deepEqual(
      nodes.map((n) => [n.id, n.data.name, n.data.processor, n.data.entryCondition, n.data.entryPoint]),
      [
        ['a', 'Fetch', 'http-request@1.0.0', 'PreviousSuccess', true],
        ['b', 'Shout', 'transform@1.0.0', 'PreviousSuccess', false],
        ['c', 'Handle failure', 'transform@1.0.0', 'PreviousFailure', false],
        ['d', 'Notify', 'transform@1.0.0', 'Always', false],
      ],
    );
    assert.deepEqual(
      edges.map((e) => [e.source, e.target, e.ariaLabel]),
      [
        ['a', 'b', 'Fetch to Shout'],
        ['a', 'c', 'Fetch to Handle failure'],
        ['b', 'd', 'Shout to Notify'],
        ['c', 'd', 'Handle failure to Notify'],
      ],
    );
  });

  it('labels nodes "Not run" without a run, with test hooks', () => {
    const { nodes } = toFlowElements(view, { positions: new Map(), now });
    const fetch = nodes[0]!;
    assert.equal(fetch.ariaLabel, 'Fetch: Not run');
    assert.equal(fetch.ariaRole, 'group');
    assert.deepEqual(fetch.domAttributes, { 'data-step-name': 'Fetch', 'data-status': 'NotRun' });
  });

  it("shows each step's state in the selected run: status, attempts, duration", () => {
    const { nodes } = toFlowElements(view, {
      positions: new Map(),
      now,
      selectedStepId: 'c',
      runSteps: [
        {
          stepId: 'a',
          status: 'Failed',
          attempts: 3,
          startedAt: '2026-01-01T00:00:00Z',
          completedAt: '2026-01-01T00:00:04Z',
        },
        { stepId: 'b', status: 'Skipped', attempts: 0 },
        { stepId: 'c', status: 'Running', attempts: 1, startedAt: '2026-01-01T00:00:05Z' },
      ],
    });
    assert.deepEqual(
      nodes.map((n) => [n.ariaLabel, n.data.status, n.data.attempts, n.data.durationMs, n.selected]),
      [
        ['Fetch: Failed', 'Failed', 3, 4000, false],
        ['Shout: Skipped', 'Skipped', 0, undefined, false],
        ['Handle failure: Running', 'Running', 1, 5000, true],
        // A step the run does not list (yet) is Pending.
        ['Notify: Pending', 'Pending', undefined, undefined, false],
      ],
    );
    assert.equal((nodes[2]!.domAttributes as Record<string, string>)['data-status'], 'Running');
  });

  it("marks steps a rerun reused, and shows a for-each step's item counts", () => {
    const { nodes } = toFlowElements(view, {
      positions: new Map(),
      now,
      runSteps: [
        { stepId: 'a', status: 'Succeeded', attempts: 1, reusedFrom: { runId: 'run-1' } },
        {
          stepId: 'b',
          status: 'Running',
          attempts: 1,
          items: { total: 50, done: 12, failed: 1, running: 5 },
        },
      ],
    });
    const [fetch, shout] = nodes as [StepNode, StepNode];
    assert.equal(fetch.data.reusedFromRunId, 'run-1');
    assert.deepEqual(fetch.domAttributes, {
      'data-step-name': 'Fetch',
      'data-status': 'Succeeded',
      'data-reused': 'true',
    });
    // The accessible name stays "<step>: <status>".
    assert.equal(fetch.ariaLabel, 'Fetch: Succeeded');
    assert.equal(shout.data.itemsText, '12/50 done, 1 failed, 5 running');
    assert.equal(shout.data.reusedFromRunId, undefined);
    assert.equal(fetch.data.itemsText, undefined);
  });

  it('places nodes where the layout says, else by layer', () => {
    const { nodes } = toFlowElements(view, { positions: new Map([['a', { x: 5, y: 6 }]]), now });
    assert.deepEqual(nodes[0]!.position, { x: 5, y: 6 });
    assert.deepEqual(nodes[3]!.position, layerLayout(view).get('d'));
  });
});

describe('layerLayout', () => {
  it('puts each layer in a column, left to right', () => {
    const positions = layerLayout(view);
    assert.equal(positions.get('a')!.x, 0);
    assert.ok(positions.get('b')!.x > NODE_WIDTH);
    assert.equal(positions.get('b')!.x, positions.get('c')!.x);
    assert.ok(positions.get('c')!.y > positions.get('b')!.y);
    assert.ok(positions.get('d')!.x > positions.get('b')!.x);
  });
});

describe('ELK layout', () => {
  it('lays the graph out left to right', async () => {
    const graph = toElkGraph(view);
    assert.equal(graph.layoutOptions!['elk.direction'], 'RIGHT');
    assert.equal(graph.children!.length, 4);
    const positions = fromElkLayout(await new ELK().layout(graph));
    const x = (id: string) => positions.get(id)!.x;
    assert.ok(x('a') < x('b') && x('b') < x('d') && x('c') < x('d'));
  });

  it('lays out 1,000 steps (the time is measured by the e2e bench, not asserted)', async (t) => {
    const nodes = Array.from({ length: 1000 }, (_, i) => ({
      id: `s${i}`,
      name: `Step ${i}`,
      version: '1',
      processor: 'transform@1.0.0',
      entryCondition: 'PreviousSuccess',
      entryPoint: i < 10,
      layer: Math.floor(i / 10),
    }));
    // Ten chains of 100, with a cross edge every 7 steps.
    const edges = nodes.flatMap((_, i) => [
      ...(i + 10 < 1000 ? [{ from: `s${i}`, to: `s${i + 10}` }] : []),
      ...(i % 7 === 0 && i + 11 < 1000 ? [{ from: `s${i}`, to: `s${i + 11}` }] : []),
    ]);
    const started = performance.now();
    const positions = fromElkLayout(await new ELK().layout(toElkGraph({ ...view, nodes, edges })));
    const took = performance.now() - started;
    assert.equal(positions.size, 1000);
    t.diagnostic(`1,000 steps laid out in ${Math.round(took)} ms`);
  });
});

describe('helpers', () => {
  it('splits name@version at the last @', () => {
    assert.deepEqual(splitProcessor('http-request@1.0.0'), { name: 'http-request', version: '1.0.0' });
    assert.deepEqual(splitProcessor('@scope/p@2'), { name: '@scope/p', version: '2' });
    assert.equal(splitProcessor('nope'), undefined);
    assert.equal(splitProcessor('trailing@'), undefined);
  });
  it('finds entry steps and predecessors', () => {
    assert.deepEqual(
      entryNodes(view).map((n) => n.name),
      ['Fetch'],
    );
    assert.deepEqual(predecessorNames(view, 'd'), ['Shout', 'Handle failure']);
    assert.deepEqual(predecessorNames(view, 'a'), []);
  });
});
