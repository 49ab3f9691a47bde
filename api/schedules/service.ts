import { isDeepStrictEqual } from 'node:util';
import type { Client, ScheduleDescription } from '@temporalio/client';
import { ORCHESTRATOR_TASK_QUEUE } from '../../domain/task-queue';
import type { PrismaClient } from '../../prisma/client';
import { recordAudit, type AuditActor } from '../audit/audit';
import type { Db, WriteChange } from '../entities/definition';
import { NotFoundError } from '../errors';
import { translateDatabaseError } from '../prisma-errors';
import { desiredSchedule, scheduleIdOf, type DesiredSchedule, type ScheduledFlowFields } from './desired';
import { DEFAULT_TIME_ZONE, overlapPolicyOf, type OverlapPolicy } from './spec';
import { NoScheduleError, TemporalSchedules } from './temporal-schedules';

/** How many upcoming run times the schedule view shows. */
const NEXT_RUN_TIMES = 5;

/** A flow's schedule as `GET /api/OrchestratedFlow/{id}/schedule` shows it: what Temporal has. */
export interface ScheduleView {
  scheduleId: string;
  orchestratedFlowId: string;
  cronExpression: string;
  timezone: string;
  overlapPolicy: OverlapPolicy;
  catchupWindowMs: number;
  paused: boolean;
  note?: string;
  /** The next run times (ISO-8601, UTC), as Temporal computes them in the schedule's time zone. */
  nextRunTimes: string[];
  /** Temporal's most recent actions (scheduled, triggered or backfilled), newest first. */
  recentRuns: Array<{ runId: string; workflowId: string; scheduledAt: string; startedAt: string }>;
}

/**
 * Flow schedules for the API: keeps a flow's Temporal Schedule in step with its writes (the CRUD's `afterWrite`),
 * and reads, triggers, backfills, pauses and resumes it.
 *
 * A write and its schedule change succeed or fail together: the Temporal call runs inside the write's database
 * transaction, after the row is written and before the commit, so a Temporal failure (503 when unreachable) rolls
 * the write back and the database is unchanged. The one gap — Temporal changed but the commit then failed — is
 * closed by the reconciler at the next API start.
 */
export class ScheduleService {
  readonly temporal: TemporalSchedules;

  constructor(
    private readonly prisma: PrismaClient,
    client: Client,
    readonly taskQueue: string = ORCHESTRATOR_TASK_QUEUE,
  ) {
    this.temporal = new TemporalSchedules(client);
  }

  /** The schedule a flow should have on this API's task queue (undefined: none). */
  desired(flow: ScheduledFlowFields): DesiredSchedule | undefined {
    return desiredSchedule(flow, this.taskQueue);
  }

  /**
   * The CRUD hook: after a create, replace or delete of a flow (inside its transaction) makes Temporal match the
   * flow as written. A write that changes nothing the schedule depends on (e.g. only the description) does not call
   * Temporal, so it works while Temporal is down.
   *
   * @throws ServiceUnavailableError (503) and ValidationError (400) from Temporal: the write rolls back.
   */
  async syncWrite(db: Db, change: WriteChange<ScheduledFlowFields>): Promise<void> {
    const wanted = change.after && this.desired(change.after);
    const had = change.before && this.desired(change.before);
    if (isDeepStrictEqual(wanted, had)) return;
    await lockFlowSchedule(db, change.id);
    await this.temporal.apply(change.id, wanted);
  }

  /** @throws NotFoundError (404 unknown flow), NoScheduleError (404), 503. */
  async view(orchestratedFlowId: string): Promise<ScheduleView> {
    const flow = await this.flowWithSchedule(this.prisma, orchestratedFlowId);
    return scheduleView(flow, await this.temporal.describe(orchestratedFlowId));
  }

  /** Starts a run now, honouring the flow's overlap policy. @throws NotFoundError, NoScheduleError (404), 503. */
  async trigger(orchestratedFlowId: string) {
    const flow = await this.flowWithSchedule(this.prisma, orchestratedFlowId);
    await this.temporal.trigger(orchestratedFlowId, flow.overlapPolicy);
    return {
      message: 'Scheduled run triggered',
      orchestratedFlowId,
      scheduleId: scheduleIdOf(orchestratedFlowId),
      overlapPolicy: flow.overlapPolicy,
      triggeredAt: new Date().toISOString(),
    };
  }

  /**
   * Takes every action the schedule would have taken in [start, end], now, under the flow's overlap policy.
   * @throws NotFoundError, NoScheduleError (404), 503.
   */
  async backfill(orchestratedFlowId: string, start: Date, end: Date) {
    const flow = await this.flowWithSchedule(this.prisma, orchestratedFlowId);
    await this.temporal.backfill(orchestratedFlowId, start, end, flow.overlapPolicy);
    return {
      message: 'Backfill requested',
      orchestratedFlowId,
      scheduleId: scheduleIdOf(orchestratedFlowId),
      overlapPolicy: flow.overlapPolicy,
      start: start.toISOString(),
      end: end.toISOString(),
    };
  }

  /**
   * Pause (`enabled` false) or resume: writes `isScheduleEnabled` and pauses / unpauses the schedule in one
   * transaction, like any write of the flow. @throws NotFoundError, NoScheduleError (404), 503.
   */
  async setEnabled(
    orchestratedFlowId: string,
    enabled: boolean,
    actor: string,
    audit: AuditActor,
  ): Promise<ScheduleView> {
    try {
      await this.prisma.$transaction(
        async (tx) => {
          await tx.$queryRaw`SELECT id::text FROM "orchestrated_flow" WHERE id = ${orchestratedFlowId}::uuid FOR NO KEY UPDATE`;
          await this.flowWithSchedule(tx, orchestratedFlowId);
          await lockFlowSchedule(tx, orchestratedFlowId);
          const after = await tx.orchestratedFlow.update({
            where: { id: orchestratedFlowId },
            data: { isScheduleEnabled: enabled, updatedBy: actor },
          });
          // Always asks Temporal, so pausing also repairs a schedule unpaused behind our back.
          await this.temporal.apply(orchestratedFlowId, this.desired(after));
          await recordAudit(tx, audit, {
            action: enabled ? 'Schedule.resume' : 'Schedule.pause',
            entityType: 'OrchestratedFlow',
            entityId: orchestratedFlowId,
            outcome: 200,
            changedFields: ['isScheduleEnabled'],
          });
        },
        { timeout: 15_000, maxWait: 5_000 },
      );
    } catch (error) {
      throw translateDatabaseError(error) ?? error;
    }
    return this.view(orchestratedFlowId);
  }

  private async flowWithSchedule(db: Db, orchestratedFlowId: string) {
    let flow;
    try {
      flow = await db.orchestratedFlow.findUnique({ where: { id: orchestratedFlowId } });
    } catch (error) {
      throw translateDatabaseError(error) ?? error;
    }
    if (!flow) throw new NotFoundError('OrchestratedFlow', orchestratedFlowId);
    if (!flow.cronExpression) throw new NoScheduleError(orchestratedFlowId, 'it has no cronExpression');
    return { ...flow, cronExpression: flow.cronExpression };
  }
}

/**
 * Takes the lock on a flow's schedule until the transaction ends. Every transaction that changes a schedule holds it
 * from before its Temporal call until its commit (writes of the flow, pause / resume, the reconciler), so the
 * reconciler never sees a schedule whose flow is being written but not yet committed, and never undoes a write.
 */
export async function lockFlowSchedule(db: Db, orchestratedFlowId: string): Promise<void> {
  const key = scheduleIdOf(orchestratedFlowId);
  await db.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${key}, 0))`;
}

function scheduleView(
  flow: ScheduledFlowFields & { cronExpression: string },
  schedule: ScheduleDescription,
): ScheduleView {
  const comment = schedule.spec.calendars?.[0]?.comment;
  return {
    scheduleId: schedule.scheduleId,
    orchestratedFlowId: flow.id,
    cronExpression: comment || flow.cronExpression,
    timezone: schedule.spec.timezone || DEFAULT_TIME_ZONE,
    overlapPolicy: overlapPolicyOf(schedule.policies.overlap) ?? flow.overlapPolicy,
    catchupWindowMs: schedule.policies.catchupWindow,
    paused: schedule.state.paused,
    ...(schedule.state.note ? { note: schedule.state.note } : {}),
    nextRunTimes: schedule.info.nextActionTimes.slice(0, NEXT_RUN_TIMES).map((time) => time.toISOString()),
    recentRuns: schedule.info.recentActions
      .map((action) => ({
        runId: action.action.workflow.firstExecutionRunId,
        workflowId: action.action.workflow.workflowId,
        scheduledAt: action.scheduledAt.toISOString(),
        startedAt: action.takenAt.toISOString(),
      }))
      .reverse(),
  };
}
