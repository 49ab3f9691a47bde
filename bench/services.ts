/**
 * Everything one benchmark run needs, brought up like `npm test` does (throwaway embedded Postgres and an in-memory,
 * headless Temporal dev server on free ports), plus the API, the orchestrator worker, the hand-written workflows'
 * worker and the `bench-noop` processor worker. `stop()` takes it all down in reverse order.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import pino from 'pino';
import { OrchestrationService } from '../api/orchestration/service';
import { startApi } from '../api/server';
import { lazyTemporalConnection } from '../api/temporal-connection';
import { migrateDeploy } from '../infra/migrate';
import { findFreePort } from '../infra/ports';
import { startEmbeddedPostgres } from '../infra/postgres';
import { findOrInstallTemporalCli } from '../infra/temporal-cli';
import { startTemporalDevServer } from '../infra/temporal-dev-server';
import { createPrismaClient } from '../prisma/client';
import { createOrchestratorWorker } from '../workers/orchestrator-worker';
import { startProcessorWorker } from '../workers/processor-worker';
import { HAND_WRITTEN_TASK_QUEUE } from './constants';
import { noopProcessor } from './noop-processor';

export interface BenchServices {
  /** Base URL of the in-process API (definitions are created through it). */
  apiUrl: string;
  /** Starts our runs exactly as `POST /api/Orchestration/start` does. */
  orchestration: OrchestrationService;
  client: Client;
  /** The Temporal dev server's process, for its RSS. */
  temporalPid: number;
  stop(): Promise<void>;
}

const STOP_TIMEOUT_MS = 15_000;

/**
 * Starts the services; on failure stops what already started and rethrows. `log` receives progress lines.
 *
 * @throws TemporalCliNotFoundError, TemporalDevServerError, MigrationError, or a worker's startup error.
 */
export async function startBenchServices(log: (line: string) => void): Promise<BenchServices> {
  const stops: Array<{ name: string; stop: () => Promise<unknown> }> = [];
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      for (const { name, stop: step } of stops.reverse())
        await withTimeout(step(), STOP_TIMEOUT_MS).catch((error: unknown) =>
          log(`could not stop ${name}: ${String(error)}`),
        );
    })());

  try {
    const cli = await findOrInstallTemporalCli({ log });
    const scratch = await mkdtemp(path.join(tmpdir(), 'flow-bench-'));
    // World-writable so the unprivileged postgres user (when we run as root) can own its data dir.
    await chmod(scratch, 0o777);
    stops.push({ name: 'scratch directory', stop: () => rm(scratch, { recursive: true, force: true }) });
    const [postgres, temporal] = await Promise.all([
      findFreePort().then((port) =>
        startEmbeddedPostgres({
          dataDir: path.join(scratch, 'pg'),
          port,
          database: 'flow_bench',
          persistent: false,
        }),
      ),
      startTemporalDevServer({ cliPath: cli, headless: true }),
    ]);
    stops.push({ name: 'Postgres', stop: () => postgres.stop() });
    stops.push({ name: 'Temporal dev server', stop: () => temporal.stop() });
    await migrateDeploy(postgres.url);
    log(`Postgres ${postgres.url}, Temporal ${temporal.address}`);

    const logger = pino({ level: 'silent' });
    const prisma = createPrismaClient(postgres.url);
    stops.push({ name: 'Prisma', stop: () => prisma.$disconnect() });
    const clientConnection = await Connection.connect({ address: temporal.address });
    stops.push({ name: 'client connection', stop: () => clientConnection.close() });
    const client = new Client({ connection: clientConnection, namespace: temporal.namespace });
    const apiConnection = lazyTemporalConnection(temporal.address);
    stops.push({ name: 'API connection', stop: () => apiConnection.close() });
    const api = await startApi({
      prisma,
      temporal: apiConnection,
      logger,
      port: 0,
      namespace: temporal.namespace,
    });
    stops.push({ name: 'API', stop: () => api.close() });

    const connection = await NativeConnection.connect({ address: temporal.address });
    stops.push({ name: 'worker connection', stop: () => connection.close() });
    const namespace = temporal.namespace;
    const runWorker = (name: string, worker: Worker) => {
      const running = worker.run();
      stops.push({
        name,
        stop: () => {
          if (worker.getState() === 'RUNNING') worker.shutdown();
          return running;
        },
      });
    };
    log('bundling workflows and starting workers');
    const [orchestrator, handWritten, processor] = await Promise.all([
      createOrchestratorWorker({ connection, namespace, prisma, logger }),
      Worker.create({
        connection,
        namespace,
        taskQueue: HAND_WRITTEN_TASK_QUEUE,
        workflowsPath: require.resolve('./workflows'),
      }),
      startProcessorWorker({
        definition: noopProcessor,
        connection,
        namespace,
        prisma,
        logger,
        shutdownGraceTimeMs: 1_000,
      }),
    ]);
    runWorker('orchestrator worker', orchestrator);
    runWorker('hand-written worker', handWritten);
    void processor.run();
    stops.push({ name: 'processor worker', stop: () => processor.shutdown() });

    return {
      apiUrl: api.url,
      orchestration: new OrchestrationService(prisma, client),
      client,
      temporalPid: temporal.pid,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
