/**
 * The interpreter's semantics (DESIGN.md §4: Entry points, Edges and joins, Data, Outcome) as pure functions, so the
 * workflow only wires them to activities. Safe inside the Temporal workflow sandbox: imports only `./dag` and
 * `./flow-types`, no clock (callers pass `at`), no randomness, no recursion (a 10,000-step chain is fine), and every
 * list comes back in workflow order (`RunPlan.stepIds`). Inputs are never mutated; plans and states are plain data.
 * `decide` is linear in the number of steps (plus edges) per call.
 *
 * Two forms of the same rules. `decide`, `applySkips`, `withDecisions`, `cancelPending` and `isFinished` take whole
 * state records and return new ones: the reference the tests simulate whole runs on. The interpreter uses
 * `Readiness` (the same decisions, found per ended step, checked against `decide` over random DAGs) and `decisionOf`,
 * and changes its states in place, so a 10,000-step run costs O(steps + edges) in all rather than per event.
 *
 * Deciding a step (`decide`). A step runs at most once. A Pending step is decided when all its predecessors (steps of
 * the workflow listing it in `nextStepIds`) are decided: Succeeded, Failed, Skipped or Cancelled.
 * - An entry point (no predecessor) runs, unless its condition is `Never` or `PreviousFailure` (it has no previous
 *   step: the start counts as a success).
 * - Otherwise only predecessors that ran (Succeeded or Failed) count. If none ran, the step is Skipped, so skips
 *   propagate. Else the condition is evaluated over those that ran: `PreviousSuccess` — all succeeded;
 *   `PreviousFailure` — at least one failed; `Always` — run; `Never` — skip.
 *
 * Skip reasons, exactly (`"X"` is a step name as a JSON string; lists are in workflow order, joined by `, `):
 * - `entry condition Never` — a `Never` step, entry point or not, whose predecessors (if any) include one that ran.
 * - `PreviousFailure not met: no previous step, the start counts as a success` — a `PreviousFailure` entry point.
 * - `no predecessor ran: "A" Skipped, "B" Cancelled` — every predecessor, with its state.
 * - `PreviousSuccess not met: "A" Failed, "B" Failed` — the predecessors that failed.
 * - `PreviousFailure not met: no predecessor failed ("A" Succeeded, "B" Succeeded)` — the predecessors that ran.
 *
 * Throws: a plain `Error` when `states` lacks a step of the plan, or a step id is not in the plan (caller bugs, never
 * run outcomes).
 */
import { predecessorsOf } from './dag';
import type {
  EntryCondition,
  FlowSnapshot,
  PreviousStepResult,
  SnapshotStep,
  StepDecision,
  StepState,
  StepStatus,
} from './flow-types';

/** What `decide` walks; plain data. Read-only once built: `decide` memoizes an index of it per plan object. */
export interface RunPlan {
  /** The workflow's steps, in order (each once; ids without a step left out). */
  stepIds: string[];
  /** `processor` is `name@version`, or null when the step's processor is missing. */
  steps: Record<
    string,
    { id: string; name: string; entryCondition: EntryCondition; processor: string | null }
  >;
  /** Edges inside the workflow only, in workflow order. */
  predecessors: Record<string, string[]>;
  /** The same edges the other way, in workflow order. */
  successors: Record<string, string[]>;
}

/** Builds the plan of a snapshot whose graph is valid (callers validate with dag.validateGraph first). */
export function planRun(snapshot: FlowSnapshot): RunPlan {
  const graphSteps = new Map<string, SnapshotStep>();
  for (const id of snapshot.stepIds) {
    const step = Object.hasOwn(snapshot.steps, id) ? snapshot.steps[id] : undefined;
    if (step !== undefined) graphSteps.set(id, step);
  }
  const plan: RunPlan = { stepIds: [], steps: {}, predecessors: {}, successors: {} };
  const predecessors = predecessorsOf(snapshot.stepIds, graphSteps);
  for (const [id, preds] of predecessors) {
    const step = graphSteps.get(id);
    if (step === undefined) continue; // predecessorsOf only lists steps it was given
    const processor = step.processor && `${step.processor.name}@${step.processor.version}`;
    plan.stepIds.push(id);
    plan.steps[id] = { id, name: step.name, entryCondition: step.entryCondition, processor };
    plan.predecessors[id] = preds;
    plan.successors[id] = [];
  }
  // Steps visited in workflow order append to their predecessors' lists in workflow order.
  for (const id of plan.stepIds)
    for (const p of listOf(plan.predecessors, id)) listOf(plan.successors, p).push(id);
  return plan;
}

/** Every step Pending, attempts 0. */
export function initialStepStates(plan: RunPlan): Record<string, StepState> {
  const states: Record<string, StepState> = {};
  for (const id of plan.stepIds) {
    const { name, processor } = stepOf(plan, id);
    states[id] = { stepId: id, name, processor, status: 'Pending', attempts: 0 };
  }
  return states;
}

export interface Decisions {
  run: string[];
  skipped: Array<{ stepId: string; reason: string }>;
}

/**
 * Decides, to a fixpoint, every Pending step (not in `exclude`) whose predecessors are all decided: returns those to
 * run and those skipped with why, each in workflow order. Skips cascade within one call; a step returned to run is
 * still undecided for its successors. Does not mutate `states`: apply `skipped` with `applySkips`, and pass steps
 * returned earlier but not started yet (still Pending) in `exclude` so they are not returned again.
 */
export function decide(
  plan: RunPlan,
  states: Record<string, StepState>,
  exclude: ReadonlySet<string> = new Set(),
): Decisions {
  const { predecessors, successors } = indexed(plan);
  // A working copy of the statuses, by workflow position, updated as steps are decided here: a skip is decided for
  // its successors at once; a step to run, like an excluded one, stays undecided for them (as if Running).
  const status = new Uint8Array(plan.stepIds.length);
  for (let step = 0; step < status.length; step++) {
    const id = at(plan.stepIds, step);
    const current = stateOf(states, id).status;
    status[step] =
      current !== 'Pending' ? codeOf(current) : exclude.size > 0 && exclude.has(id) ? RUNNING : PENDING;
  }
  const run: number[] = [];
  const skipped: Array<[number, string]> = [];
  const queue: number[] = [];
  const consider = (step: number): void => {
    if (status[step] !== PENDING) return;
    for (const p of at(predecessors, step)) if (at(status, p) <= RUNNING) return;
    const reason = skipReason(plan, step, at(predecessors, step), status);
    if (reason === null) {
      status[step] = RUNNING;
      run.push(step);
    } else {
      status[step] = SKIPPED;
      skipped.push([step, reason]);
      for (const successor of at(successors, step)) queue.push(successor);
    }
  };
  // Workflow order first, then the successors of each skip (they may come earlier in workflow order).
  for (let step = 0; step < status.length; step++) consider(step);
  for (const step of queue) consider(step); // also visits what consider() appends meanwhile

  const id = (step: number): string => at(plan.stepIds, step);
  return {
    run: run.sort((a, b) => a - b).map(id),
    skipped: skipped.sort(([a], [b]) => a - b).map(([step, reason]) => ({ stepId: id(step), reason })),
  };
}

/** Returns a new states record with the skipped steps marked Skipped with their reasons (and completedAt = at). */
export function applySkips(
  states: Record<string, StepState>,
  skipped: Decisions['skipped'],
  at: string,
): Record<string, StepState> {
  const next = { ...states };
  for (const { stepId, reason } of skipped) {
    next[stepId] = { ...stateOf(states, stepId), status: 'Skipped', reason, completedAt: at };
  }
  return next;
}

/** A decided step as {@link withDecisions} records it: a skip or cancel says why; a run's reason is derived. */
export type DecidedStep =
  | { stepId: string; outcome: 'Run' }
  | { stepId: string; outcome: 'Skipped' | 'Cancelled' | 'Reused'; reason: string };

/**
 * Returns a new states record in which each decided step carries its {@link StepDecision}: its entry condition, its
 * predecessors' states as `states` has them (call it after `applySkips` or `cancelPending`, so a cascade's skips are
 * in), the outcome and the reason. A run's reason names what made its condition hold:
 * - `entry point: no previous step, the start counts as a success` (`Always` entry points: `Always: an entry point`);
 * - `PreviousSuccess met: "A" Succeeded`, `PreviousFailure met: "A" Failed`, `Always: "A" Failed` — the predecessors
 *   that ran (for PreviousFailure, those that failed);
 * - followed by `; did not run: "B" Skipped` when some predecessors did not run (they do not count).
 */
export function withDecisions(
  plan: RunPlan,
  states: Record<string, StepState>,
  decided: readonly DecidedStep[],
): Record<string, StepState> {
  if (decided.length === 0) return states;
  const next = { ...states };
  for (const step of decided)
    next[step.stepId] = { ...stateOf(states, step.stepId), decision: decisionOf(plan, states, step) };
  return next;
}

/** One step's {@link StepDecision}, from its predecessors' states as `states` has them (see {@link withDecisions}). */
export function decisionOf(
  plan: RunPlan,
  states: Record<string, StepState>,
  step: DecidedStep,
): StepDecision {
  const { entryCondition: condition } = stepOf(plan, step.stepId);
  const predecessors = listOf(plan.predecessors, step.stepId).map((id) => {
    const { name, status } = stateOf(states, id);
    return { stepId: id, name, status };
  });
  const reason = step.outcome === 'Run' ? runReason(condition, predecessors) : step.reason;
  return { condition, predecessors, outcome: step.outcome, reason };
}

function runReason(condition: StepDecision['condition'], predecessors: StepDecision['predecessors']): string {
  if (predecessors.length === 0)
    return condition === 'Always'
      ? 'Always: an entry point'
      : 'entry point: no previous step, the start counts as a success';
  const list = (steps: StepDecision['predecessors']): string =>
    steps.map((p) => `${JSON.stringify(p.name)} ${p.status}`).join(', ');
  const ran = predecessors.filter((p) => p.status === 'Succeeded' || p.status === 'Failed');
  const notRun = predecessors.filter((p) => p.status !== 'Succeeded' && p.status !== 'Failed');
  const held =
    condition === 'PreviousFailure'
      ? `PreviousFailure met: ${list(ran.filter((p) => p.status === 'Failed'))}`
      : condition === 'Always'
        ? `Always: ${list(ran)}`
        : `${condition} met: ${list(ran)}`;
  return notRun.length > 0 ? `${held}; did not run: ${list(notRun)}` : held;
}

/**
 * `previous` as sent to the processor: a succeeded predecessor's output is dropped where the step's `input` already
 * holds it (one predecessor: the input itself; a join: the input's key for it), so each output travels once per
 * invocation. {@link restorePreviousOutputs} undoes it.
 */
export function withoutRepeatedOutputs(
  plan: RunPlan,
  stepId: string,
  previous: PreviousStepResult[],
): PreviousStepResult[] {
  const predecessors = listOf(plan.predecessors, stepId);
  if (predecessors.length === 0) return previous;
  const names = new Set<string>();
  return previous.map((p) => {
    const key = names.has(p.name) ? p.stepId : p.name;
    names.add(p.name);
    if (p.status !== 'Succeeded') return p;
    const { output: _output, ...rest } = p;
    return { ...rest, outputInInput: predecessors.length === 1 ? true : key };
  });
}

/** `previous` with every output put back from `input` (see {@link withoutRepeatedOutputs}). */
export function restorePreviousOutputs(input: unknown, previous: PreviousStepResult[]): PreviousStepResult[] {
  return previous.map(({ outputInInput, ...p }) => {
    if (outputInInput === undefined) return p;
    const output =
      outputInInput === true ? input : (input as Record<string, unknown> | null | undefined)?.[outputInInput];
    return { ...p, output: output ?? null };
  });
}

/**
 * The data a step receives. `input`: an entry point gets the run input; a step with one predecessor gets its output
 * (null if it failed or gave none); a join (several predecessors in the graph) always gets an object keyed by the
 * names of the predecessors that ran (a failed one → null; a name repeated among them keys the later ones by step id
 * instead), so its shape does not depend on which branches ran.
 * `previous`: each predecessor that ran, in workflow order, with its output (Succeeded) or error (Failed).
 * Skipped and Cancelled predecessors are left out of both.
 */
export function stepInput(
  plan: RunPlan,
  states: Record<string, StepState>,
  stepId: string,
  runInput: unknown,
): { input: unknown; previous: PreviousStepResult[] } {
  const predecessors = listOf(plan.predecessors, stepId);
  const previous: PreviousStepResult[] = [];
  for (const id of predecessors) {
    const { name, status, output, error } = stateOf(states, id);
    if (status === 'Succeeded') previous.push({ stepId: id, name, status, output: output ?? null });
    else if (status === 'Failed') previous.push({ stepId: id, name, status, ...(error && { error }) });
  }
  if (predecessors.length === 0) return { input: runInput, previous };
  const valueOf = (p: PreviousStepResult): unknown => (p.status === 'Succeeded' ? p.output : null);
  // The shape follows the graph, not the run: a join always receives an object, so its input schema holds.
  if (predecessors.length === 1) return { input: previous[0] ? valueOf(previous[0]) : null, previous };
  const names = new Set<string>();
  const entries = previous.map((p): [string, unknown] => {
    const key = names.has(p.name) ? p.stepId : p.name;
    names.add(p.name);
    return [key, valueOf(p)];
  });
  // fromEntries defines own properties, so a step named "__proto__" is just a key.
  return { input: Object.fromEntries(entries), previous };
}

/**
 * Failed when some step Failed and no direct successor of it ran (Succeeded or Failed): an unhandled failure, listed
 * in workflow order. Otherwise Completed. Meant for a finished run (see `isFinished`).
 */
export function runOutcome(
  plan: RunPlan,
  states: Record<string, StepState>,
): { status: 'Completed' | 'Failed'; unhandledFailures: string[] } {
  const ran = (id: string): boolean => ['Succeeded', 'Failed'].includes(stateOf(states, id).status);
  const unhandledFailures = plan.stepIds.filter(
    (id) => stateOf(states, id).status === 'Failed' && !listOf(plan.successors, id).some(ran),
  );
  return { status: unhandledFailures.length > 0 ? 'Failed' : 'Completed', unhandledFailures };
}

/** True when no step is Pending or Running. */
export function isFinished(states: Record<string, StepState>): boolean {
  // for…in, not Object.values: on a 10,000-step record it is several times faster, and this runs once per event.
  for (const id in states) {
    const status = states[id]?.status;
    if (status === 'Pending' || status === 'Running') return false;
  }
  return true;
}

/** Marks every Pending step Cancelled with `reason` and completedAt = at (Running ones are left to their activity). */
export function cancelPending(
  states: Record<string, StepState>,
  reason: string,
  at: string,
): Record<string, StepState> {
  const next: Record<string, StepState> = {};
  for (const [id, state] of Object.entries(states)) {
    next[id] =
      state.status === 'Pending' ? { ...state, status: 'Cancelled', reason, completedAt: at } : state;
  }
  return next;
}

/** Counts for status: steps in a final state, all steps, Running step ids and every state, in workflow order. */
export function progress(
  plan: RunPlan,
  states: Record<string, StepState>,
): { completedSteps: number; totalSteps: number; currentSteps: string[]; steps: StepState[] } {
  const steps = plan.stepIds.map((id) => stateOf(states, id));
  return {
    completedSteps: steps.filter((s) => s.status !== 'Pending' && s.status !== 'Running').length,
    totalSteps: steps.length,
    currentSteps: steps.filter((s) => s.status === 'Running').map((s) => s.stepId),
    steps,
  };
}

/**
 * Deciding as a run goes, for the interpreter: the decisions {@link decide} would return, found from the successors
 * of each step that ends instead of by rescanning every step, so a run of N steps costs O(N + edges) in all rather
 * than O(N) per event. Mutable; one per run (segment). Built from the states the run starts with (all Pending, or a
 * rerun's reused ones, or those a continued run carries as status codes).
 */
export class Readiness {
  private readonly index: IndexedPlan;
  private readonly position: Map<string, number>;
  /** Status codes by workflow position; a step returned to run counts as Running until it ends. */
  private readonly status: Uint8Array;
  /** How many of each step's predecessors are still undecided. */
  private readonly waitingOn: Int32Array;
  private ready: number[] = [];
  /** Steps not in a final state yet (Pending, or returned to run and not ended). */
  private open = 0;

  constructor(
    private readonly plan: RunPlan,
    statusOf: (stepId: string) => StepStatus,
  ) {
    this.index = indexed(plan);
    this.position = new Map(plan.stepIds.map((id, step) => [id, step]));
    const count = plan.stepIds.length;
    this.status = new Uint8Array(count);
    this.waitingOn = new Int32Array(count);
    for (let step = 0; step < count; step++) {
      this.status[step] = codeOf(statusOf(at(plan.stepIds, step)));
      if (at(this.status, step) <= RUNNING) this.open++;
    }
    for (let step = 0; step < count; step++) {
      let waiting = 0;
      for (const p of at(this.index.predecessors, step)) if (at(this.status, p) <= RUNNING) waiting++;
      this.waitingOn[step] = waiting;
      if (waiting === 0 && this.status[step] === PENDING) this.ready.push(step);
    }
  }

  /** True when every step is in a final state. */
  get finished(): boolean {
    return this.open === 0;
  }

  /** Records that a step returned to run has ended (Succeeded, Failed or Cancelled): its successors may be ready. */
  settle(stepId: string, status: StepStatus): void {
    const step = this.positionOf(stepId);
    if (at(this.status, step) > RUNNING) return;
    this.status[step] = codeOf(status);
    if (status === 'Pending' || status === 'Running') return;
    this.open--;
    this.release(step);
  }

  /**
   * Decides every step made ready since the last call, skips cascading: what {@link decide} would return for the
   * same states with the steps returned earlier excluded. Apply `skipped` with `applySkips` (they are already
   * counted as decided here).
   */
  decide(): Decisions {
    const run: number[] = [];
    const skipped: Array<[number, string]> = [];
    // release() appends to this.ready while it is walked: the cascade of a skip is decided in the same call.
    for (let i = 0; i < this.ready.length; i++) {
      const step = at(this.ready, i);
      if (this.status[step] !== PENDING) continue;
      const reason = skipReason(this.plan, step, at(this.index.predecessors, step), this.status);
      if (reason === null) {
        this.status[step] = RUNNING;
        run.push(step);
      } else {
        this.status[step] = SKIPPED;
        this.open--;
        skipped.push([step, reason]);
        this.release(step);
      }
    }
    this.ready = [];
    const id = (step: number): string => at(this.plan.stepIds, step);
    return {
      run: run.sort((a, b) => a - b).map(id),
      skipped: skipped.sort(([a], [b]) => a - b).map(([step, reason]) => ({ stepId: id(step), reason })),
    };
  }

  /** Every step's status code (a digit per step, in workflow order): what a continued run carries. */
  codes(): string {
    return Array.from(this.status, (code) => String(code)).join('');
  }

  /** The steps that are decided and have a successor that is not: their outputs are still needed. */
  frontier(): string[] {
    const found: string[] = [];
    for (let step = 0; step < this.status.length; step++) {
      if (at(this.status, step) <= RUNNING) continue;
      if (at(this.index.successors, step).some((s) => at(this.status, s) <= RUNNING))
        found.push(at(this.plan.stepIds, step));
    }
    return found;
  }

  private release(step: number): void {
    for (const successor of at(this.index.successors, step)) {
      const left = at(this.waitingOn, successor) - 1;
      this.waitingOn[successor] = left;
      if (left === 0 && this.status[successor] === PENDING) this.ready.push(successor);
    }
  }

  private positionOf(stepId: string): number {
    const step = this.position.get(stepId);
    if (step === undefined) throw new Error(`flow-run: step id "${stepId}" not in plan`);
    return step;
  }
}

/** The status a code from {@link Readiness.codes} stands for. */
export function statusOfCode(code: string): StepStatus {
  const status = STATUSES[Number(code)];
  if (status === undefined) throw new Error(`flow-run: unknown status code "${code}"`);
  return status;
}

// ---------------------------------------------------------------------------------------------------------------

/** Why a step whose predecessors are all decided is skipped, or null if it runs. Steps are workflow positions. */
function skipReason(
  plan: RunPlan,
  step: number,
  predecessors: readonly number[],
  status: Uint8Array,
): string | null {
  const { entryCondition } = stepOf(plan, at(plan.stepIds, step));
  if (predecessors.length === 0) {
    if (entryCondition === 'Never') return 'entry condition Never';
    if (entryCondition === 'PreviousFailure')
      return 'PreviousFailure not met: no previous step, the start counts as a success';
    return null;
  }
  const ran = predecessors.filter((p) => status[p] === SUCCEEDED || status[p] === FAILED);
  const failed = ran.filter((p) => status[p] === FAILED);
  const list = (steps: readonly number[]): string =>
    steps
      .map((p) => `${JSON.stringify(stepOf(plan, at(plan.stepIds, p)).name)} ${at(STATUSES, at(status, p))}`)
      .join(', ');
  if (ran.length === 0) return `no predecessor ran: ${list(predecessors)}`;
  switch (entryCondition) {
    case 'PreviousSuccess':
      return failed.length === 0 ? null : `PreviousSuccess not met: ${list(failed)}`;
    case 'PreviousFailure':
      return failed.length > 0 ? null : `PreviousFailure not met: no predecessor failed (${list(ran)})`;
    case 'Always':
      return null;
    case 'Never':
      return 'entry condition Never';
  }
}

// `decide` keeps statuses as their positions in this list, in a Uint8Array (an array of strings built per call cost
// a 10,000-step chain decided step by step a second more). "Undecided" is `<= RUNNING`.
const STATUSES: readonly StepStatus[] = ['Pending', 'Running', 'Succeeded', 'Failed', 'Skipped', 'Cancelled'];
const PENDING = 0;
const RUNNING = 1;
const SUCCEEDED = 2;
const FAILED = 3;
const SKIPPED = 4;

function codeOf(status: StepStatus): number {
  const code = STATUSES.indexOf(status);
  if (code < 0) throw new Error(`flow-run: unknown step status "${String(status)}"`);
  return code;
}

/** A plan's edges as workflow positions: what `decide` walks. Built once per plan (a plan is read-only). */
interface IndexedPlan {
  predecessors: number[][];
  successors: number[][];
}

// Memoization only (a pure function of the plan), so sharing it is harmless; a WeakMap never changes a result.
const indexedPlans = new WeakMap<RunPlan, IndexedPlan>();

function indexed(plan: RunPlan): IndexedPlan {
  let found = indexedPlans.get(plan);
  if (found === undefined) {
    const position = new Map(plan.stepIds.map((id, step) => [id, step]));
    const positions = (edges: Record<string, string[]>): number[][] =>
      plan.stepIds.map((id) =>
        listOf(edges, id).map((other) => {
          const step = position.get(other);
          if (step === undefined) throw new Error(`flow-run: step id "${other}" not in plan`);
          return step;
        }),
      );
    found = { predecessors: positions(plan.predecessors), successors: positions(plan.successors) };
    indexedPlans.set(plan, found);
  }
  return found;
}

function stateOf(states: Record<string, StepState>, id: string): StepState {
  const state = states[id];
  // A status, not just a value: `states.constructor` is no state.
  if (state?.status === undefined) throw new Error(`flow-run: no state for step id "${id}"`);
  return state;
}

function stepOf(plan: RunPlan, id: string): RunPlan['steps'][string] {
  const step = plan.steps[id];
  if (step?.entryCondition === undefined) throw new Error(`flow-run: step id "${id}" not in plan`);
  return step;
}

function listOf(lists: Record<string, string[]>, id: string): string[] {
  const list = lists[id];
  if (!Array.isArray(list)) throw new Error(`flow-run: step id "${id}" not in plan`);
  return list;
}

/** Reads an index the algorithm knows to be in range, which `noUncheckedIndexedAccess` cannot know. */
function at<T>(array: ArrayLike<T>, index: number): T {
  const value = array[index];
  if (value === undefined) throw new Error(`flow-run: index ${index} out of range`);
  return value;
}
