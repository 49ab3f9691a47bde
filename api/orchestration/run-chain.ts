/**
 * A long run's summary whole (issue 14 §2): its segments list the steps they moved to archives in the blob store as
 * stubs; the API reads the archives back into place. The segment a run is at is found by infra/run-chain.ts.
 */
import type { RunSummary, StepState } from '../../domain/flow-types';

/**
 * A long run's summary whole: the states its segments archived, read back and put in place of their stubs, and
 * the archive list left out. Other summaries come back as they are.
 */
export async function withArchivedSteps(
  summary: RunSummary,
  readArchive: (hash: string) => Promise<StepState[]>,
): Promise<RunSummary> {
  const archives = summary.segments?.archives;
  if (!archives) return summary;
  const byStep = new Map<string, StepState>();
  for (const states of await Promise.all(archives.map(readArchive)))
    for (const state of states) byStep.set(state.stepId, state);
  return {
    ...summary,
    // A stub whose archive expired with the run's data stays as it is (name and status), unmarked.
    steps: summary.steps.map(({ archived, ...step }) =>
      archived ? (byStep.get(step.stepId) ?? step) : step,
    ),
    segments: { count: summary.segments!.count },
  };
}

/**
 * The archives read lately, by hash, newest last: they never change, so a long run's status, polled every second,
 * reads each once. Bounded by count (an archive is a segment's steps: a few hundred KB); an expired one ([]) is not
 * kept.
 */
export class ArchiveCache {
  private readonly entries = new Map<string, Promise<StepState[]>>();

  constructor(private readonly max = 64) {}

  get(hash: string, read: () => Promise<StepState[]>): Promise<StepState[]> {
    let entry = this.entries.get(hash);
    if (entry) this.entries.delete(hash);
    else
      entry = read().then(
        (states) => {
          if (states.length === 0) this.entries.delete(hash);
          return states;
        },
        (error: unknown) => {
          this.entries.delete(hash);
          throw error;
        },
      );
    this.entries.set(hash, entry);
    while (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
    return entry;
  }
}

/**
 * The last status read of each open run, for a minute: what answers while no worker can (a long run's new segment
 * loading its definition). A few runs only (a 10,000-step summary is megabytes); closed runs need none.
 */
export class LastKnownStatus {
  private readonly entries = new Map<string, { summary: RunSummary; at: string; until: number }>();

  constructor(
    private readonly max = 16,
    private readonly ttlMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  remember(key: string, summary: RunSummary): void {
    this.entries.delete(key);
    if (summary.status !== 'Running' && summary.status !== 'Paused') return;
    const at = this.now();
    this.entries.set(key, { summary, at: new Date(at).toISOString(), until: at + this.ttlMs });
    while (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
  }

  get(key: string): { summary: RunSummary; at: string } | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.until < this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }
}
