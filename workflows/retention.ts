import { proxyActivities } from '@temporalio/workflow';
import type { RetentionActivities, RetentionInput, RetentionReport } from '../activities/data/retention';

const { cleanupExpiredBlobs } = proxyActivities<RetentionActivities>({
  startToCloseTimeout: '30 minutes',
  retry: { maximumAttempts: 5 },
});

/** `dataRetention`: deletes step data of runs closed more than `retentionDays` ago (the `flow-data-retention` schedule). */
export async function dataRetention(input: RetentionInput): Promise<RetentionReport> {
  return cleanupExpiredBlobs(input);
}
