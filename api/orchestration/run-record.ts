/**
 * What a rerun needs from the run it repairs, read from that run's history: the input it started with, the
 * definition snapshot it ran (from its start input, or the result of the activity that loaded it), and each step's
 * recorded output (a cancelled run's memo leaves outputs out).
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow/codec-helpers';
import type { FlowRunInput, FlowSnapshot, StepResult } from '../../domain/flow-types';
import { unpageSnapshot, type SnapshotPage } from '../../domain/snapshot-pages';
import { grpcCode, NOT_FOUND } from './temporal-errors';

export interface RunRecord {
  input: FlowRunInput | undefined;
  snapshot: FlowSnapshot | undefined;
  /** Each step's output, by step ID, from its completed activity (for-each items and compensations left out). */
  outputs: Map<string, unknown>;
}

const SNAPSHOT_ACTIVITY = 'loadFlowSnapshot';
/** Runs from patch `continue-as-new` on load a definition that did not travel inline in pages. */
const SNAPSHOT_PAGE_ACTIVITY = 'loadSnapshotPage';

/** @throws WorkflowNotFoundError when Temporal has no such run. */
export async function runRecordFromHistory(
  client: Client,
  workflowId: string,
  runId: string,
): Promise<RunRecord> {
  const converter = client.options.loadedDataConverter;
  let history;
  try {
    history = await client.workflow.getHandle(workflowId, runId, { followRuns: false }).fetchHistory();
  } catch (error) {
    if (grpcCode(error) === NOT_FOUND)
      throw new WorkflowNotFoundError(`run ${runId} of ${workflowId} not found`, workflowId, runId);
    throw error;
  }
  const record: RunRecord = { input: undefined, snapshot: undefined, outputs: new Map() };
  const activityOf = new Map<string, { type: string; id: string }>();
  const pages: SnapshotPage[] = [];
  for (const event of history.events ?? []) {
    const started = event.workflowExecutionStartedEventAttributes;
    if (started) {
      record.input = await decodeFromPayloadsAtIndex<FlowRunInput>(converter, 0, started.input?.payloads);
      record.snapshot = record.input?.snapshot;
      continue;
    }
    const marker = event.markerRecordedEventAttributes;
    if (marker?.markerName === 'core_local_activity' && !record.snapshot) {
      const meta = marker.details?.data?.payloads?.[0];
      const type = meta
        ? defaultPayloadConverter.fromPayload<{ activity_type?: string }>(meta).activity_type
        : '';
      if (type === SNAPSHOT_ACTIVITY)
        record.snapshot = await decodeFromPayloadsAtIndex<FlowSnapshot>(
          converter,
          0,
          marker.details?.result?.payloads,
        );
      else if (type === SNAPSHOT_PAGE_ACTIVITY)
        pages.push(
          await decodeFromPayloadsAtIndex<SnapshotPage>(converter, 0, marker.details?.result?.payloads),
        );
      continue;
    }
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled) {
      activityOf.set(String(event.eventId), {
        type: scheduled.activityType?.name ?? '',
        id: scheduled.activityId ?? '',
      });
      continue;
    }
    const completed = event.activityTaskCompletedEventAttributes;
    if (completed) {
      const activity = activityOf.get(String(completed.scheduledEventId));
      if (!activity) continue;
      if (activity.type === SNAPSHOT_ACTIVITY && !record.snapshot)
        record.snapshot = await decodeFromPayloadsAtIndex<FlowSnapshot>(
          converter,
          0,
          completed.result?.payloads,
        );
      else if (!activity.id.includes('/')) {
        const result = await decodeFromPayloadsAtIndex<StepResult>(converter, 0, completed.result?.payloads);
        record.outputs.set(activity.id, result?.output);
      }
    }
  }
  const head = pages.find((page) => page.page === 0)?.head;
  if (!record.snapshot && head)
    record.snapshot = unpageSnapshot(
      head,
      pages.sort((a, b) => a.page - b.page).map((page) => page.steps),
    );
  return record;
}
