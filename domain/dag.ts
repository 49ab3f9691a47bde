/**
 * The step graph of a workflow, as pure functions (DESIGN.md §4: Validation, Entry points, Edges and joins).
 *
 * Imported inside the Temporal workflow sandbox, so: no imports, no clock, no randomness, no recursion (graphs of
 * 10,000+ steps must not overflow the stack), and every output is ordered deterministically: by the workflow's
 * `stepIds` first, then by each step's `nextStepIds`.
 *
 * The graph: its nodes are the distinct ids in `stepIds` for which a step was supplied, in the order they are first
 * listed; its edges are the `nextStepIds` of those steps that are nodes too (a next step listed twice is one edge).
 * Anything else (ids without a step, ids listed twice, edges leaving the workflow, steps outside the workflow and
 * their edges) is reported by `validateGraph` and otherwise ignored, so the other functions accept a malformed
 * definition and answer about the part that is well formed.
 */

/** The part of a step the graph needs. `name` is only used to make messages readable. */
export interface GraphStep {
  id: string;
  name: string;
  nextStepIds: readonly string[];
}

/** One problem found by `validateGraph`; `message` is written for a person and names steps by name. */
export type GraphProblem =
  /** The workflow lists a step id for which no step was supplied. */
  | { rule: 'missingStep'; stepId: string; message: string }
  /** The workflow lists the same step id more than once (reported once per id). */
  | { rule: 'duplicateStep'; stepId: string; message: string }
  /** A step's `nextStepIds` names a step that is not part of the workflow (reported once per step and id). */
  | { rule: 'danglingNextStep'; stepId: string; nextStepId: string; message: string }
  /** A cycle, as a path whose first id is repeated at the end: `[a, b, c, a]`; a self-loop is `[a, a]`. */
  | { rule: 'cycle'; stepIds: string[]; message: string };

/** Thrown by `topologicalOrder` when the graph has a cycle; `cycles` holds the paths `validateGraph` reports. */
export class DagError extends Error {
  override name = 'DagError';
  readonly cycles: readonly string[][];

  constructor(message: string, cycles: readonly string[][]) {
    super(message);
    this.cycles = cycles;
  }
}

/**
 * Validates the graph formed by `stepIds` (the workflow's ordered step list) over `steps` (lookup by id; steps that
 * are not in the workflow are ignored). Returns every problem found, or `[]` if the graph is valid. Never throws.
 *
 * Order of the list: `missingStep` and `duplicateStep` in `stepIds` order; then `danglingNextStep` in workflow
 * order, then `nextStepIds` order; then one `cycle` per strongly connected component that contains a cycle, ordered
 * by the component's first step in workflow order. The reported cycle is a shortest one through that first step
 * (breadth-first, following `nextStepIds` order), so every step in it is named. A `nextStepId` that the workflow
 * lists but for which no step was supplied is not dangling: the `missingStep` problem already covers it.
 */
export function validateGraph(
  stepIds: readonly string[],
  steps: ReadonlyMap<string, GraphStep>,
): GraphProblem[] {
  const problems: GraphProblem[] = [];
  const listed = new Set<string>();
  const duplicates = new Set<string>();
  for (const id of stepIds) {
    if (listed.has(id)) {
      if (!duplicates.has(id)) {
        duplicates.add(id);
        problems.push({
          rule: 'duplicateStep',
          stepId: id,
          message: `workflow lists step ${describe(id, steps)} more than once`,
        });
      }
      continue;
    }
    listed.add(id);
    if (!steps.has(id)) {
      problems.push({
        rule: 'missingStep',
        stepId: id,
        message: `workflow lists step id "${id}", but no step with that id exists`,
      });
    }
  }

  const graph = buildGraph(stepIds, steps);
  graph.ids.forEach((id, node) => {
    const reported = new Set<string>();
    for (const nextStepId of at(graph.steps, node).nextStepIds) {
      if (listed.has(nextStepId) || reported.has(nextStepId)) continue;
      reported.add(nextStepId);
      problems.push({
        rule: 'danglingNextStep',
        stepId: id,
        nextStepId,
        message:
          `step ${describe(id, steps)} lists next step ${describe(nextStepId, steps)}, ` +
          'which is not part of the workflow',
      });
    }
  });

  for (const cycle of findCycles(graph)) {
    problems.push({ rule: 'cycle', stepIds: cycle, message: cycleMessage(cycle, steps) });
  }
  return problems;
}

/**
 * Returns the entry points: the workflow's steps that no other step of the workflow lists in `nextStepIds`, in
 * workflow order. Edges from steps outside the workflow do not count, and neither does a step listing itself (a
 * self-loop is "no other step"; `validateGraph` reports it as a cycle).
 */
export function findEntryPoints(stepIds: readonly string[], steps: ReadonlyMap<string, GraphStep>): string[] {
  const graph = buildGraph(stepIds, steps);
  const hasOtherPredecessor = new Uint8Array(graph.ids.length);
  graph.successors.forEach((successors, node) => {
    for (const successor of successors) if (successor !== node) hasOtherPredecessor[successor] = 1;
  });
  return graph.ids.filter((_id, node) => at(hasOtherPredecessor, node) === 0);
}

/**
 * Returns the predecessors of each workflow step as a Map from step id (in workflow order) to the ids of the
 * workflow steps that list it in `nextStepIds` (in workflow order; `[]` for entry points). Only edges between
 * workflow steps count; a self-loop makes a step its own predecessor.
 */
export function predecessorsOf(
  stepIds: readonly string[],
  steps: ReadonlyMap<string, GraphStep>,
): Map<string, string[]> {
  const graph = buildGraph(stepIds, steps);
  const predecessors = new Map<string, string[]>(graph.ids.map((id) => [id, []]));
  // Visiting predecessors in workflow order appends them in workflow order.
  graph.successors.forEach((successors, node) => {
    for (const successor of successors) predecessors.get(at(graph.ids, successor))?.push(at(graph.ids, node));
  });
  return predecessors;
}

/**
 * Returns the workflow's steps in a topological order (every step after all its predecessors), computed with Kahn's
 * algorithm: of the steps whose predecessors are all placed, the earliest in workflow order goes next. So a graph
 * whose `stepIds` are already topologically ordered comes back unchanged.
 *
 * @throws {DagError} if the graph has a cycle (a self-loop included); its message names each cycle step by step.
 */
export function topologicalOrder(
  stepIds: readonly string[],
  steps: ReadonlyMap<string, GraphStep>,
): string[] {
  const graph = buildGraph(stepIds, steps);
  const unplacedPredecessors = new Uint32Array(graph.ids.length);
  for (const successors of graph.successors) {
    for (const successor of successors)
      unplacedPredecessors[successor] = at(unplacedPredecessors, successor) + 1;
  }
  // A min-heap of node indices, i.e. of ready steps by workflow position.
  const ready: number[] = [];
  graph.ids.forEach((_id, node) => {
    if (at(unplacedPredecessors, node) === 0) heapPush(ready, node);
  });
  const order: string[] = [];
  for (let node = heapPop(ready); node !== undefined; node = heapPop(ready)) {
    order.push(at(graph.ids, node));
    for (const successor of at(graph.successors, node)) {
      const remaining = at(unplacedPredecessors, successor) - 1;
      unplacedPredecessors[successor] = remaining;
      if (remaining === 0) heapPush(ready, successor);
    }
  }
  if (order.length < graph.ids.length) {
    const cycles = findCycles(graph);
    const described = cycles.map((cycle) => cycleMessage(cycle, steps)).join('; ');
    throw new DagError(`the workflow's steps cannot be ordered because of a cycle: ${described}`, cycles);
  }
  return order;
}

// ---------------------------------------------------------------------------------------------------------------
// Internals. Nodes are numbered by workflow position, so "ascending node number" is "workflow order".

interface Graph {
  /** Node → step id. */
  ids: string[];
  /** Node → step. */
  steps: GraphStep[];
  /** Node → successor nodes, in `nextStepIds` order, without repeats. */
  successors: number[][];
}

function buildGraph(stepIds: readonly string[], steps: ReadonlyMap<string, GraphStep>): Graph {
  const ids: string[] = [];
  const nodeSteps: GraphStep[] = [];
  const nodeOf = new Map<string, number>();
  for (const id of stepIds) {
    const step = steps.get(id);
    if (step === undefined || nodeOf.has(id)) continue;
    nodeOf.set(id, ids.length);
    ids.push(id);
    nodeSteps.push(step);
  }
  // lastAddedBy[w] === node + 1 once node → w was added, so a repeated next step costs O(1) to skip.
  const lastAddedBy = new Uint32Array(ids.length);
  const successors = nodeSteps.map((step, node) => {
    const out: number[] = [];
    for (const nextStepId of step.nextStepIds) {
      const successor = nodeOf.get(nextStepId);
      if (successor === undefined || at(lastAddedBy, successor) === node + 1) continue;
      lastAddedBy[successor] = node + 1;
      out.push(successor);
    }
    return out;
  });
  return { ids, steps: nodeSteps, successors };
}

/** One cycle (as step ids, first repeated at the end) per strongly connected component that contains a cycle. */
function findCycles(graph: Graph): string[][] {
  const component = stronglyConnectedComponents(graph.successors);
  const size = new Uint32Array(graph.ids.length);
  for (const c of component) size[c] = at(size, c) + 1;
  const reported = new Set<number>();
  const cycles: string[][] = [];
  graph.ids.forEach((_id, node) => {
    const c = at(component, node);
    if (reported.has(c)) return;
    // A single-step component is a cycle only if the step lists itself.
    if (at(size, c) === 1 && !at(graph.successors, node).includes(node)) return;
    reported.add(c);
    cycles.push(shortestCycleThrough(node, graph.successors, component).map((n) => at(graph.ids, n)));
  });
  return cycles;
}

/**
 * Tarjan's algorithm with an explicit call stack instead of recursion. Returns node → component number; nodes
 * share a number exactly when each can reach the other.
 */
function stronglyConnectedComponents(successors: readonly (readonly number[])[]): Int32Array {
  const n = successors.length;
  const index = new Int32Array(n).fill(-1); // discovery order; -1 = not yet visited
  const low = new Int32Array(n); // smallest index reachable through the DFS subtree and one back edge
  const component = new Int32Array(n).fill(-1);
  const onStack = new Uint8Array(n);
  const stack: number[] = [];
  // The simulated recursion: a frame is a node and the position of the next edge to follow from it.
  const frameNode: number[] = [];
  const frameEdge: number[] = [];
  let nextIndex = 0;
  let nextComponent = 0;

  const enter = (node: number): void => {
    index[node] = nextIndex;
    low[node] = nextIndex;
    nextIndex += 1;
    stack.push(node);
    onStack[node] = 1;
    frameNode.push(node);
    frameEdge.push(0);
  };

  for (let root = 0; root < n; root++) {
    if (at(index, root) !== -1) continue;
    enter(root);
    while (frameNode.length > 0) {
      const top = frameNode.length - 1;
      const node = at(frameNode, top);
      const edge = at(frameEdge, top);
      const out = at(successors, node);
      if (edge < out.length) {
        frameEdge[top] = edge + 1;
        const next = at(out, edge);
        if (at(index, next) === -1) enter(next);
        else if (at(onStack, next) === 1) low[node] = Math.min(at(low, node), at(index, next));
        continue;
      }
      // All edges followed: "return" from node.
      frameNode.pop();
      frameEdge.pop();
      if (at(low, node) === at(index, node)) {
        // node is the root of a component: everything above it on the stack belongs to it.
        let member: number | undefined;
        do {
          member = stack.pop();
          if (member === undefined) throw new Error('dag: Tarjan stack underflow');
          onStack[member] = 0;
          component[member] = nextComponent;
        } while (member !== node);
        nextComponent += 1;
      }
      const parent = frameNode[frameNode.length - 1];
      if (parent !== undefined) low[parent] = Math.min(at(low, parent), at(low, node));
    }
  }
  return component;
}

/**
 * Breadth-first search from `start` within its component (following edges in `nextStepIds` order) for the first
 * edge back to `start`. Returns the path `[start, …, start]`. `start` must lie on a cycle.
 */
function shortestCycleThrough(
  start: number,
  successors: readonly (readonly number[])[],
  component: Int32Array,
): number[] {
  const c = at(component, start);
  const parent = new Map<number, number>([[start, start]]);
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const node = at(queue, head);
    for (const next of at(successors, node)) {
      if (next === start) {
        const back: number[] = [];
        for (let n = node; n !== start; n = parent.get(n) ?? start) back.push(n);
        return [start, ...back.reverse(), start];
      }
      if (at(component, next) !== c || parent.has(next)) continue;
      parent.set(next, node);
      queue.push(next);
    }
  }
  throw new Error('dag: no cycle through the given step');
}

function cycleMessage(cycle: readonly string[], steps: ReadonlyMap<string, GraphStep>): string {
  return `cycle: ${cycle.map((id) => `"${steps.get(id)?.name ?? id}"`).join(' → ')}`;
}

/** `"Name" (id x)` for a known step, `id "x"` otherwise. */
function describe(id: string, steps: ReadonlyMap<string, GraphStep>): string {
  const step = steps.get(id);
  return step === undefined ? `id "${id}"` : `"${step.name}" (id ${id})`;
}

/** Reads an index the algorithm knows to be in range, which `noUncheckedIndexedAccess` cannot know. */
function at<T>(array: ArrayLike<T>, index: number): T {
  const value = array[index];
  if (value === undefined) throw new Error(`dag: index ${index} out of range`);
  return value;
}

function heapPush(heap: number[], value: number): void {
  let i = heap.length;
  heap.push(value);
  while (i > 0) {
    const parent = (i - 1) >> 1;
    const parentValue = at(heap, parent);
    if (parentValue <= value) break;
    heap[i] = parentValue;
    i = parent;
  }
  heap[i] = value;
}

function heapPop(heap: number[]): number | undefined {
  const top = heap[0];
  const last = heap.pop();
  if (top === undefined || last === undefined || heap.length === 0) return top;
  let i = 0;
  for (;;) {
    const left = 2 * i + 1;
    if (left >= heap.length) break;
    const right = left + 1;
    const child = right < heap.length && at(heap, right) < at(heap, left) ? right : left;
    const childValue = at(heap, child);
    if (childValue >= last) break;
    heap[i] = childValue;
    i = child;
  }
  heap[i] = last;
  return top;
}
