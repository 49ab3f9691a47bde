/**
 * The schedule reconciler: at API startup, makes Temporal's flow schedules match the database. It repairs what a
 * write cannot prevent — a schedule changed or deleted behind our back in Temporal, and the one gap of the write
 * path (Temporal changed, then the database commit failed) — and removes orphans.
 */
import { Client, type Connection } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import { dataConverter } from '../../infra/payload-keys';
import type { Logger } from 'pino';
import { ORCHESTRATOR_TASK_QUEUE } from '../../domain/task-queue';
import type { Prisma, PrismaClient } from '../../prisma/client';
import { ApiError, ServiceUnavailableError } from '../errors';
import { translateDatabaseError } from '../prisma-errors';
import { flowIdOfSchedule, scheduleIdOf, type ScheduleAspect } from './desired';
import { lockFlowSchedule, ScheduleService } from './service';
import type { ScheduleChange } from './temporal-schedules';

/** What one reconciliation did. Schedule IDs in each list. */
export interface ReconcileReport {
  created: string[];
  updated: Array<{ scheduleId: string; aspects: ScheduleAspect[] }>;
  deleted: string[];
  unchanged: string[];
  /** Schedules Temporal refused to create or update (e.g. a cron expression stored before it was checked). */
  failed: Array<{ scheduleId: string; error: string }>;
}

const FLOW_FIELDS = {
  id: true,
  name: true,
  cronExpression: true,
  timezone: true,
  overlapPolicy: true,
  catchupWindowMs: true,
  isScheduleEnabled: true,
} as const;

/**
 * One pass: every flow with a cron expression gets its schedule created or corrected (spec, policies, action,
 * paused state); every schedule with our prefix `flow-schedule-{uuid}` whose flow is gone or has no cron expression
 * is deleted. A schedule whose flow is not in this database is only deleted when it starts runs on this API's task
 * queue, so deployments sharing a namespace on other task queues keep theirs. Each flow is handled in its own
 * transaction under the flow's schedule lock, so concurrent writes of the flow are never undone. Each change is
 * logged at info.
 *
 * @throws ServiceUnavailableError when Temporal cannot be reached (nothing after that point was done).
 */
export async function reconcileSchedules(
  prisma: PrismaClient,
  schedules: ScheduleService,
  logger: Logger,
): Promise<ReconcileReport> {
  const report: ReconcileReport = { created: [], updated: [], deleted: [], unchanged: [], failed: [] };
  const flowIds = await database(() =>
    prisma.orchestratedFlow.findMany({ where: { cronExpression: { not: null } }, select: { id: true } }),
  );
  const scheduled = new Set<string>();
  for (const { id } of flowIds) {
    const change = await guarded(report, scheduleIdOf(id), logger, () =>
      inFlowLock(prisma, id, async (tx) => {
        const flow = await tx.orchestratedFlow.findUnique({ where: { id }, select: FLOW_FIELDS });
        const wanted = flow && schedules.desired(flow);
        // Deleted or un-scheduled meanwhile: that write already removed its schedule.
        return wanted ? schedules.temporal.apply(id, wanted) : undefined;
      }),
    );
    if (change) {
      scheduled.add(change.scheduleId);
      record(report, change, logger);
    }
  }

  for (const scheduleId of await schedules.temporal.ownedScheduleIds()) {
    if (scheduled.has(scheduleId)) continue;
    const id = flowIdOfSchedule(scheduleId)!;
    const deleted = await guarded(report, scheduleId, logger, () =>
      inFlowLock(prisma, id, async (tx) => {
        const flow = await tx.orchestratedFlow.findUnique({ where: { id }, select: FLOW_FIELDS });
        if (flow?.cronExpression) return false; // created since the first pass: its write made the schedule
        if (!flow && (await schedules.temporal.actionTaskQueue(scheduleId)) !== schedules.taskQueue)
          return false;
        return schedules.temporal.deleteById(scheduleId);
      }),
    );
    if (deleted) {
      report.deleted.push(scheduleId);
      logger.info(
        { scheduleId },
        'reconciler deleted an orphaned schedule (its flow is gone or has no cron)',
      );
    }
  }
  return report;
}

export interface BackgroundReconcilerOptions {
  prisma: PrismaClient;
  connection: Connection;
  namespace: string;
  /** The task queue the API starts runs on (default `flow-orchestrator`). */
  taskQueue?: string;
  logger: Logger;
  /** The payload codec (schedule actions carry the run's encrypted arguments). */
  codec: PayloadCodec;
  /** Wait before trying again when Temporal or Postgres is unavailable (default 30 s). */
  retryDelayMs?: number;
}

/**
 * Runs {@link reconcileSchedules} without holding up startup: while Temporal (or Postgres) is unavailable it logs a
 * warning and tries again after `retryDelayMs`, until one pass completes. `stop()` cancels a pending retry and
 * resolves once a pass in progress has ended (call it before closing the connections it uses).
 */
export function startScheduleReconciler(options: BackgroundReconcilerOptions): { stop(): Promise<void> } {
  const { prisma, connection, namespace, logger, retryDelayMs = 30_000 } = options;
  const schedules = new ScheduleService(
    prisma,
    new Client({ connection, namespace, dataConverter: dataConverter(options.codec) }),
    options.taskQueue ?? ORCHESTRATOR_TASK_QUEUE,
  );
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  const attempt = () => {
    if (stopped) return;
    running = reconcileSchedules(prisma, schedules, logger).then(
      (report) =>
        logger.info(
          {
            created: report.created.length,
            updated: report.updated.length,
            deleted: report.deleted.length,
            unchanged: report.unchanged.length,
            failed: report.failed.length,
          },
          'flow schedules reconciled',
        ),
      (error: unknown) => {
        if (stopped) return;
        logger.warn(
          { err: error, retryInMs: retryDelayMs },
          'could not reconcile flow schedules; will retry',
        );
        timer = setTimeout(attempt, retryDelayMs);
        timer.unref();
      },
    );
  };
  attempt();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

function record(report: ReconcileReport, change: ScheduleChange, logger: Logger): void {
  const { scheduleId } = change;
  switch (change.change) {
    case 'created':
      report.created.push(scheduleId);
      logger.info({ scheduleId }, 'reconciler created a missing schedule');
      break;
    case 'updated':
      report.updated.push({ scheduleId, aspects: change.aspects });
      logger.info({ scheduleId, aspects: change.aspects }, 'reconciler corrected a schedule');
      break;
    case 'deleted':
      report.deleted.push(scheduleId);
      logger.info({ scheduleId }, 'reconciler deleted a schedule');
      break;
    case 'unchanged':
      report.unchanged.push(scheduleId);
      break;
  }
}

/** Runs `work` in a transaction holding the flow's schedule lock. */
function inFlowLock<T>(
  prisma: PrismaClient,
  orchestratedFlowId: string,
  work: (tx: Prisma.TransactionClient) => Promise<T>,
): Promise<T> {
  return database(() =>
    prisma.$transaction(
      async (tx) => {
        await lockFlowSchedule(tx, orchestratedFlowId);
        return work(tx);
      },
      { timeout: 30_000, maxWait: 10_000 },
    ),
  );
}

/** Runs one schedule's step; a refusal is reported and logged, an outage (503) ends the pass. */
async function guarded<T>(
  report: ReconcileReport,
  scheduleId: string,
  logger: Logger,
  work: () => Promise<T>,
): Promise<T | undefined> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof ServiceUnavailableError) throw error;
    const message =
      error instanceof ApiError && error.details
        ? `${error.message}: ${error.details.map((detail) => detail.message).join('; ')}`
        : error instanceof Error
          ? error.message
          : String(error);
    report.failed.push({ scheduleId, error: message });
    logger.error({ err: error, scheduleId }, 'reconciler could not fix a schedule');
    return undefined;
  }
}

async function database<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw translateDatabaseError(error) ?? error;
  }
}
