/**
 * Retention of step data: blobs belong to runs; once every run that holds a blob closed more than the retention
 * period ago (or Temporal no longer knows it), the blob is deleted. Blobs of open runs are never deleted.
 */
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { describeCurrentSegment } from '../../infra/run-chain';
import type { BlobRetention } from './blob-store';

export interface RetentionInput {
  retentionDays: number;
  /** The clock the cleanup judges by (ISO-8601); default: now. Lets a test look 8 days ahead without waiting. */
  now?: string;
}

export interface RetentionReport {
  runsChecked: number;
  runsExpired: number;
  blobsDeleted: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** When a run closed: its close time, `null` while open, `undefined` when Temporal does not know the run. */
async function closedAt(client: Client, workflowId: string, runId: string): Promise<Date | null | undefined> {
  // The API records a large run input before the start, under a placeholder run ID.
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(runId)) return undefined;
  try {
    // A long run is closed when the segment it continued into last is.
    const description = await describeCurrentSegment(client, workflowId, runId);
    return description.status.name === 'RUNNING' ? null : (description.closeTime ?? null);
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return undefined;
    throw error;
  }
}

/** Deletes the blobs whose every owning run closed before the cutoff. */
export async function cleanupExpiredBlobs(
  store: BlobRetention,
  client: Client,
  input: RetentionInput,
): Promise<RetentionReport> {
  const now = input.now ? new Date(input.now) : new Date();
  const cutoff = new Date(now.getTime() - input.retentionDays * DAY_MS);
  const owners = await store.owners();
  let runsExpired = 0;
  for (const owner of owners) {
    const closed = await closedAt(client, owner.workflowId, owner.runId);
    // Unknown to Temporal (its own retention dropped it, or a start that never happened): judge by when it was
    // recorded.
    const expired = closed === undefined ? owner.recordedAt < cutoff : closed !== null && closed < cutoff;
    if (!expired) continue;
    await store.release(owner);
    runsExpired++;
  }
  // A blob nobody holds any more, and old enough not to be one whose owner is being recorded right now.
  const blobsDeleted = await store.deleteUnowned(cutoff);
  return { runsChecked: owners.length, runsExpired, blobsDeleted };
}

/** The activity the `dataRetention` workflow runs (registered by the orchestrator worker). */
export function createRetentionActivities(deps: { retention: BlobRetention }) {
  return {
    async cleanupExpiredBlobs(input: RetentionInput): Promise<RetentionReport> {
      return cleanupExpiredBlobs(deps.retention, Context.current().client, input);
    },
  };
}

export type RetentionActivities = ReturnType<typeof createRetentionActivities>;
