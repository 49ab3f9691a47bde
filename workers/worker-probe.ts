import type { Worker } from '@temporalio/worker';
import type { Probe } from '../infra/health';

/** Ready while the worker polls; not once it is draining or stopped (or before it starts). */
export function workerRunningProbe(worker: Pick<Worker, 'getState'>): Probe {
  return () => {
    const state = worker.getState();
    return state === 'RUNNING' ? Promise.resolve() : Promise.reject(new Error(`worker is ${state}`));
  };
}
