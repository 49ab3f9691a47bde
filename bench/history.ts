/** Reading a run's history: event types, counts, and where the time went (server clock). */
import type { WorkflowHandle } from '@temporalio/client';
import { NOOP } from './constants';

export interface HistoryFacts {
  /** Event types in order, e.g. `WorkflowExecutionStarted`, `WorkflowTaskScheduled`, … */
  types: string[];
  /** Started → closed, by the server's event times. */
  serverMs: number;
  /** Started → the first `bench-noop` activity scheduled: what happens before the first step. */
  firstStepMs: number;
  /** Per workflow or activity task: scheduled → started, i.e. how long the task waited for a worker's poll. */
  dispatchMs: number[];
}

type Event = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];

function typeOf(event: Event): string {
  const attributes = event.attributes ?? 'unknownEventAttributes';
  const name = attributes.replace(/EventAttributes$/, '');
  return name.charAt(0).toUpperCase() + name.slice(1);
}

function timeOf(event: Event | undefined): number {
  const time = event?.eventTime;
  if (!time) return NaN;
  return Number(String(time.seconds ?? 0)) * 1000 + (time.nanos ?? 0) / 1e6;
}

/** Fetches and reads one run's history. */
export async function historyFacts(handle: WorkflowHandle): Promise<HistoryFacts> {
  const events = (await handle.fetchHistory()).events ?? [];
  const started = timeOf(events[0]);
  const firstStep = events.find(
    (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === NOOP.name,
  );
  const timeById = new Map(events.map((e) => [String(e.eventId), timeOf(e)]));
  const dispatchMs = events.flatMap((e) => {
    const scheduled =
      e.workflowTaskStartedEventAttributes?.scheduledEventId ??
      e.activityTaskStartedEventAttributes?.scheduledEventId;
    return scheduled == null ? [] : [timeOf(e) - (timeById.get(String(scheduled)) ?? NaN)];
  });
  return {
    types: events.map(typeOf),
    dispatchMs,
    serverMs: timeOf(events.at(-1)) - started,
    firstStepMs: timeOf(firstStep) - started,
  };
}

/** How many events of each type, in order of first appearance. */
export function countByType(types: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const type of types) counts.set(type, (counts.get(type) ?? 0) + 1);
  return counts;
}

/** Per event type: ours, hand-written and the difference, for every type either side has. */
export function eventDiff(ours: string[], handWritten: string[]) {
  const a = countByType(ours);
  const b = countByType(handWritten);
  return [...new Set([...a.keys(), ...b.keys()])].map((type) => ({
    type,
    ours: a.get(type) ?? 0,
    handWritten: b.get(type) ?? 0,
    delta: (a.get(type) ?? 0) - (b.get(type) ?? 0),
  }));
}
