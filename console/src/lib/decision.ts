/**
 * The decision trace in words: why a step ran, was skipped, was cancelled or was reused by a rerun, from the
 * `decision` the engine records in the run's status (`{ condition, predecessors, outcome, reason }`, see
 * domain/flow-run.ts for the semantics). The engine's own `reason` is kept verbatim beside the sentences. Pure.
 */

export interface TracePredecessor {
  stepId: string;
  name: string;
  status: string;
}

export interface TraceStep {
  name: string;
  status: string;
  completedAt?: string;
  /** Why a step was Skipped or Cancelled (also on runs recorded before the decision trace). */
  reason?: string;
  /** A rerun carried the step's state over from this run instead of running it. */
  reusedFrom?: { runId: string };
  decision?: {
    condition: string;
    predecessors: TracePredecessor[];
    outcome: string;
    reason: string;
  };
}

export interface DecisionTrace {
  /** One sentence: what happened and why. */
  headline: string;
  /** Further sentences (predecessors that did not count, a cancellation after the step started). */
  details: string[];
  /** The entry condition, when recorded. */
  condition?: string;
  /** Each predecessor's state when the step was decided, in workflow order; `counted`: it ran, so it counted. */
  predecessors: Array<TracePredecessor & { counted: boolean }>;
  /** The engine's reason, verbatim (e.g. `PreviousSuccess not met: "Fetch" Failed`). */
  reason?: string;
}

const ran = (p: TracePredecessor) => p.status === 'Succeeded' || p.status === 'Failed';
const quoted = (p: TracePredecessor) => JSON.stringify(p.name);
const named = (ps: readonly TracePredecessor[]) => join(ps.map(quoted));
const withStates = (ps: readonly TracePredecessor[]) => join(ps.map((p) => `${quoted(p)} ${p.status}`));

/** `a`, `a and b`, `a, b and c`. */
export function join(items: readonly string[]): string {
  if (items.length <= 1) return items[0] ?? '';
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

function ranBecause(condition: string, predecessors: readonly TracePredecessor[]): string {
  if (predecessors.length === 0)
    return condition === 'Always'
      ? 'It ran as an entry point: its condition Always runs it when the run starts.'
      : 'It ran as an entry point: it has no previous step, and the start counts as a success.';
  const counted = predecessors.filter(ran);
  const waited = `It waited for ${named(predecessors)}`;
  switch (condition) {
    case 'PreviousFailure':
      return `${waited} and ran because its condition PreviousFailure held: ${named(counted.filter((p) => p.status === 'Failed'))} failed.`;
    case 'Always':
      return `${waited} and ran because its condition Always runs it whatever they did (${withStates(counted)}).`;
    case 'PreviousSuccess':
      return counted.length === 1
        ? `${waited} and ran because its condition PreviousSuccess held: ${named(counted)} succeeded.`
        : `${waited} and ran because its condition PreviousSuccess held: every predecessor that ran, ${named(counted)}, succeeded.`;
    default:
      return `${waited} and ran: ${condition}.`;
  }
}

function skippedBecause(
  condition: string,
  predecessors: readonly TracePredecessor[],
  reason: string,
): string {
  const counted = predecessors.filter(ran);
  if (condition === 'Never') return 'It was skipped: its condition is Never.';
  if (predecessors.length === 0 && condition === 'PreviousFailure')
    return 'It was skipped: its condition PreviousFailure needs a failed predecessor, and an entry point has none (the start counts as a success).';
  if (predecessors.length > 0 && counted.length === 0)
    return `It was skipped because none of its predecessors ran: ${withStates(predecessors)}.`;
  if (condition === 'PreviousSuccess')
    return `It was skipped: its condition PreviousSuccess needs every predecessor that ran to succeed, but ${withStates(counted.filter((p) => p.status === 'Failed'))}.`;
  if (condition === 'PreviousFailure')
    return `It was skipped: its condition PreviousFailure needs a predecessor to fail, and none did (${withStates(counted)}).`;
  return `It was skipped: ${reason}.`;
}

/**
 * Explains how `step` was decided. `formatTime` renders timestamps (the UI passes the reader's locale). Works for
 * runs recorded before the decision trace too: then only the status and the skip or cancel reason are known.
 */
export function explainDecision(step: TraceStep, formatTime: (iso: string) => string): DecisionTrace {
  const when = step.completedAt ? ` at ${formatTime(step.completedAt)}` : '';
  const decision = step.decision;
  if (!decision) {
    const reason = step.reason;
    const headline =
      step.status === 'Pending'
        ? 'Not decided yet: it waits until every predecessor is decided.'
        : step.status === 'Skipped'
          ? `It was skipped${reason ? `: ${reason}` : ''}.`
          : step.status === 'Cancelled'
            ? `It was cancelled${when}${reason ? `: ${reason}` : ''}.`
            : 'This run does not record how the step was decided (it started before the decision trace).';
    return { headline, details: [], predecessors: [], ...(reason && { reason }) };
  }

  const predecessors = decision.predecessors.map((p) => ({ ...p, counted: ran(p) }));
  const details: string[] = [];
  let headline: string;
  if (decision.outcome === 'Run') {
    headline = ranBecause(decision.condition, decision.predecessors);
    const notCounted = decision.predecessors.filter((p) => !ran(p));
    if (notCounted.length > 0)
      details.push(
        `${withStates(notCounted)}: ${notCounted.length === 1 ? 'it' : 'they'} did not run, so ${notCounted.length === 1 ? 'it does' : 'they do'} not count.`,
      );
    if (step.status === 'Cancelled')
      details.push(`It was cancelled${when}${step.reason ? `: ${step.reason}` : ''}.`);
  } else if (decision.outcome === 'Skipped') {
    headline = skippedBecause(decision.condition, decision.predecessors, decision.reason);
  } else if (decision.outcome === 'Reused') {
    // Decided in the earlier run: this run's predecessors say nothing about it.
    const { status, runId } = reusedOrigin(step, decision.reason);
    headline = `It was not run again: reused from ${runId ? `run ${runId}` : 'an earlier run'}, where it ${status}.`;
    details.push('This run carries over its recorded outcome and output; its processor was not called.');
    return { headline, details, condition: decision.condition, predecessors: [], reason: decision.reason };
  } else if (decision.outcome === 'Cancelled') {
    headline = `It was cancelled${when}: ${decision.reason}.`;
  } else {
    // An outcome this console does not know yet (a newer server): say it as it is.
    headline = `It was decided: ${decision.outcome} (${decision.reason}).`;
  }
  return { headline, details, condition: decision.condition, predecessors, reason: decision.reason };
}

/**
 * Where a reused step comes from and how it ended there: the engine's reason `reused: <status> in run <id>`, else
 * the step's `reusedFrom` and its status.
 */
function reusedOrigin(step: TraceStep, reason: string): { status: string; runId?: string } {
  const match = /^reused: (\S+) in run (\S+)$/.exec(reason);
  const runId = match?.[2] ?? step.reusedFrom?.runId;
  return { status: match?.[1] ?? step.status, ...(runId && { runId }) };
}
