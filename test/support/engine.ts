import { randomUUID } from 'node:crypto';
import type { EncryptionCodec } from '../../infra/payload-codec';
import type { HistoryBudget } from '../../domain/flow-types';
import { dataConverter } from '../../infra/payload-keys';
import { testCodec, testDataPlane } from './codec';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import pino, { type Logger } from 'pino';
import type { EgressGuard, ProcessorDefinition } from '../../activities/sdk';
import { loadTestConfig } from '../../infra/config';
import { createOrchestratorWorker } from '../../workers/orchestrator-worker';
import { startProcessorWorker, type ProcessorWorker } from '../../workers/processor-worker';
import { startTestApi, type TestApi } from './api';
import { installQuietRuntime } from './quiet-runtime';

// The REST helpers, for the test files that run an engine.
export * from './flows';

installQuietRuntime();

export interface TestEngineOptions {
  /** What the processors' `context.fetch` goes through (default: the guard's defaults, internal addresses refused). */
  egress?: EgressGuard;
  /** Another Temporal server than the test run's (e.g. one whose database file a test inspects). */
  temporalAddress?: string;
  /** The payload codec of the API, the workers and the client (default: the test run's). */
  codec?: EncryptionCodec;
  /** Where the API and the workers log (default: nowhere). */
  logger?: Logger;
  /** The Temporal namespace of the API, the workers and the client (default: the test run's). */
  namespace?: string;
  /** The history budget of the runs the API starts: small ones make long runs of short flows. */
  historyBudget?: HistoryBudget;
}

export interface TestEngine {
  api: TestApi;
  client: Client;
  taskQueue: string;
  processors: ProcessorWorker[];
  connection: NativeConnection;
  /** Shuts the orchestrator and processor workers down (the API stays up); idempotent. */
  stopWorkers(): Promise<void>;
  /**
   * Shuts the orchestrator worker down and starts a new one on the same task queue: open runs continue on it after
   * replaying their histories (a new worker has no cached workflow state).
   */
  restartOrchestrator(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The whole engine for a test file: the API over its own database, an orchestrator worker on a task queue of its
 * own, and a worker per given processor (give processors unique names: their task queues derive from them).
 */
export async function startTestEngine(
  processors: ProcessorDefinition[],
  options: TestEngineOptions = {},
): Promise<TestEngine> {
  const env = loadTestConfig();
  const taskQueue = `orchestrator-${randomUUID()}`;
  const address = options.temporalAddress ?? env.TEMPORAL_ADDRESS;
  const codec = options.codec ?? testCodec();
  const logger = options.logger ?? pino({ level: 'silent' });
  const namespace = options.namespace ?? env.TEMPORAL_NAMESPACE;
  const api = await startTestApi({
    orchestratorTaskQueue: taskQueue,
    temporalAddress: address,
    codec,
    logger,
    namespace,
    ...(options.historyBudget ? { historyBudget: options.historyBudget } : {}),
  });
  const connection = await NativeConnection.connect({ address });
  const clientConnection = await Connection.connect({ address });
  const newOrchestrator = () =>
    createOrchestratorWorker({
      connection,
      namespace,
      prisma: api.prisma,
      logger,
      taskQueue,
      codec,
      data: testDataPlane(api.prisma, codec),
    });
  let orchestrator = await newOrchestrator();
  let orchestratorRun = orchestrator.run();
  const workers = await Promise.all(
    processors.map((definition) =>
      startProcessorWorker({
        definition,
        connection,
        namespace,
        prisma: api.prisma,
        logger,
        ...(options.egress ? { egress: options.egress } : {}),
        codec,
        data: testDataPlane(api.prisma, codec),
      }),
    ),
  );
  const runs = workers.map((w) => w.run());
  let stopped: Promise<unknown> | undefined;
  const stopWorkers = async () => {
    stopped ??= (async () => {
      if (orchestrator.getState() === 'RUNNING') orchestrator.shutdown();
      await Promise.all([orchestratorRun, ...workers.map((w) => w.shutdown()), ...runs]);
    })();
    await stopped;
  };
  return {
    api,
    client: new Client({
      connection: clientConnection,
      namespace,
      dataConverter: dataConverter(codec),
    }),
    taskQueue,
    processors: workers,
    connection,
    stopWorkers,
    async restartOrchestrator() {
      orchestrator.shutdown();
      await orchestratorRun;
      orchestrator = await newOrchestrator();
      orchestratorRun = orchestrator.run();
    },
    async close() {
      await stopWorkers();
      await connection.close();
      await clientConnection.close();
      await api.close();
    },
  };
}
