/**
 * The fault schedule of the production-shape test: at fixed offsets from the start of the load, one target at a time
 * goes down (SIGKILL, or a fast shutdown for Postgres, which cuts every connection) and comes back after a fixed
 * pause. Each kill, restart and return is logged with its time. One fault at a time: a fault whose offset comes
 * while the previous target is still coming back waits for it.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export type FaultTarget = 'processor-1' | 'history' | 'matching' | 'orchestrator' | 'postgres' | 'api';

export interface Fault {
  /** Seconds after the load starts. */
  atS: number;
  target: FaultTarget;
  /** Seconds between the kill and the restart. */
  downS: number;
}

/**
 * One processor replica, the history and matching services, the orchestrator, Postgres — and the API last, so the
 * schedule reconciler runs again at its restart after everything else has been through a fault.
 */
export const FAULT_SCHEDULE: readonly Fault[] = [
  { atS: 12, target: 'processor-1', downS: 5 },
  { atS: 27, target: 'history', downS: 5 },
  { atS: 45, target: 'matching', downS: 5 },
  { atS: 63, target: 'orchestrator', downS: 5 },
  { atS: 80, target: 'postgres', downS: 8 },
  { atS: 100, target: 'api', downS: 3 },
];

export interface FaultActions {
  /** Takes the target down; answers how (e.g. `SIGKILL pid 123`). */
  kill(target: FaultTarget): Promise<string>;
  /** Starts it again; answers e.g. the new pid. */
  start(target: FaultTarget): Promise<string>;
  /** Resolves once it answers again. */
  ready(target: FaultTarget): Promise<void>;
}

export interface FaultEvent {
  target: FaultTarget;
  how: string;
  downAt: Date;
  restartedAt?: Date;
  /** When it answered again; undefined when it did not within the wait. */
  readyAt?: Date;
  error?: string;
}

/** Runs the schedule from `t0`; resolves with what happened once the last target is back (or gave up). */
export async function runFaultSchedule(
  schedule: readonly Fault[],
  t0: number,
  actions: FaultActions,
  log: (msg: string) => void,
  signal: AbortSignal,
): Promise<FaultEvent[]> {
  const events: FaultEvent[] = [];
  for (const fault of schedule) {
    const wait = t0 + fault.atS * 1000 - Date.now();
    if (wait > 0) await sleep(wait, undefined, { signal });
    const event: FaultEvent = { target: fault.target, how: '', downAt: new Date() };
    events.push(event);
    try {
      event.how = await actions.kill(fault.target);
      log(`FAULT ${fault.target} down: ${event.how}`);
      await sleep(fault.downS * 1000, undefined, { signal });
      const started = await actions.start(fault.target);
      event.restartedAt = new Date();
      log(`FAULT ${fault.target} restarted (${started}) after ${fault.downS} s down`);
      await actions.ready(fault.target);
      event.readyAt = new Date();
      log(
        `FAULT ${fault.target} answers again, ${((event.readyAt.getTime() - event.downAt.getTime()) / 1000).toFixed(1)} s after going down`,
      );
    } catch (error) {
      if (signal.aborted) throw error;
      event.error = error instanceof Error ? error.message : String(error);
      log(`FAULT ${fault.target}: ${event.error}`);
    }
  }
  return events;
}
