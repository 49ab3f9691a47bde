/**
 * Reruns (issue 13 §2): which steps of a finished run a rerun executes again and which it carries over, and whether
 * a newer definition can still take the carried-over steps. Pure; safe in the workflow sandbox.
 */
import type { RunPlan } from './flow-run';
import type { FlowSnapshot, StepState } from './flow-types';

export interface RerunSelection {
  /** Executed again, in workflow order: the starting steps and everything downstream of them. */
  rerun: string[];
  /** Carried over with their recorded state, in workflow order. */
  reused: string[];
}

/**
 * Splits a run's steps for a rerun. The starting steps are `fromStepId`, or — without it — every step that did not
 * end Succeeded or Skipped (Failed, Cancelled, never decided). Steps whose compensation ran are always started again:
 * their work was undone. Everything downstream of a starting step runs again too; the rest is reused.
 *
 * @throws Error when `fromStepId` is not a step of the plan (callers check first and answer 400/422).
 */
export function selectRerun(
  plan: RunPlan,
  recorded: ReadonlyMap<string, StepState>,
  options: { fromStepId?: string; compensated?: ReadonlySet<string> } = {},
): RerunSelection {
  const { fromStepId, compensated = new Set<string>() } = options;
  if (fromStepId !== undefined && !Object.hasOwn(plan.successors, fromStepId))
    throw new Error(`rerun: step "${fromStepId}" is not in the run's workflow`);
  const seeds = plan.stepIds.filter((id) => {
    if (compensated.has(id)) return true;
    if (fromStepId !== undefined) return id === fromStepId;
    const status = recorded.get(id)?.status;
    return status !== 'Succeeded' && status !== 'Skipped';
  });
  const again = new Set<string>();
  const queue = [...seeds];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    if (again.has(next)) continue;
    again.add(next);
    queue.push(...(plan.successors[next] ?? []));
  }
  return {
    rerun: plan.stepIds.filter((id) => again.has(id)),
    reused: plan.stepIds.filter((id) => !again.has(id)),
  };
}

/**
 * The steps (by name, workflow order of `original`) a rerun on `current` could not reuse: gone from the current
 * definition, or changed in any way that reaches the interpreter (processor, condition, edges, configuration,
 * policies, assignments, for-each, compensation).
 */
export function changedSteps(
  original: FlowSnapshot,
  current: FlowSnapshot,
  reused: readonly string[],
): string[] {
  const inCurrent = new Set(current.stepIds);
  return reused
    .filter((id) => {
      const before = original.steps[id];
      const after = inCurrent.has(id) ? current.steps[id] : undefined;
      return before === undefined || after === undefined || !sameJson(before, after);
    })
    .map((id) => original.steps[id]?.name ?? id);
}

/** Deep equality of JSON values, object keys in any order. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const keys = Object.keys(left).filter((key) => left[key] !== undefined);
  if (keys.length !== Object.keys(right).filter((key) => right[key] !== undefined).length) return false;
  return keys.every((key) => Object.hasOwn(right, key) && sameJson(left[key], right[key]));
}
