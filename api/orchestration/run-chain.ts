/**
 * Long runs (issue 14 §2) continue as new: one run, several Temporal executions ("segments") under one workflow ID.
 * The API names a run by its first segment's run ID everywhere; these helpers find the segment that stands for it
 * now and put back the states the segments moved to their archives in the blob store.
 */
import { WorkflowNotFoundError, type Client, type WorkflowExecutionDescription } from '@temporalio/client';
import type { RunSummary, StepState } from '../../domain/flow-types';
import { grpcCode, NOT_FOUND } from './temporal-errors';

/** More segments than this is a loop, not a run (10,000 steps take a few dozen). */
const MAX_SEGMENTS = 10_000;

/**
 * The description of the segment a run is at: the run itself, or — when it continued as new — the segment it
 * continued into, followed to the last one (open or closed).
 * @throws WorkflowNotFoundError when Temporal has no such run.
 */
export async function describeCurrentSegment(
  client: Client,
  workflowId: string,
  runId: string,
): Promise<WorkflowExecutionDescription> {
  let segment = runId;
  for (let hops = 0; hops < MAX_SEGMENTS; hops++) {
    const description = await client.workflow
      .getHandle(workflowId, segment, { followRuns: false })
      .describe();
    if (description.status.name !== 'CONTINUED_AS_NEW') return description;
    segment = await continuedInto(client, workflowId, segment);
  }
  throw new Error(`run ${runId} of ${workflowId} continued as new more than ${MAX_SEGMENTS} times`);
}

/** The run ID a segment continued as: its last history event says (one small call, newest event first). */
async function continuedInto(client: Client, workflowId: string, runId: string): Promise<string> {
  let page;
  try {
    page = await client.workflowService.getWorkflowExecutionHistoryReverse({
      namespace: client.options.namespace,
      execution: { workflowId, runId },
      maximumPageSize: 1,
    });
  } catch (error) {
    if (grpcCode(error) === NOT_FOUND)
      throw new WorkflowNotFoundError(`run ${runId} of ${workflowId} not found`, workflowId, runId);
    throw error;
  }
  const next =
    page.history?.events?.[0]?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? '';
  if (!next)
    throw new Error(`run ${runId} of ${workflowId} continued as new, but its history does not say as what`);
  return next;
}

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
    steps: summary.steps.map((step) => (step.archived ? (byStep.get(step.stepId) ?? step) : step)),
    segments: { count: summary.segments!.count },
  };
}
