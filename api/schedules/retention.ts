import {
  Client,
  ScheduleAlreadyRunning,
  ScheduleOverlapPolicy,
  type ConnectionLike,
} from '@temporalio/client';
import type { EncryptionCodec } from '../../infra/payload-codec';
import { dataConverter } from '../../infra/payload-keys';

export const RETENTION_SCHEDULE_ID = 'flow-data-retention';
export const RETENTION_WORKFLOW_TYPE = 'dataRetention';

/**
 * Makes sure the daily `flow-data-retention` schedule exists (created at startup, idempotent) and carries the current
 * retention period: it starts `dataRetention` on the orchestrator's task queue, which deletes step data of runs
 * closed more than `retentionDays` ago.
 */
export async function ensureRetentionSchedule(options: {
  connection: ConnectionLike;
  namespace: string;
  codec: EncryptionCodec;
  taskQueue: string;
  retentionDays: number;
  /** Default `flow-data-retention`; tests use their own. */
  scheduleId?: string;
}): Promise<'created' | 'updated'> {
  const scheduleId = options.scheduleId ?? RETENTION_SCHEDULE_ID;
  const client = new Client({
    connection: options.connection,
    namespace: options.namespace,
    dataConverter: dataConverter(options.codec),
  });
  const action = {
    type: 'startWorkflow' as const,
    workflowType: RETENTION_WORKFLOW_TYPE,
    workflowId: scheduleId,
    taskQueue: options.taskQueue,
    args: [{ retentionDays: options.retentionDays }],
  };
  try {
    await client.schedule.create({
      scheduleId,
      spec: { intervals: [{ every: '1 day' }] },
      action,
      policies: { overlap: ScheduleOverlapPolicy.SKIP },
    });
    return 'created';
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
    await client.schedule.getHandle(scheduleId).update((previous) => ({ ...previous, action }));
    return 'updated';
  }
}
