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
    steps: summary.steps.map(({ archived, ...step }) => (archived ? (byStep.get(step.stepId) ?? step) : step)),
    segments: { count: summary.segments!.count },
  };
}
