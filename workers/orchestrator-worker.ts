import { type NativeConnection, Worker, type WorkflowBundleOption } from '@temporalio/worker';
import type { Logger } from 'pino';
import { createOrchestratorActivities } from '../activities/snapshot';
import { ORCHESTRATOR_TASK_QUEUE } from '../domain/task-queue';
import type { PrismaClient } from '../prisma/client';

export interface OrchestratorWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  prisma: PrismaClient;
  logger: Logger;
  /** Default `flow-orchestrator`; tests use a unique queue. */
  taskQueue?: string;
  /** A pre-built bundle (production); default: bundle `workflows/index.ts` at startup. */
  workflowBundle?: WorkflowBundleOption;
}

/**
 * Creates the orchestrator worker: the interpreter workflow and its own activities (the snapshot loader).
 * Run it with `worker.run()`; `worker.shutdown()` drains it.
 */
export async function createOrchestratorWorker(options: OrchestratorWorkerOptions): Promise<Worker> {
  const taskQueue = options.taskQueue ?? ORCHESTRATOR_TASK_QUEUE;
  const worker = await Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue,
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: require.resolve('../workflows/index') }),
    activities: createOrchestratorActivities({ prisma: options.prisma }),
  });
  options.logger.info({ taskQueue }, 'orchestrator worker created');
  return worker;
}
