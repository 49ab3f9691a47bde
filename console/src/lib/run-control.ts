/**
 * Run control in words: a paused run's note, a run's trigger, a for-each step's item counts, what a rerun would run
 * again by default, and what a started rerun reused. Pure: callers pass the time formatter.
 */
import { join } from './decision';
import { isLiveRun, isOpenRun } from './status';

/** `Paused by ops-key at 12:03:04 (partner maintenance)`. */
export function pausedText(
  paused: { by: string; at: string; reason?: string },
  formatTime: (iso: string) => string,
): string {
  return `Paused by ${paused.by} at ${formatTime(paused.at)}${paused.reason ? ` (${paused.reason})` : ''}`;
}

/** How a run started, for people: `Manual`, `Schedule`, `Rerun` (an unknown trigger as itself). */
export function triggerLabel(trigger: string): string {
  switch (trigger) {
    case 'manual':
      return 'Manual';
    case 'schedule':
      return 'Schedule';
    case 'rerun':
      return 'Rerun';
    default:
      return trigger;
  }
}

/** The first block of a run ID (a UUID): enough to tell runs apart in a table; the full ID is in its title. */
export const shortRunId = (runId: string): string => runId.split('-')[0] ?? runId;

export interface ItemCounts {
  total: number;
  done: number;
  failed: number;
  running: number;
}

/** A for-each step's progress: `12/50 done, 1 failed, 5 running`; counts of 0 are left out; `no items`. */
export function itemsProgress(items: ItemCounts): string {
  if (items.total === 0) return 'no items';
  return [
    `${items.done}/${items.total} done`,
    ...(items.failed > 0 ? [`${items.failed} failed`] : []),
    ...(items.running > 0 ? [`${items.running} running`] : []),
  ].join(', ');
}

/** What a rerun repairs by default: the failed, cancelled and undecided steps, or (none) a step the reader picks. */
export type RerunMode = 'failed' | 'step';

/**
 * `failed` when the run has a step the engine would run again without `fromStepId` (Failed, Cancelled, not decided,
 * or not listed at all); otherwise `step`: rerunning the failed steps of a run where none failed is refused
 * (NothingToRerun), so the dialog opens on choosing a step.
 */
export function defaultRerunMode(run: {
  totalSteps: number;
  steps: ReadonlyArray<{ status: string }>;
}): RerunMode {
  const repairable = run.steps.some((s) => s.status !== 'Succeeded' && s.status !== 'Skipped');
  return repairable || run.steps.length < run.totalSteps ? 'failed' : 'step';
}

/** A run can be rerun once it closed and its compensations (if any) are done. */
export const canRerun = (run: { status: string; compensation?: { status: string } }): boolean =>
  !isLiveRun(run);

/** `Rerun started: "A" and "B" reused; "C" runs again.` from the rerun's 202 answer. */
export function rerunNotice(started: { reused?: string[]; rerun?: string[] }): string {
  const names = (list: readonly string[]) => join(list.map((name) => JSON.stringify(name)));
  const reused = started.reused ?? [];
  const again = started.rerun ?? [];
  const parts = [
    reused.length > 0 ? `${names(reused)} reused` : 'nothing reused',
    ...(again.length > 0 ? [`${names(again)} ${again.length === 1 ? 'runs' : 'run'} again`] : []),
  ];
  return `Rerun started: ${parts.join('; ')}.`;
}

/**
 * The runs list with the selected run's live status: the listing comes from Temporal's visibility, which knows an
 * open run only as Running, while the run's own status says Paused. Other runs are left as listed.
 */
export function withLiveStatus<T extends { runId: string; status: string }>(
  runs: readonly T[],
  live: { runId: string; status: string } | undefined,
): T[] {
  if (!live) return [...runs];
  return runs.map((run) =>
    run.runId === live.runId && run.status !== live.status && isOpenRun(run.status)
      ? { ...run, status: live.status }
      : run,
  );
}
