import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RunPlan } from './flow-run';
import type { FlowSnapshot, SnapshotStep, StepState, StepStatus } from './flow-types';
import { changedSteps, sameJson, selectRerun } from './rerun';

/** A plan over `edges` (`{ a: ['b'] }`: a → b), steps in the order listed. */
function plan(edges: Record<string, string[]>): RunPlan {
  const ids = Object.keys(edges);
  const result: RunPlan = { stepIds: ids, steps: {}, predecessors: {}, successors: {} };
  for (const id of ids) {
    result.steps[id] = { id, name: id.toUpperCase(), entryCondition: 'PreviousSuccess', processor: 'p@1' };
    result.successors[id] = edges[id]!;
    result.predecessors[id] = ids.filter((other) => edges[other]!.includes(id));
  }
  return result;
}

const recorded = (statuses: Record<string, StepStatus>): Map<string, StepState> =>
  new Map(
    Object.entries(statuses).map(([id, status]) => [
      id,
      { stepId: id, name: id.toUpperCase(), processor: 'p@1', status, attempts: 1 },
    ]),
  );

describe('selectRerun', () => {
  // a → b → c → d, and a → alert (PreviousFailure) in parallel.
  const chain = plan({ a: ['b', 'alert'], b: ['c'], c: ['d'], d: [], alert: [] });

  it('reruns the failed step and everything downstream; reuses the rest, skips included', () => {
    const states = recorded({ a: 'Succeeded', b: 'Succeeded', c: 'Failed', d: 'Skipped', alert: 'Skipped' });
    assert.deepEqual(selectRerun(chain, states), { rerun: ['c', 'd'], reused: ['a', 'b', 'alert'] });
  });

  it('reruns cancelled and never-decided steps (a stopped or terminated run)', () => {
    const stopped = recorded({
      a: 'Succeeded',
      b: 'Cancelled',
      c: 'Cancelled',
      d: 'Cancelled',
      alert: 'Skipped',
    });
    assert.deepEqual(selectRerun(chain, stopped).rerun, ['b', 'c', 'd']);
    // A terminated run rebuilt from history lists only the steps that started.
    const terminated = recorded({ a: 'Succeeded', b: 'Cancelled' });
    assert.deepEqual(selectRerun(chain, terminated), { rerun: ['b', 'c', 'd', 'alert'], reused: ['a'] });
  });

  it('from a chosen step: that step and everything downstream, whatever their outcome', () => {
    const states = recorded({
      a: 'Succeeded',
      b: 'Succeeded',
      c: 'Succeeded',
      d: 'Succeeded',
      alert: 'Skipped',
    });
    assert.deepEqual(selectRerun(chain, states, { fromStepId: 'b' }), {
      rerun: ['b', 'c', 'd'],
      reused: ['a', 'alert'],
    });
    assert.deepEqual(selectRerun(chain, states), { rerun: [], reused: ['a', 'b', 'c', 'd', 'alert'] });
  });

  it('reruns steps whose compensation ran: their work was undone', () => {
    const states = recorded({ a: 'Succeeded', b: 'Succeeded', c: 'Failed', d: 'Skipped', alert: 'Skipped' });
    assert.deepEqual(selectRerun(chain, states, { compensated: new Set(['a']) }).reused, []);
    assert.deepEqual(selectRerun(chain, states, { compensated: new Set(['b']) }), {
      rerun: ['b', 'c', 'd'],
      reused: ['a', 'alert'],
    });
  });

  it('follows joins: a step downstream of two branches reruns when either does', () => {
    const diamond = plan({ s: ['l', 'r'], l: ['j'], r: ['j'], j: [] });
    const states = recorded({ s: 'Succeeded', l: 'Succeeded', r: 'Failed', j: 'Skipped' });
    assert.deepEqual(selectRerun(diamond, states), { rerun: ['r', 'j'], reused: ['s', 'l'] });
  });

  it('refuses a starting step outside the plan', () => {
    assert.throws(() => selectRerun(chain, recorded({}), { fromStepId: 'zz' }), /step "zz" is not in/);
  });
});

describe('changedSteps', () => {
  const step = (id: string, more: Partial<SnapshotStep> = {}): SnapshotStep => ({
    id,
    version: '1',
    name: id.toUpperCase(),
    entryCondition: 'PreviousSuccess',
    nextStepIds: [],
    configuration: { url: 'https://example.test', retries: 2 },
    retryPolicy: null,
    timeouts: null,
    processor: null,
    assignments: [],
    ...more,
  });
  const snapshot = (...steps: SnapshotStep[]): FlowSnapshot => ({
    orchestratedFlow: { id: 'f', version: '1', name: 'F' },
    workflow: { id: 'w', version: '1', name: 'W' },
    stepIds: steps.map((s) => s.id),
    steps: Object.fromEntries(steps.map((s) => [s.id, s])),
    hash: 'h',
  });

  it('names reused steps that changed or are gone, and ignores the rest', () => {
    const before = snapshot(step('a'), step('b'), step('c'));
    const after = snapshot(
      step('a', { configuration: { retries: 2, url: 'https://example.test' } }), // same, keys reordered
      step('b', { entryCondition: 'Always' }),
      step('d'),
    );
    assert.deepEqual(changedSteps(before, after, ['a', 'b', 'c']), ['B', 'C']);
    assert.deepEqual(changedSteps(before, after, ['a']), []);
  });

  it('sees a step added to a workflow but not in it as gone', () => {
    const before = snapshot(step('a'));
    const after = { ...snapshot(step('b')), steps: { a: step('a'), b: step('b') } };
    assert.deepEqual(changedSteps(before, after, ['a']), ['A']);
  });
});

describe('sameJson', () => {
  it('compares JSON values deeply, keys in any order, undefined members as absent', () => {
    assert.equal(sameJson({ a: [1, { b: 2 }], c: null }, { c: null, a: [1, { b: 2 }] }), true);
    assert.equal(sameJson({ a: 1, b: undefined }, { a: 1 }), true);
    assert.equal(sameJson({ a: [1, 2] }, { a: [2, 1] }), false);
    assert.equal(sameJson({ a: 1 }, { a: '1' }), false);
    assert.equal(sameJson([], {}), false);
    assert.equal(sameJson({ a: null }, {}), false);
  });
});
