import { ScheduleNotFoundError, type Client, type ScheduleDescription } from '@temporalio/client';
import { ApiError, ValidationError } from '../errors';
import { callTemporal } from '../orchestration/temporal-errors';
import {
  createOptions,
  differences,
  flowIdOfSchedule,
  scheduleIdOf,
  updateOptions,
  type DesiredSchedule,
  type ScheduleAspect,
} from './desired';
import { TEMPORAL_OVERLAP, type OverlapPolicy } from './spec';

/** Listing every schedule of the namespace may take longer than one call. */
const LIST_TIMEOUT_MS = 30_000;

/** What {@link TemporalSchedules.apply} did to one schedule. */
export type ScheduleChange =
  | { scheduleId: string; change: 'created' | 'deleted' | 'unchanged' }
  | { scheduleId: string; change: 'updated'; aspects: ScheduleAspect[] };

/** 404 for a flow without a schedule, or whose schedule is missing in Temporal. */
export class NoScheduleError extends ApiError {
  constructor(orchestratedFlowId: string, why: string) {
    super(404, 'NoSchedule', `OrchestratedFlow ${orchestratedFlowId} has no schedule: ${why}`);
  }
}

/**
 * The Temporal side of flow schedules: make one match what its flow wants, read, trigger, backfill, list ours.
 * Every call has a deadline; an unreachable server is a 503 ServiceUnavailableError, a schedule Temporal refuses a
 * 400 naming the cron expression.
 */
export class TemporalSchedules {
  constructor(private readonly client: Client) {}

  /**
   * Makes the schedule of flow `orchestratedFlowId` what `wanted` says: created when missing, updated (spec,
   * policies, action and paused state in one call) when any aspect differs, deleted when `wanted` is undefined.
   *
   * @throws ServiceUnavailableError (503), ValidationError (400) when Temporal refuses the spec.
   */
  async apply(orchestratedFlowId: string, wanted: DesiredSchedule | undefined): Promise<ScheduleChange> {
    const scheduleId = scheduleIdOf(orchestratedFlowId);
    const handle = this.client.schedule.getHandle(scheduleId);
    return this.call(async () => {
      if (!wanted) {
        const deleted = await ifFound(() => handle.delete());
        return { scheduleId, change: deleted ? 'deleted' : 'unchanged' };
      }
      const actual = await ifFound(() => handle.describe());
      if (!actual) {
        await refusedSpec(() => this.client.schedule.create(createOptions(wanted)));
        return { scheduleId, change: 'created' };
      }
      const aspects = differences(wanted, actual.value);
      if (aspects.length === 0) return { scheduleId, change: 'unchanged' };
      await refusedSpec(() => handle.update(() => updateOptions(wanted)));
      return { scheduleId, change: 'updated', aspects };
    });
  }

  /** @throws NoScheduleError (404) when Temporal has no schedule for the flow; 503. */
  async describe(orchestratedFlowId: string): Promise<ScheduleDescription> {
    return this.existing(orchestratedFlowId, (handle) => handle.describe());
  }

  /** Starts a run now, under the given overlap policy. @throws NoScheduleError (404); 503. */
  async trigger(orchestratedFlowId: string, overlap: OverlapPolicy): Promise<void> {
    await this.existing(orchestratedFlowId, (handle) => handle.trigger(TEMPORAL_OVERLAP[overlap]));
  }

  /** Takes every action due in [start, end] now, under the overlap policy. @throws NoScheduleError (404); 503. */
  async backfill(orchestratedFlowId: string, start: Date, end: Date, overlap: OverlapPolicy): Promise<void> {
    await this.existing(orchestratedFlowId, (handle) =>
      handle.backfill({ start, end, overlap: TEMPORAL_OVERLAP[overlap] }),
    );
  }

  /**
   * IDs of the schedules carrying our prefix and a flow ID, from Temporal's visibility store (eventually
   * consistent: a schedule created a moment ago may be missing).
   */
  async ownedScheduleIds(): Promise<string[]> {
    return callTemporal(
      this.client.connection,
      async () => {
        const ids: string[] = [];
        for await (const schedule of this.client.schedule.list())
          if (flowIdOfSchedule(schedule.scheduleId)) ids.push(schedule.scheduleId);
        return ids;
      },
      LIST_TIMEOUT_MS,
    );
  }

  /** The task queue a schedule's action starts runs on, or undefined when the schedule no longer exists. */
  async actionTaskQueue(scheduleId: string): Promise<string | undefined> {
    return this.call(async () => {
      const description = await ifFound(() => this.client.schedule.getHandle(scheduleId).describe());
      return description?.value.action.taskQueue;
    });
  }

  /** Deletes a schedule by ID; false when it was already gone. */
  async deleteById(scheduleId: string): Promise<boolean> {
    return this.call(
      async () => !!(await ifFound(() => this.client.schedule.getHandle(scheduleId).delete())),
    );
  }

  private async existing<T>(
    orchestratedFlowId: string,
    work: (handle: ReturnType<Client['schedule']['getHandle']>) => Promise<T>,
  ): Promise<T> {
    const handle = this.client.schedule.getHandle(scheduleIdOf(orchestratedFlowId));
    const result = await this.call(() => ifFound(() => work(handle)));
    if (result === undefined)
      throw new NoScheduleError(
        orchestratedFlowId,
        'Temporal has none although the flow has a cron expression (the reconciler recreates it when the API starts)',
      );
    return result.value;
  }

  /** One operation under the API's Temporal deadline (TEMPORAL_CALL_TIMEOUT_MS). */
  private async call<T>(work: () => Promise<T>): Promise<T> {
    return callTemporal(this.client.connection, work);
  }
}

/** Runs a create or update; Temporal refusing the spec (the client throws a TypeError) becomes a 400. */
async function refusedSpec<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof TypeError) {
      // E.g. a time zone the Temporal server's tz database lacks, or a cron element it cannot parse.
      const field = /time ?zone|location/i.test(error.message) ? 'timezone' : 'cronExpression';
      throw new ValidationError('Temporal refused the schedule', [
        { field, rule: 'temporalSchedule', message: error.message },
      ]);
    }
    throw error;
  }
}

/** Runs `work`; a missing schedule yields undefined instead of an error. Results are boxed so void works. */
async function ifFound<T>(work: () => Promise<T>): Promise<{ value: T } | undefined> {
  try {
    return { value: await work() };
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) return undefined;
    throw error;
  }
}
