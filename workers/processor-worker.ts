import {
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import { type NativeConnection, Worker } from '@temporalio/worker';
import type { PayloadCodec } from '@temporalio/common';
import type { Logger } from 'pino';
import { ActivityInputCodec } from '../infra/payload-codec';
import { dataConverter } from '../infra/payload-keys';
import {
  computeImplementationHash,
  asStepActivity,
  createProcessorActivity,
  type EgressGuard,
  processorLabel,
  type DataPlane,
  type ProcessorDefinition,
} from '../activities/sdk';
import { processorTaskQueue } from '../domain/task-queue';
import type { WorkerMetrics } from '../infra/metrics';
import { processorServiceName } from '../infra/service-name';
import { telemetry } from '../infra/telemetry';
import type { PrismaClient } from '../prisma/client';
import { ensureProcessorRegistered, type RegisteredProcessor } from './processor-registration';
import { StepAttemptInterceptor } from './step-interceptor';

export interface ProcessorWorkerOptions {
  definition: ProcessorDefinition;
  connection: NativeConnection;
  namespace: string;
  /** Decrypts step invocations and encrypts step results (infra/payload-codec.ts). */
  codec: PayloadCodec;
  /** Resolves references in step data and stores large outputs (activities/sdk/data-refs.ts). */
  data: DataPlane;
  /** Used at startup only: registration and the stored schemas. */
  prisma: PrismaClient;
  logger: Logger;
  /** Accept and store a changed implementation hash instead of refusing to start. */
  reregister?: boolean;
  /** Default `processorTaskQueue(name, version)`; tests override it to stay isolated. */
  taskQueue?: string;
  /** How long a shutdown lets running steps finish before cancelling them (default 20 s). */
  shutdownGraceTimeMs?: number;
  /** Where step attempts are counted (`flow_step_duration_seconds`, `flow_step_attempts_total`). */
  metrics?: WorkerMetrics;
  /**
   * What the processor's `context.fetch` goes through (see `workers/egress.ts` for one built from the configuration).
   * Default: a guard refusing every internal destination.
   */
  egress?: EgressGuard;
}

export interface ProcessorWorker {
  worker: Worker;
  taskQueue: string;
  registration: RegisteredProcessor;
  /** Polls until shut down; resolves once drained. Calling it again returns the same promise. */
  run(): Promise<void>;
  /** Stops polling, lets running steps finish (up to the grace time) and resolves when the worker has stopped. */
  shutdown(): Promise<void>;
}

/**
 * Starts hosting one processor: checks its registration (see `ensureProcessorRegistered`), loads the stored
 * schemas, and creates a Temporal worker serving the activity named after the processor on its task queue. Call
 * `run()` to start polling. Several can share one process and one connection.
 *
 * @throws ImplementationHashMismatchError when the stored implementation hash differs (and `reregister` is unset).
 * @throws Error when a stored schema does not compile, or Postgres / Temporal cannot be reached.
 */
export async function startProcessorWorker(options: ProcessorWorkerOptions): Promise<ProcessorWorker> {
  const { definition } = options;
  const label = processorLabel(definition);
  const taskQueue = options.taskQueue ?? processorTaskQueue(definition.name, definition.version);
  const logger = options.logger.child({ processor: label, taskQueue });
  const implementationHash = await computeImplementationHash(definition);
  const registration = await ensureProcessorRegistered(options.prisma, definition, {
    implementationHash,
    reregister: options.reregister ?? false,
    logger,
  });
  let activity;
  try {
    // Its lines name the processor themselves (with the run, step and attempt).
    activity = createProcessorActivity(definition, {
      logger: options.logger.child({ taskQueue }),
      schemas: registration.schemas,
      egress: options.egress,
      data: options.data,
    });
  } catch (error) {
    throw new Error(`Processor ${label} cannot start: ${(error as Error).message}`, { cause: error });
  }
  const tracer = telemetry().tracer(processorServiceName(definition.name));
  const { maxActivitiesPerSecond, maxConcurrentActivities } = registration.limits;
  const worker = await Worker.create({
    dataConverter: dataConverter(new ActivityInputCodec(options.codec)),
    connection: options.connection,
    namespace: options.namespace,
    taskQueue,
    activities: { [definition.name]: asStepActivity(activity) },
    interceptors: {
      activity: [
        // Outermost: the attempt's span, continuing the run's trace from the activity's headers.
        (ctx) => ({
          inbound: new OpenTelemetryActivityInboundInterceptor(ctx, { tracer }),
          outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
        }),
        (ctx) => ({ inbound: new StepAttemptInterceptor(ctx, definition.name, options.metrics) }),
      ],
    },
    shutdownGraceTime: options.shutdownGraceTimeMs ?? 20_000,
    // Heartbeats are how a stop reaches a running step. Without a step heartbeat timeout the SDK would send them
    // only every 30 s; at most once a second keeps a stop prompt and the history small.
    defaultHeartbeatThrottleInterval: '1 second',
    maxHeartbeatThrottleInterval: '1 second',
    // The Processor entity's limits, read at start: the rate is the task queue's, enforced by the Temporal server
    // across every worker of the queue (each poll carries it); the concurrency is this worker's own.
    ...(maxActivitiesPerSecond !== null ? { maxTaskQueueActivitiesPerSecond: maxActivitiesPerSecond } : {}),
    ...(maxConcurrentActivities !== null
      ? { maxConcurrentActivityTaskExecutions: maxConcurrentActivities }
      : {}),
  });
  logger.info(
    { maxActivitiesPerSecond, maxConcurrentActivities },
    maxActivitiesPerSecond === null && maxConcurrentActivities === null
      ? 'processor limits: none set'
      : 'processor limits',
  );
  logger.info({ outcome: registration.outcome, implementationHash }, 'processor worker ready');

  let running: Promise<void> | undefined;
  const run = () => {
    running ??= worker.run().finally(() => logger.info('processor worker stopped'));
    return running;
  };
  return {
    worker,
    taskQueue,
    registration,
    run,
    async shutdown() {
      // A worker that never ran still holds its native resources: start it so it can be drained.
      const done = run();
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done;
    },
  };
}
