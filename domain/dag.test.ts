import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DagError,
  findEntryPoints,
  predecessorsOf,
  topologicalOrder,
  validateGraph,
  type GraphProblem,
  type GraphStep,
} from './dag';

/** A step whose name is its id in capitals, unless given. */
function step(id: string, nextStepIds: string[] = [], name = id.toUpperCase()): GraphStep {
  return { id, name, nextStepIds };
}

/** A workflow listing exactly the given steps, in the given order. */
function workflow(...steps: GraphStep[]): { stepIds: string[]; steps: Map<string, GraphStep> } {
  return { stepIds: steps.map((s) => s.id), steps: lookup(...steps) };
}

function lookup(...steps: GraphStep[]): Map<string, GraphStep> {
  return new Map(steps.map((s) => [s.id, s]));
}

function cycle(stepIds: string[], message: string): GraphProblem {
  return { rule: 'cycle', stepIds, message };
}

const diamond = workflow(step('a', ['b', 'c']), step('b', ['d']), step('c', ['d']), step('d'));

describe('validateGraph', () => {
  it('accepts an empty graph', () => {
    assert.deepEqual(validateGraph([], new Map()), []);
  });

  it('accepts a single step', () => {
    const { stepIds, steps } = workflow(step('a'));
    assert.deepEqual(validateGraph(stepIds, steps), []);
  });

  it('accepts a chain', () => {
    const { stepIds, steps } = workflow(step('a', ['b']), step('b', ['c']), step('c'));
    assert.deepEqual(validateGraph(stepIds, steps), []);
  });

  it('accepts a diamond: two paths to one step are not a cycle', () => {
    assert.deepEqual(validateGraph(diamond.stepIds, diamond.steps), []);
  });

  it('accepts a fan-out followed by a fan-in', () => {
    const { stepIds, steps } = workflow(
      step('a', ['b', 'c', 'd']),
      step('b', ['e']),
      step('c', ['e']),
      step('d', ['e']),
      step('e'),
    );
    assert.deepEqual(validateGraph(stepIds, steps), []);
  });

  it('reports a self-loop as the cycle [a, a]', () => {
    const { stepIds, steps } = workflow(step('a', ['a'], 'Poll'));
    assert.deepEqual(validateGraph(stepIds, steps), [cycle(['a', 'a'], 'cycle: "Poll" → "Poll"')]);
  });

  it('names a 3-cycle step by step', () => {
    const { stepIds, steps } = workflow(
      step('s', ['a'], 'Start'),
      step('a', ['b'], 'Fetch'),
      step('b', ['c'], 'Transform'),
      step('c', ['a'], 'Store'),
    );
    assert.deepEqual(validateGraph(stepIds, steps), [
      cycle(['a', 'b', 'c', 'a'], 'cycle: "Fetch" → "Transform" → "Store" → "Fetch"'),
    ]);
  });

  it('starts a cycle at its earliest step in workflow order', () => {
    const { stepIds, steps } = workflow(step('c', ['a']), step('a', ['b']), step('b', ['c']));
    assert.deepEqual(validateGraph(stepIds, steps), [
      cycle(['c', 'a', 'b', 'c'], 'cycle: "C" → "A" → "B" → "C"'),
    ]);
  });

  it('reports one shortest cycle per strongly connected component', () => {
    // a → b → c → a and a → c → a share one component; the shorter cycle through a is reported.
    const { stepIds, steps } = workflow(step('a', ['b', 'c']), step('b', ['c']), step('c', ['a']));
    assert.deepEqual(validateGraph(stepIds, steps), [cycle(['a', 'c', 'a'], 'cycle: "A" → "C" → "A"')]);
  });

  it('reports two disjoint cycles, both', () => {
    const { stepIds, steps } = workflow(
      step('a', ['b']),
      step('b', ['a']),
      step('c', ['d']),
      step('d', ['e']),
      step('e', ['c']),
    );
    assert.deepEqual(validateGraph(stepIds, steps), [
      cycle(['a', 'b', 'a'], 'cycle: "A" → "B" → "A"'),
      cycle(['c', 'd', 'e', 'c'], 'cycle: "C" → "D" → "E" → "C"'),
    ]);
  });

  it('reports a cycle and a dangling edge at once', () => {
    const { stepIds, steps } = workflow(step('a', ['b']), step('b', ['a', 'ghost']));
    assert.deepEqual(validateGraph(stepIds, steps), [
      {
        rule: 'danglingNextStep',
        stepId: 'b',
        nextStepId: 'ghost',
        message: 'step "B" (id b) lists next step id "ghost", which is not part of the workflow',
      },
      cycle(['a', 'b', 'a'], 'cycle: "A" → "B" → "A"'),
    ]);
  });

  it('reports a missing step', () => {
    const { steps } = workflow(step('a'));
    assert.deepEqual(validateGraph(['a', 'ghost'], steps), [
      {
        rule: 'missingStep',
        stepId: 'ghost',
        message: 'workflow lists step id "ghost", but no step with that id exists',
      },
    ]);
  });

  it('does not also report an edge to a missing step as dangling', () => {
    const { steps } = workflow(step('a', ['ghost']));
    assert.deepEqual(validateGraph(['a', 'ghost'], steps), [
      {
        rule: 'missingStep',
        stepId: 'ghost',
        message: 'workflow lists step id "ghost", but no step with that id exists',
      },
    ]);
  });

  it('reports a duplicate step once, however often it is repeated', () => {
    const { steps } = workflow(step('a', ['b']), step('b'));
    assert.deepEqual(validateGraph(['a', 'b', 'a', 'a'], steps), [
      { rule: 'duplicateStep', stepId: 'a', message: 'workflow lists step "A" (id a) more than once' },
    ]);
  });

  it('reports a dangling next step, naming it if it is a step outside the workflow', () => {
    const steps = lookup(step('a', ['x', 'nope', 'x'], 'Fetch'), step('x', [], 'Elsewhere'));
    assert.deepEqual(validateGraph(['a'], steps), [
      {
        rule: 'danglingNextStep',
        stepId: 'a',
        nextStepId: 'x',
        message: 'step "Fetch" (id a) lists next step "Elsewhere" (id x), which is not part of the workflow',
      },
      {
        rule: 'danglingNextStep',
        stepId: 'a',
        nextStepId: 'nope',
        message: 'step "Fetch" (id a) lists next step id "nope", which is not part of the workflow',
      },
    ]);
  });

  it('ignores steps outside the workflow, including their cycles', () => {
    const steps = lookup(step('a'), step('x', ['y']), step('y', ['x', 'a']));
    assert.deepEqual(validateGraph(['a'], steps), []);
  });

  it('reports every kind of problem in one list, in a fixed order', () => {
    const steps = lookup(step('a', ['b', 'gone']), step('b', ['a']));
    assert.deepEqual(validateGraph(['a', 'ghost', 'b', 'a'], steps), [
      {
        rule: 'missingStep',
        stepId: 'ghost',
        message: 'workflow lists step id "ghost", but no step with that id exists',
      },
      { rule: 'duplicateStep', stepId: 'a', message: 'workflow lists step "A" (id a) more than once' },
      {
        rule: 'danglingNextStep',
        stepId: 'a',
        nextStepId: 'gone',
        message: 'step "A" (id a) lists next step id "gone", which is not part of the workflow',
      },
      cycle(['a', 'b', 'a'], 'cycle: "A" → "B" → "A"'),
    ]);
  });
});

describe('findEntryPoints', () => {
  it('finds none in an empty graph', () => {
    assert.deepEqual(findEntryPoints([], new Map()), []);
  });

  it('finds the only step of a single-step workflow', () => {
    const { stepIds, steps } = workflow(step('a'));
    assert.deepEqual(findEntryPoints(stepIds, steps), ['a']);
  });

  it('finds the top of a diamond', () => {
    assert.deepEqual(findEntryPoints(diamond.stepIds, diamond.steps), ['a']);
  });

  it('finds both roots of a graph with two roots, in workflow order', () => {
    const { stepIds, steps } = workflow(step('join'), step('r2', ['join']), step('r1', ['join']));
    assert.deepEqual(findEntryPoints(stepIds, steps), ['r2', 'r1']);
  });

  it('ignores edges from steps outside the workflow', () => {
    const steps = lookup(step('a', ['b']), step('b'), step('c'), step('outside', ['a', 'c']));
    assert.deepEqual(findEntryPoints(['a', 'b', 'c'], steps), ['a', 'c']);
  });

  it('does not count a self-loop as another step listing it', () => {
    const { stepIds, steps } = workflow(step('a', ['a', 'b']), step('b', ['b']));
    assert.deepEqual(findEntryPoints(stepIds, steps), ['a']);
  });

  it('skips missing and repeated ids', () => {
    const steps = lookup(step('a', ['b']), step('b'), step('c'));
    assert.deepEqual(findEntryPoints(['c', 'ghost', 'a', 'b', 'c'], steps), ['c', 'a']);
  });
});

describe('predecessorsOf', () => {
  it('maps an empty graph to an empty map', () => {
    assert.deepEqual(predecessorsOf([], new Map()), new Map());
  });

  it('lists the predecessors of a join in workflow order, not in edge order', () => {
    const steps = lookup(step('c', ['join']), step('a', ['join']), step('b', ['join']), step('join'));
    // Listed out of alphabetical order to show the workflow order is followed.
    assert.deepEqual(
      predecessorsOf(['b', 'join', 'c', 'a'], steps),
      new Map([
        ['b', []],
        ['join', ['b', 'c', 'a']],
        ['c', []],
        ['a', []],
      ]),
    );
  });

  it('counts only edges between workflow steps, each once', () => {
    const steps = lookup(step('a', ['b', 'b', 'gone']), step('b'), step('outside', ['b']));
    assert.deepEqual(
      predecessorsOf(['a', 'b'], steps),
      new Map([
        ['a', []],
        ['b', ['a']],
      ]),
    );
  });
});

describe('topologicalOrder', () => {
  it('orders an empty graph', () => {
    assert.deepEqual(topologicalOrder([], new Map()), []);
  });

  it('orders a diamond', () => {
    assert.deepEqual(topologicalOrder(diamond.stepIds, diamond.steps), ['a', 'b', 'c', 'd']);
  });

  it('breaks ties by workflow order, even when steps are listed out of order', () => {
    assert.deepEqual(topologicalOrder(['d', 'c', 'b', 'a'], diamond.steps), ['a', 'c', 'b', 'd']);
  });

  it('prefers the earliest ready step over the one that became ready first', () => {
    // Ready at the start: b and c. Placing b makes a ready, and a comes before c in the workflow.
    const { stepIds, steps } = workflow(step('a'), step('b', ['a']), step('c'));
    assert.deepEqual(topologicalOrder(stepIds, steps), ['b', 'a', 'c']);
  });

  it('throws a DagError naming the cycle', () => {
    const { stepIds, steps } = workflow(step('s', ['a']), step('a', ['b']), step('b', ['a']), step('t'));
    assert.throws(
      () => topologicalOrder(stepIds, steps),
      (error: unknown) => {
        assert.ok(error instanceof DagError);
        assert.equal(error.name, 'DagError');
        assert.equal(
          error.message,
          'the workflow\'s steps cannot be ordered because of a cycle: cycle: "A" → "B" → "A"',
        );
        assert.deepEqual(error.cycles, [['a', 'b', 'a']]);
        return true;
      },
    );
  });

  it('throws a DagError on a self-loop', () => {
    const { stepIds, steps } = workflow(step('a', ['a']));
    assert.throws(() => topologicalOrder(stepIds, steps), {
      name: 'DagError',
      message: 'the workflow\'s steps cannot be ordered because of a cycle: cycle: "A" → "A"',
      cycles: [['a', 'a']],
    });
  });
});

describe('large graphs (iterative, no stack overflow)', () => {
  const size = 10_000;
  const ids = Array.from({ length: size }, (_, i) => `s${i}`);

  it('reports a 10,000-step ring as one cycle of 10,001 entries', () => {
    const steps = lookup(...ids.map((id, i) => step(id, [ids[(i + 1) % size] ?? ''])));
    const problems = validateGraph(ids, steps);
    const path = [...ids, 's0'];
    assert.deepEqual(problems, [
      cycle(path, `cycle: ${path.map((id) => `"${id.toUpperCase()}"`).join(' → ')}`),
    ]);
    assert.equal(path.length, 10_001);
    assert.throws(() => topologicalOrder(ids, steps), DagError);
  });

  it('validates and orders a 10,000-step chain listed backwards', () => {
    const steps = lookup(...ids.map((id, i) => step(id, i + 1 < size ? [`s${i + 1}`] : [])));
    const reversed = [...ids].reverse();
    assert.deepEqual(validateGraph(reversed, steps), []);
    assert.deepEqual(topologicalOrder(reversed, steps), ids);
    assert.deepEqual(findEntryPoints(reversed, steps), ['s0']);
  });
});
