import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  applySkips,
  cancelPending,
  decide,
  initialStepStates,
  isFinished,
  planRun,
  progress,
  Readiness,
  runOutcome,
  statusOfCode,
  restorePreviousOutputs,
  stepInput,
  withDecisions,
  withoutRepeatedOutputs,
  type Decisions,
  type RunPlan,
} from './flow-run';
import type {
  EntryCondition,
  FlowSnapshot,
  SnapshotStep,
  StepError,
  StepState,
  StepStatus,
} from './flow-types';

const T1 = '2025-01-01T00:00:01.000Z';

/** A step whose name is its id in capitals; its processor is `p-<id>@1`. */
function step(
  id: string,
  nextStepIds: string[] = [],
  entryCondition: EntryCondition = 'PreviousSuccess',
): SnapshotStep {
  return {
    id,
    version: '1',
    name: id.toUpperCase(),
    entryCondition,
    nextStepIds,
    configuration: null,
    retryPolicy: null,
    timeouts: null,
    processor: {
      id: `proc-${id}`,
      name: `p-${id}`,
      version: '1',
      taskQueue: `q-${id}`,
      implementationHash: 'hash',
      inputSchemaId: 'in',
      outputSchemaId: 'out',
      retryPolicy: null,
      timeouts: null,
    },
    assignments: [],
  };
}

/** A snapshot of a workflow listing exactly the given steps, in the given order. */
function snapshot(...steps: SnapshotStep[]): FlowSnapshot {
  return {
    orchestratedFlow: { id: 'of', version: '1', name: 'Flow' },
    workflow: { id: 'wf', version: '1', name: 'Workflow' },
    stepIds: steps.map((s) => s.id),
    steps: Object.fromEntries(steps.map((s) => [s.id, s])),
    hash: 'h',
  };
}

/** The plan and its initial states, with some steps already in the given states. */
function setup(
  steps: SnapshotStep[],
  statuses: Record<string, StepStatus> = {},
): { plan: RunPlan; states: Record<string, StepState> } {
  const plan = planRun(snapshot(...steps));
  return { plan, states: withStatus(initialStepStates(plan), statuses) };
}

function withStatus(
  states: Record<string, StepState>,
  statuses: Record<string, StepStatus>,
  extra: Partial<StepState> = {},
): Record<string, StepState> {
  const next = { ...states };
  for (const [id, status] of Object.entries(statuses)) {
    const state = next[id];
    assert.ok(state, `no state for ${id}`);
    next[id] = { ...state, status, ...extra };
  }
  return next;
}

function runs(...run: string[]): Decisions {
  return { run, skipped: [] };
}

function skips(...skipped: Array<[string, string]>): Decisions {
  return { run: [], skipped: skipped.map(([stepId, reason]) => ({ stepId, reason })) };
}

describe('planRun', () => {
  it('lists steps in workflow order with edges both ways and processors as name@version', () => {
    const missing = { ...step('d'), processor: null };
    const plan = planRun(snapshot(step('a', ['c', 'b']), step('b', ['d']), step('c', ['d']), missing));
    assert.deepEqual(plan, {
      stepIds: ['a', 'b', 'c', 'd'],
      steps: {
        a: { id: 'a', name: 'A', entryCondition: 'PreviousSuccess', processor: 'p-a@1' },
        b: { id: 'b', name: 'B', entryCondition: 'PreviousSuccess', processor: 'p-b@1' },
        c: { id: 'c', name: 'C', entryCondition: 'PreviousSuccess', processor: 'p-c@1' },
        d: { id: 'd', name: 'D', entryCondition: 'PreviousSuccess', processor: null },
      },
      predecessors: { a: [], b: ['a'], c: ['a'], d: ['b', 'c'] },
      successors: { a: ['b', 'c'], b: ['d'], c: ['d'], d: [] },
    });
  });

  it('ignores ids without a step, repeated ids and edges leaving the workflow', () => {
    const snap = snapshot(step('a', ['b', 'outside']), step('b'));
    snap.stepIds = ['a', 'ghost', 'b', 'a'];
    const plan = planRun(snap);
    assert.deepEqual(plan.stepIds, ['a', 'b']);
    assert.deepEqual(plan.successors, { a: ['b'], b: [] });
  });
});

describe('initialStepStates', () => {
  it('puts every step Pending with no attempts', () => {
    const { plan } = setup([step('a', ['b']), { ...step('b'), processor: null }]);
    assert.deepEqual(initialStepStates(plan), {
      a: { stepId: 'a', name: 'A', processor: 'p-a@1', status: 'Pending', attempts: 0 },
      b: { stepId: 'b', name: 'B', processor: null, status: 'Pending', attempts: 0 },
    });
  });
});

describe('decide: entry points', () => {
  const cases: Array<[EntryCondition, Decisions]> = [
    ['PreviousSuccess', runs('a')],
    ['Always', runs('a')],
    ['Never', skips(['a', 'entry condition Never'])],
    [
      'PreviousFailure',
      skips(['a', 'PreviousFailure not met: no previous step, the start counts as a success']),
    ],
  ];
  for (const [condition, expected] of cases) {
    it(`an entry point with ${condition}`, () => {
      const { plan, states } = setup([step('a', [], condition)]);
      assert.deepEqual(decide(plan, states), expected);
    });
  }

  it('decides every entry point at once, in workflow order', () => {
    const { plan, states } = setup([step('x', ['z']), step('y', ['z'], 'Never'), step('w'), step('z')]);
    assert.deepEqual(decide(plan, states), {
      run: ['x', 'w'],
      skipped: [{ stepId: 'y', reason: 'entry condition Never' }],
    });
  });
});

describe('decide: a condition against one predecessor', () => {
  const cases: Array<[EntryCondition, StepStatus, Decisions]> = [
    ['PreviousSuccess', 'Succeeded', runs('b')],
    ['PreviousSuccess', 'Failed', skips(['b', 'PreviousSuccess not met: "A" Failed'])],
    ['PreviousSuccess', 'Skipped', skips(['b', 'no predecessor ran: "A" Skipped'])],
    [
      'PreviousFailure',
      'Succeeded',
      skips(['b', 'PreviousFailure not met: no predecessor failed ("A" Succeeded)']),
    ],
    ['PreviousFailure', 'Failed', runs('b')],
    ['PreviousFailure', 'Skipped', skips(['b', 'no predecessor ran: "A" Skipped'])],
    ['Always', 'Succeeded', runs('b')],
    ['Always', 'Failed', runs('b')],
    ['Always', 'Skipped', skips(['b', 'no predecessor ran: "A" Skipped'])],
    ['Never', 'Succeeded', skips(['b', 'entry condition Never'])],
    ['Never', 'Failed', skips(['b', 'entry condition Never'])],
    ['Never', 'Skipped', skips(['b', 'no predecessor ran: "A" Skipped'])],
    ['Always', 'Cancelled', skips(['b', 'no predecessor ran: "A" Cancelled'])],
  ];
  for (const [condition, predecessor, expected] of cases) {
    it(`${condition} after a ${predecessor} predecessor`, () => {
      const { plan, states } = setup([step('a', ['b']), step('b', [], condition)], { a: predecessor });
      assert.deepEqual(decide(plan, states), expected);
    });
  }
});

describe('decide: joins', () => {
  const join = (condition: EntryCondition): SnapshotStep[] => [
    step('a', ['c']),
    step('b', ['c']),
    step('c', [], condition),
  ];

  it('PreviousSuccess after one succeeded and one failed: skipped, naming the failed one', () => {
    const { plan, states } = setup(join('PreviousSuccess'), { a: 'Succeeded', b: 'Failed' });
    assert.deepEqual(decide(plan, states), skips(['c', 'PreviousSuccess not met: "B" Failed']));
  });

  it('PreviousSuccess after two failed: names both', () => {
    const { plan, states } = setup(join('PreviousSuccess'), { a: 'Failed', b: 'Failed' });
    assert.deepEqual(decide(plan, states), skips(['c', 'PreviousSuccess not met: "A" Failed, "B" Failed']));
  });

  it('PreviousFailure after one succeeded and one failed: runs', () => {
    const { plan, states } = setup(join('PreviousFailure'), { a: 'Succeeded', b: 'Failed' });
    assert.deepEqual(decide(plan, states), runs('c'));
  });

  it('Always after one succeeded and one failed: runs', () => {
    const { plan, states } = setup(join('Always'), { a: 'Succeeded', b: 'Failed' });
    assert.deepEqual(decide(plan, states), runs('c'));
  });

  it('PreviousSuccess after one skipped and one succeeded: the skipped one does not count', () => {
    const { plan, states } = setup(join('PreviousSuccess'), { a: 'Skipped', b: 'Succeeded' });
    assert.deepEqual(decide(plan, states), runs('c'));
  });

  it('PreviousFailure after one skipped and one succeeded: names only the one that ran', () => {
    const { plan, states } = setup(join('PreviousFailure'), { a: 'Skipped', b: 'Succeeded' });
    assert.deepEqual(
      decide(plan, states),
      skips(['c', 'PreviousFailure not met: no predecessor failed ("B" Succeeded)']),
    );
  });

  it('all predecessors skipped or cancelled: skipped, naming each with its state', () => {
    const { plan, states } = setup(join('Always'), { a: 'Skipped', b: 'Cancelled' });
    assert.deepEqual(decide(plan, states), skips(['c', 'no predecessor ran: "A" Skipped, "B" Cancelled']));
  });

  it('waits until ALL predecessors are decided', () => {
    const { plan, states } = setup(join('Always'), { a: 'Succeeded' });
    assert.deepEqual(decide(plan, states), runs('b'), 'b is an entry point still Pending');
    assert.deepEqual(decide(plan, withStatus(states, { b: 'Running' })), runs());
    assert.deepEqual(decide(plan, withStatus(states, { b: 'Failed' })), runs('c'));
  });

  it('names a step as a JSON string', () => {
    const a = { ...step('a', ['b']), name: 'Say "hi"' };
    const { plan, states } = setup([a, step('b')], { a: 'Failed' });
    assert.deepEqual(decide(plan, states), skips(['b', 'PreviousSuccess not met: "Say \\"hi\\"" Failed']));
  });
});

describe('decide: skip propagation', () => {
  it('cascades down a chain in one call', () => {
    const { plan, states } = setup([
      step('a', ['b'], 'Never'),
      step('b', ['c']),
      step('c', ['d'], 'Always'),
      step('d'),
    ]);
    assert.deepEqual(
      decide(plan, states),
      skips(
        ['a', 'entry condition Never'],
        ['b', 'no predecessor ran: "A" Skipped'],
        ['c', 'no predecessor ran: "B" Skipped'],
        ['d', 'no predecessor ran: "C" Skipped'],
      ),
    );
  });

  it('cascades from a failure: the condition is not met, then nothing downstream ran', () => {
    const { plan, states } = setup([step('a', ['b']), step('b', ['c']), step('c', [], 'Always')], {
      a: 'Failed',
    });
    assert.deepEqual(
      decide(plan, states),
      skips(['b', 'PreviousSuccess not met: "A" Failed'], ['c', 'no predecessor ran: "B" Skipped']),
    );
  });

  it('cascades through a diamond once both branches are skipped', () => {
    const { plan, states } = setup(
      [
        step('a', ['b', 'c']),
        step('b', ['d'], 'PreviousFailure'),
        step('c', ['d'], 'Never'),
        step('d', [], 'Always'),
      ],
      { a: 'Succeeded' },
    );
    assert.deepEqual(
      decide(plan, states),
      skips(
        ['b', 'PreviousFailure not met: no predecessor failed ("A" Succeeded)'],
        ['c', 'entry condition Never'],
        ['d', 'no predecessor ran: "B" Skipped, "C" Skipped'],
      ),
    );
  });

  it('a diamond with one branch running: the join waits for it', () => {
    const { plan, states } = setup(
      [step('a', ['b', 'c']), step('b', ['d']), step('c', ['d'], 'PreviousFailure'), step('d', [], 'Always')],
      { a: 'Failed' },
    );
    assert.deepEqual(decide(plan, states), {
      run: ['c'],
      skipped: [{ stepId: 'b', reason: 'PreviousSuccess not met: "A" Failed' }],
    });
  });

  it('reaches a fixpoint when the workflow order is not topological, and answers in workflow order', () => {
    const { plan, states } = setup([
      step('d'),
      step('c', ['d']),
      step('b', ['c']),
      step('a', ['b'], 'Never'),
    ]);
    assert.deepEqual(
      decide(plan, states),
      skips(
        ['d', 'no predecessor ran: "C" Skipped'],
        ['c', 'no predecessor ran: "B" Skipped'],
        ['b', 'no predecessor ran: "A" Skipped'],
        ['a', 'entry condition Never'],
      ),
    );
  });
});

describe('decide: bookkeeping', () => {
  it('does not return excluded (queued) steps again, and their successors wait', () => {
    const { plan, states } = setup([step('a', ['c']), step('b'), step('c', [], 'Always')]);
    assert.deepEqual(decide(plan, states), runs('a', 'b'));
    assert.deepEqual(decide(plan, states, new Set(['a', 'b'])), runs());
    assert.deepEqual(decide(plan, withStatus(states, { a: 'Succeeded' }), new Set(['b'])), runs('c'));
  });

  it('does not mutate the states it is given, even while cascading', () => {
    const { plan, states } = setup([step('a', ['b'], 'Never'), step('b', ['c']), step('c'), step('d')]);
    const before = structuredClone(states);
    const decisions = decide(plan, states);
    assert.equal(decisions.skipped.length, 3);
    assert.deepEqual(states, before);
  });

  it('leaves decided and running steps alone', () => {
    const { plan, states } = setup([step('a', ['b']), step('b', ['c']), step('c')], {
      a: 'Succeeded',
      b: 'Running',
    });
    assert.deepEqual(decide(plan, states), runs());
  });

  it('decides a 2,000-step chain step by step', () => {
    // Each call is linear in the steps, so this is quadratic overall; speed is measured in bench/, not here.
    const n = 2_000;
    const ids = Array.from({ length: n }, (_v, i) => `s${i}`);
    const { plan, states } = setup(ids.map((id, i) => step(id, i + 1 < n ? [`s${i + 1}`] : [])));
    for (const id of ids) {
      assert.deepEqual(decide(plan, states).run, [id]);
      // Mutated in place to keep the test linear; decide itself never mutates.
      states[id] = { ...(states[id] as StepState), status: 'Succeeded' };
    }
    assert.deepEqual(decide(plan, states), runs());
    assert.ok(isFinished(states));
  });

  it('skips a 10,000-step chain in one call without deep recursion', () => {
    const n = 10_000;
    const ids = Array.from({ length: n }, (_v, i) => `s${i}`);
    // Listed last to first, so every skip is found through the successor queue.
    const steps = ids.map((id, i) => step(id, i + 1 < n ? [`s${i + 1}`] : [], i === 0 ? 'Never' : 'Always'));
    const { plan, states } = setup(steps.reverse());
    const { run, skipped } = decide(plan, states);
    assert.deepEqual(run, []);
    assert.equal(skipped.length, n);
    assert.deepEqual(skipped[0], { stepId: `s${n - 1}`, reason: `no predecessor ran: "S${n - 2}" Skipped` });
    assert.deepEqual(skipped[n - 1], { stepId: 's0', reason: 'entry condition Never' });
  });

  it('throws when a step of the plan has no state', () => {
    const { plan } = setup([step('a')]);
    assert.throws(() => decide(plan, {}), { message: 'flow-run: no state for step id "a"' });
  });
});

describe('applySkips', () => {
  it('returns new states with the skipped steps marked, leaving the input alone', () => {
    const { plan, states } = setup([step('a', ['b'], 'Never'), step('b'), step('c')]);
    const next = applySkips(states, decide(plan, states).skipped, T1);
    assert.deepEqual(next, {
      a: { ...states.a, status: 'Skipped', reason: 'entry condition Never', completedAt: T1 },
      b: { ...states.b, status: 'Skipped', reason: 'no predecessor ran: "A" Skipped', completedAt: T1 },
      c: states.c,
    });
    assert.notEqual(next, states);
    assert.equal(states.a?.status, 'Pending');
  });
});

describe('withDecisions', () => {
  /** Decides and records, as the interpreter does: skips applied first, then every decided step's trace. */
  const record = (plan: RunPlan, states: Record<string, StepState>) => {
    const decisions = decide(plan, states);
    const skipped = applySkips(states, decisions.skipped, T1);
    return withDecisions(plan, skipped, [
      ...decisions.run.map((stepId) => ({ stepId, outcome: 'Run' as const })),
      ...decisions.skipped.map((skip) => ({ ...skip, outcome: 'Skipped' as const })),
    ]);
  };

  it('explains an entry point, and a skip with each predecessor and its state', () => {
    const { plan, states } = setup([step('a', ['c']), step('b', ['c']), step('c'), step('d', [], 'Always')], {
      a: 'Succeeded',
      b: 'Failed',
    });
    const next = record(plan, states);
    assert.deepEqual(next.c?.decision, {
      condition: 'PreviousSuccess',
      predecessors: [
        { stepId: 'a', name: 'A', status: 'Succeeded' },
        { stepId: 'b', name: 'B', status: 'Failed' },
      ],
      outcome: 'Skipped',
      reason: 'PreviousSuccess not met: "B" Failed',
    });
    assert.equal(next.c?.reason, next.c?.decision?.reason, 'the skip reason and the trace agree');
    assert.deepEqual(next.d?.decision, {
      condition: 'Always',
      predecessors: [],
      outcome: 'Run',
      reason: 'Always: an entry point',
    });
    assert.equal(next.a?.decision, undefined, 'a step decided earlier keeps what it had');
  });

  it('names what made a run condition hold, and the predecessors that did not count', () => {
    const steps = [step('a', ['d']), step('b', ['d']), step('c', ['d']), step('d', [], 'PreviousFailure')];
    const { plan, states } = setup(steps, { a: 'Failed', b: 'Succeeded', c: 'Skipped' });
    assert.deepEqual(record(plan, states).d?.decision, {
      condition: 'PreviousFailure',
      predecessors: [
        { stepId: 'a', name: 'A', status: 'Failed' },
        { stepId: 'b', name: 'B', status: 'Succeeded' },
        { stepId: 'c', name: 'C', status: 'Skipped' },
      ],
      outcome: 'Run',
      reason: 'PreviousFailure met: "A" Failed; did not run: "C" Skipped',
    });
    const success = setup([step('a', ['b']), step('b')], { a: 'Succeeded' });
    assert.equal(
      record(success.plan, success.states).b?.decision?.reason,
      'PreviousSuccess met: "A" Succeeded',
    );
    const always = setup([step('a', ['b']), step('b', [], 'Always')], { a: 'Failed' });
    assert.equal(record(always.plan, always.states).b?.decision?.reason, 'Always: "A" Failed');
    const entry = setup([step('a')]);
    assert.equal(
      record(entry.plan, entry.states).a?.decision?.reason,
      'entry point: no previous step, the start counts as a success',
    );
  });

  it('sees a cascade of skips decided in the same call', () => {
    const { plan, states } = setup([step('a', ['b']), step('b', ['c']), step('c', [], 'Always')], {
      a: 'Failed',
    });
    const next = record(plan, states);
    assert.equal(next.b?.decision?.outcome, 'Skipped');
    assert.deepEqual(next.c?.decision, {
      condition: 'Always',
      predecessors: [{ stepId: 'b', name: 'B', status: 'Skipped' }],
      outcome: 'Skipped',
      reason: 'no predecessor ran: "B" Skipped',
    });
  });

  it('records a cancel with its reason, and leaves the input alone', () => {
    const { plan, states } = setup([step('a', ['b']), step('b')], { a: 'Cancelled' });
    const cancelled = cancelPending(states, 'stopped', T1);
    const next = withDecisions(plan, cancelled, [{ stepId: 'b', outcome: 'Cancelled', reason: 'stopped' }]);
    assert.deepEqual(next.b?.decision, {
      condition: 'PreviousSuccess',
      predecessors: [{ stepId: 'a', name: 'A', status: 'Cancelled' }],
      outcome: 'Cancelled',
      reason: 'stopped',
    });
    assert.equal(cancelled.b?.decision, undefined);
    assert.equal(withDecisions(plan, cancelled, []), cancelled, 'nothing decided: the same record');
  });
});

describe('stepInput', () => {
  const error: StepError = { message: 'boom', type: 'Boom' };

  it('gives an entry point the run input and no previous steps', () => {
    const { plan, states } = setup([step('a', ['b']), step('b')]);
    assert.deepEqual(stepInput(plan, states, 'a', { order: 7 }), { input: { order: 7 }, previous: [] });
  });

  it('gives a single predecessor’s output', () => {
    const { plan, states } = setup([step('a', ['b']), step('b')]);
    const done = withStatus(states, { a: 'Succeeded' }, { output: { rows: 3 } });
    assert.deepEqual(stepInput(plan, done, 'b', 'ignored'), {
      input: { rows: 3 },
      previous: [{ stepId: 'a', name: 'A', status: 'Succeeded', output: { rows: 3 } }],
    });
  });

  it('gives null for a single failed predecessor, and lists its error', () => {
    const { plan, states } = setup([step('a', ['b']), step('b', [], 'PreviousFailure')]);
    const failed = withStatus(states, { a: 'Failed' }, { error });
    assert.deepEqual(stepInput(plan, failed, 'b', 'ignored'), {
      input: null,
      previous: [{ stepId: 'a', name: 'A', status: 'Failed', error }],
    });
  });

  it('keys a join by predecessor name, a failed one as null; skipped ones are left out', () => {
    const { plan, states } = setup([
      step('a', ['d']),
      step('b', ['d']),
      step('c', ['d']),
      step('d', [], 'Always'),
    ]);
    let done = withStatus(states, { a: 'Succeeded' }, { output: 1 });
    done = withStatus(done, { b: 'Failed' }, { error });
    done = withStatus(done, { c: 'Skipped' }, { reason: 'entry condition Never' });
    assert.deepEqual(stepInput(plan, done, 'd', 'ignored'), {
      input: { A: 1, B: null },
      previous: [
        { stepId: 'a', name: 'A', status: 'Succeeded', output: 1 },
        { stepId: 'b', name: 'B', status: 'Failed', error },
      ],
    });
  });

  it('gives a join where only one predecessor ran an object keyed by that one’s name', () => {
    const { plan, states } = setup([step('a', ['c']), step('b', ['c']), step('c')]);
    const done = withStatus(withStatus(states, { a: 'Skipped' }), { b: 'Succeeded' }, { output: 'x' });
    assert.deepEqual(stepInput(plan, done, 'c', 'ignored'), {
      input: { B: 'x' },
      previous: [{ stepId: 'b', name: 'B', status: 'Succeeded', output: 'x' }],
    });
  });

  it('keys a repeated name by step id, and a name like __proto__ as a plain key', () => {
    const a = { ...step('a', ['d']), name: '__proto__' };
    const b = { ...step('b', ['d']), name: 'Same' };
    const c = { ...step('c', ['d']), name: 'Same' };
    const { plan, states } = setup([a, b, c, step('d')]);
    const done = withStatus(states, { a: 'Succeeded', b: 'Succeeded', c: 'Succeeded' }, { output: 0 });
    const { input } = stepInput(plan, done, 'd', null);
    assert.deepEqual(Object.entries(input as object), [
      ['__proto__', 0],
      ['Same', 0],
      ['c', 0],
    ]);
  });
});

describe('withoutRepeatedOutputs / restorePreviousOutputs', () => {
  const error: StepError = { message: 'boom', type: 'Boom' };

  it('sends a single predecessor’s output once, in input, and restores it', () => {
    const { plan, states } = setup([step('a', ['b']), step('b')]);
    const done = withStatus(states, { a: 'Succeeded' }, { output: { rows: 3 } });
    const { input, previous } = stepInput(plan, done, 'b', null);
    const sent = withoutRepeatedOutputs(plan, 'b', previous);
    assert.deepEqual(sent, [{ stepId: 'a', name: 'A', status: 'Succeeded', outputInInput: true }]);
    assert.deepEqual(restorePreviousOutputs(input, sent), previous);
  });

  it('points a join’s previous[] at the input’s keys, repeated names by step id; failures keep their error', () => {
    const b = { ...step('b', ['d']), name: 'Same' };
    const c = { ...step('c', ['d']), name: 'Same' };
    const { plan, states } = setup([step('a', ['d']), b, c, step('d', [], 'Always')]);
    let done = withStatus(states, { a: 'Failed' }, { error });
    done = withStatus(done, { b: 'Succeeded' }, { output: 'first' });
    done = withStatus(done, { c: 'Succeeded' }, { output: 'second' });
    const { input, previous } = stepInput(plan, done, 'd', null);
    const sent = withoutRepeatedOutputs(plan, 'd', previous);
    assert.deepEqual(sent, [
      { stepId: 'a', name: 'A', status: 'Failed', error },
      { stepId: 'b', name: 'Same', status: 'Succeeded', outputInInput: 'Same' },
      { stepId: 'c', name: 'Same', status: 'Succeeded', outputInInput: 'c' },
    ]);
    assert.deepEqual(restorePreviousOutputs(input, sent), previous);
  });

  it('leaves previous[] without pointers untouched (invocations from before the change)', () => {
    const previous = [{ stepId: 'a', name: 'A', status: 'Succeeded' as const, output: 1 }];
    assert.deepEqual(restorePreviousOutputs('whatever', previous), previous);
  });
});

describe('runOutcome', () => {
  const handled = [step('a', ['b', 'h']), step('b'), step('h', [], 'PreviousFailure')];

  it('Completed when every step succeeded', () => {
    const { plan, states } = setup([step('a', ['b']), step('b')], { a: 'Succeeded', b: 'Succeeded' });
    assert.deepEqual(runOutcome(plan, states), { status: 'Completed', unhandledFailures: [] });
  });

  it('Completed when a failure is followed by a PreviousFailure handler that ran', () => {
    const { plan, states } = setup(handled, { a: 'Failed', b: 'Skipped', h: 'Succeeded' });
    assert.deepEqual(runOutcome(plan, states), { status: 'Completed', unhandledFailures: [] });
  });

  it('Failed, listing the step, when every successor of a failure was skipped', () => {
    const { plan, states } = setup(handled, { a: 'Failed', b: 'Skipped', h: 'Skipped' });
    assert.deepEqual(runOutcome(plan, states), { status: 'Failed', unhandledFailures: ['a'] });
  });

  it('Failed, listing the handler, when the handler itself fails', () => {
    const { plan, states } = setup(handled, { a: 'Failed', b: 'Skipped', h: 'Failed' });
    assert.deepEqual(runOutcome(plan, states), { status: 'Failed', unhandledFailures: ['h'] });
  });

  it('Failed when a step without successors fails', () => {
    const { plan, states } = setup([step('a', ['b']), step('b'), step('c')], {
      a: 'Succeeded',
      b: 'Failed',
      c: 'Failed',
    });
    assert.deepEqual(runOutcome(plan, states), { status: 'Failed', unhandledFailures: ['b', 'c'] });
  });
});

describe('isFinished, cancelPending, progress', () => {
  const steps = [step('a', ['b', 'c']), step('b'), step('c'), step('d')];

  it('isFinished only when nothing is Pending or Running', () => {
    const { states } = setup(steps, { a: 'Succeeded', b: 'Failed', c: 'Skipped', d: 'Cancelled' });
    assert.equal(isFinished(states), true);
    assert.equal(isFinished(withStatus(states, { c: 'Running' })), false);
    assert.equal(isFinished(withStatus(states, { d: 'Pending' })), false);
  });

  it('cancelPending cancels Pending steps only, leaving the input alone', () => {
    const { states } = setup(steps, { a: 'Succeeded', b: 'Running' });
    const next = cancelPending(states, 'run cancelled', T1);
    assert.deepEqual(next, {
      a: states.a,
      b: states.b,
      c: { ...states.c, status: 'Cancelled', reason: 'run cancelled', completedAt: T1 },
      d: { ...states.d, status: 'Cancelled', reason: 'run cancelled', completedAt: T1 },
    });
    assert.equal(states.c?.status, 'Pending');
  });

  it('progress counts final states and lists Running steps, in workflow order', () => {
    const { plan, states } = setup(steps, { a: 'Succeeded', b: 'Running', d: 'Running' });
    assert.deepEqual(progress(plan, states), {
      completedSteps: 1,
      totalSteps: 4,
      currentSteps: ['b', 'd'],
      steps: [states.a, states.b, states.c, states.d],
    });
  });
});

describe('a whole run, simulated', () => {
  type Outcome = { output: unknown } | { error: StepError };

  /**
   * The workflow's loop without Temporal: decide, apply skips, start what runs (at most two at a time), finish the
   * earliest started step with its scripted outcome, until finished. Returns the final states, what each step was
   * given, and the order steps started in.
   */
  function simulate(
    steps: SnapshotStep[],
    script: Record<string, Outcome>,
    runInput: unknown,
  ): {
    plan: RunPlan;
    states: Record<string, StepState>;
    inputs: Record<string, unknown>;
    started: string[];
  } {
    const plan = planRun(snapshot(...steps));
    let states = initialStepStates(plan);
    const queued: string[] = [];
    const running: string[] = [];
    const inputs: Record<string, unknown> = {};
    const started: string[] = [];
    for (let tick = 0; !isFinished(states); tick++) {
      assert.ok(tick < 100, 'the run does not finish');
      const at = `t${tick}`;
      const decisions = decide(plan, states, new Set(queued));
      states = applySkips(states, decisions.skipped, at);
      queued.push(...decisions.run);
      while (running.length < 2 && queued.length > 0) {
        const id = queued.shift() as string;
        inputs[id] = stepInput(plan, states, id, runInput).input;
        states = {
          ...states,
          [id]: { ...(states[id] as StepState), status: 'Running', attempts: 1, startedAt: at },
        };
        running.push(id);
        started.push(id);
      }
      const done = running.shift();
      if (done === undefined) continue;
      const outcome = script[done];
      assert.ok(outcome, `no scripted outcome for ${done}`);
      const result: Partial<StepState> =
        'error' in outcome
          ? { status: 'Failed', error: outcome.error }
          : { status: 'Succeeded', output: outcome.output };
      states = { ...states, [done]: { ...(states[done] as StepState), ...result, completedAt: at } };
    }
    return { plan, states, inputs, started };
  }

  // fetch → (parse, enrich) → store → notify; parse's failure goes to alert.
  const diamond = [
    step('fetch', ['parse', 'enrich']),
    step('parse', ['store', 'alert']),
    step('enrich', ['store']),
    step('store', ['notify']),
    step('alert', [], 'PreviousFailure'),
    step('notify', [], 'Always'),
  ];
  const crash: StepError = { message: 'bad row 3', type: 'ParseError' };

  it('a failure handled by its PreviousFailure branch: Completed, the join and what follows it skipped', () => {
    const { plan, states, inputs, started } = simulate(
      diamond,
      {
        fetch: { output: 'raw' },
        parse: { error: crash },
        enrich: { output: { geo: true } },
        alert: { output: 'paged' },
      },
      { url: 'u' },
    );
    assert.deepEqual(started, ['fetch', 'parse', 'enrich', 'alert']);
    assert.deepEqual(inputs, { fetch: { url: 'u' }, parse: 'raw', enrich: 'raw', alert: null });
    assert.deepEqual(
      Object.fromEntries(plan.stepIds.map((id) => [id, [states[id]?.status, states[id]?.reason]])),
      {
        fetch: ['Succeeded', undefined],
        parse: ['Failed', undefined],
        enrich: ['Succeeded', undefined],
        store: ['Skipped', 'PreviousSuccess not met: "PARSE" Failed'],
        alert: ['Succeeded', undefined],
        notify: ['Skipped', 'no predecessor ran: "STORE" Skipped'],
      },
    );
    assert.deepEqual(states.parse?.error, crash);
    assert.deepEqual(runOutcome(plan, states), { status: 'Completed', unhandledFailures: [] });
    assert.deepEqual(progress(plan, states).completedSteps, 6);
  });

  it('all well: the handler is skipped, the join gets both outputs by name, Completed', () => {
    const { plan, states, inputs } = simulate(
      diamond,
      {
        fetch: { output: 'raw' },
        parse: { output: [1, 2] },
        enrich: { output: { geo: true } },
        store: { output: 'stored' },
        notify: { output: 'sent' },
      },
      null,
    );
    assert.deepEqual(inputs.store, { PARSE: [1, 2], ENRICH: { geo: true } });
    assert.deepEqual(inputs.notify, 'stored');
    assert.equal(states.alert?.status, 'Skipped');
    assert.equal(states.alert?.reason, 'PreviousFailure not met: no predecessor failed ("PARSE" Succeeded)');
    assert.deepEqual(runOutcome(plan, states), { status: 'Completed', unhandledFailures: [] });
  });

  it('an unhandled failure beside a handled one: Failed, naming only the unhandled step', () => {
    const { plan, states } = simulate(
      diamond,
      {
        fetch: { output: 'raw' },
        parse: { error: crash },
        enrich: { error: { message: 'geo down' } },
        alert: { output: 'paged' },
      },
      null,
    );
    assert.equal(states.store?.reason, 'PreviousSuccess not met: "PARSE" Failed, "ENRICH" Failed');
    assert.equal(states.notify?.status, 'Skipped');
    assert.deepEqual(runOutcome(plan, states), { status: 'Failed', unhandledFailures: ['enrich'] });
  });
});

describe('Readiness: deciding as the run goes', () => {
  /** A small deterministic generator (mulberry32), so a failing seed can be replayed. */
  function random(seed: number): () => number {
    let a = seed;
    return () => {
      a = (a + 0x6d2b79f5) | 0;
      let t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  /** A random DAG: edges only forward in a shuffled topological order, so workflow order is not topological. */
  function randomFlow(next: () => number, size: number): SnapshotStep[] {
    const conditions: EntryCondition[] = ['PreviousSuccess', 'PreviousFailure', 'Always', 'Never'];
    const ids = Array.from({ length: size }, (_, i) => `s${i}`);
    const steps = ids.map((id, i) => {
      const successors = ids.slice(i + 1).filter(() => next() < 2.5 / size);
      const condition = conditions[Math.floor(next() * 10) % 4] ?? 'PreviousSuccess';
      return step(id, successors, next() < 0.6 ? 'PreviousSuccess' : condition);
    });
    // Workflow order: shuffled, so successors may come before their predecessors.
    for (let i = steps.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [steps[i], steps[j]] = [steps[j] as SnapshotStep, steps[i] as SnapshotStep];
    }
    return steps;
  }

  it('decides exactly what decide() decides, event by event, on 200 random flows', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const next = random(seed);
      const plan = planRun(snapshot(...randomFlow(next, 2 + (seed % 25))));
      let states = initialStepStates(plan);
      const readiness = new Readiness(plan, (id) => (states[id] as StepState).status);
      const queued: string[] = [];
      for (let tick = 0; !isFinished(states); tick++) {
        assert.ok(tick < 200, `seed ${seed}: the run does not finish`);
        const expected = decide(plan, states, new Set(queued));
        assert.deepEqual(readiness.decide(), expected, `seed ${seed}, tick ${tick}`);
        states = applySkips(states, expected.skipped, 't');
        queued.push(...expected.run);
        // Start everything queued, then end one running step (a random one) Succeeded, Failed or Cancelled.
        for (const id of queued.splice(0)) states[id] = { ...(states[id] as StepState), status: 'Running' };
        const running = plan.stepIds.filter((id) => states[id]?.status === 'Running');
        if (running.length === 0) continue;
        const done = running[Math.floor(next() * running.length)] as string;
        const roll = next();
        const status: StepStatus = roll < 0.6 ? 'Succeeded' : roll < 0.95 ? 'Failed' : 'Cancelled';
        states = { ...states, [done]: { ...(states[done] as StepState), status } };
        readiness.settle(done, status);
      }
      assert.equal(readiness.finished, true, `seed ${seed}`);
      assert.deepEqual(readiness.decide(), { run: [], skipped: [] });
    }
  });

  it('starts from carried states: decided ones count, the rest wait on their undecided predecessors', () => {
    const steps = [step('a', ['b', 'c']), step('b', ['d']), step('c', ['d']), step('d')];
    const { plan, states } = setup(steps, { a: 'Succeeded', b: 'Failed' });
    const readiness = new Readiness(plan, (id) => (states[id] as StepState).status);
    assert.deepEqual(readiness.decide(), runs('c'));
    assert.equal(readiness.finished, false);
    assert.deepEqual(readiness.frontier(), ['a', 'b']);
    readiness.settle('c', 'Succeeded');
    assert.deepEqual(readiness.decide(), skips(['d', 'PreviousSuccess not met: "B" Failed']));
    assert.equal(readiness.finished, true);
    assert.equal(readiness.codes(), '2324');
    assert.deepEqual([...readiness.codes()].map(statusOfCode), [
      'Succeeded',
      'Failed',
      'Succeeded',
      'Skipped',
    ]);
  });

  it('a 10,000-step chain decided step by step stays linear', () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => `c${i}`);
    const plan = planRun(snapshot(...ids.map((id, i) => step(id, i + 1 < ids.length ? [`c${i + 1}`] : []))));
    const readiness = new Readiness(plan, () => 'Pending');
    let decided = 0;
    for (;;) {
      const { run } = readiness.decide();
      if (run.length === 0) break;
      assert.deepEqual(run, [ids[decided]]);
      readiness.settle(run[0] as string, 'Succeeded');
      decided++;
    }
    assert.equal(decided, 10_000);
    assert.equal(readiness.finished, true);
  });
});
