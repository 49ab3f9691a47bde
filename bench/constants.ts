/** Names the benchmark shares between its workflow sandbox and the runner. Pure: safe in workflows. */
import { processorTaskQueue } from '../domain/task-queue';

/** The trivial processor both sides call: activity type `bench-noop` on `processor/bench-noop/1.0.0`. */
export const NOOP = { name: 'bench-noop', version: '1.0.0' } as const;
export const NOOP_TASK_QUEUE = processorTaskQueue(NOOP.name, NOOP.version);

/** The hand-written workflows' own task queue (the interpreter keeps `flow-orchestrator`). */
export const HAND_WRITTEN_TASK_QUEUE = 'bench-hand-written';
