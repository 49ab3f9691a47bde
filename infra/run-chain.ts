/**
 * Long runs (issue 14 §2) continue as new: one run, several Temporal executions ("segments") under one workflow ID,
 * named everywhere by the first segment's run ID. This finds the segment such a run is at now — for the API's
 * status, pause and rerun, and for data retention, which must not judge a run closed while a later segment runs.
 */
import {
  isGrpcServiceError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowExecutionDescription,
} from '@temporalio/client';

/** gRPC status of a call about a run Temporal does not have. */
const GRPC_NOT_FOUND = 5;

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
  const first = await client.workflow.getHandle(workflowId, runId, { followRuns: false }).describe();
  if (first.status.name !== 'CONTINUED_AS_NEW') return first;
  // Usually the run is the workflow ID's latest execution chain: one call tells (Temporal names its first run).
  const latest = await client.workflow.getHandle(workflowId).describe();
  if (latest.raw.workflowExecutionInfo?.firstRunId === runId) return latest;
  // Otherwise (a newer run of the workflow ID exists) follow the chain segment by segment.
  let segment = await continuedInto(client, workflowId, runId);
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
    if (isGrpcServiceError(error) && Number(error.code) === GRPC_NOT_FOUND)
      throw new WorkflowNotFoundError(`run ${runId} of ${workflowId} not found`, workflowId, runId);
    throw error;
  }
  const next =
    page.history?.events?.[0]?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? '';
  if (!next)
    throw new Error(`run ${runId} of ${workflowId} continued as new, but its history does not say as what`);
  return next;
}
