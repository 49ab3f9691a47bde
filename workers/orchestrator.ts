/** Entry point of the orchestrator worker: `tsx workers/orchestrator.ts` (or `node dist/workers/orchestrator.js`). */
import { payloadCodecFromConfig } from '../infra/payload-keys';
import '../infra/instrument';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { loadConfig } from '../infra/config';
import { temporalProbe } from '../infra/health';
import { createLogger } from '../infra/logger';
import { WorkerMetrics } from '../infra/metrics';
import { telemetry } from '../infra/telemetry';
import { temporalConnectionOptions } from '../infra/temporal-connection';
import { ensureSearchAttributes } from '../infra/search-attributes';
import { createBlobRetention } from '../activities/data/blob-store';
import { createPrismaClient } from '../prisma/client';
import { dataPlaneFromConfig } from './data-plane';
import { startWorkerOpsServer } from './ops-server';
import { createOrchestratorWorker, workflowBundleFile } from './orchestrator-worker';
import { installWorkerRuntime } from './runtime';
import { workerRunningProbe } from './worker-probe';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config, 'orchestrator');
  const codec = payloadCodecFromConfig(config);
  if (!config.DATABASE_URL || !config.TEMPORAL_ADDRESS)
    throw new Error('DATABASE_URL and TEMPORAL_ADDRESS must be set');
  // The Temporal runtime drains the worker on SIGINT / SIGTERM; run() resolves once it has.
  const runtime = await installWorkerRuntime(logger);
  const prisma = createPrismaClient(config.DATABASE_URL);
  const temporal = temporalConnectionOptions(config.TEMPORAL_ADDRESS, config);
  const connection = await NativeConnection.connect(temporal);
  const client = await Connection.connect(temporal);
  await ensureSearchAttributes(client, config.TEMPORAL_NAMESPACE)
    .then((added) => added.length > 0 && logger.info({ added }, 'registered search attributes'))
    .catch((error: unknown) => logger.warn({ err: error }, 'could not register search attributes'))
    .finally(() => client.close());
  try {
    const metrics = new WorkerMetrics();
    // Compiled builds ship pre-bundled workflows, with and without the tracing interceptors (scripts/bundle-workflows.ts).
    const bundle = path.join(__dirname, '..', workflowBundleFile(telemetry().enabled));
    const worker = await createOrchestratorWorker({
      connection,
      namespace: config.TEMPORAL_NAMESPACE,
      prisma,
      logger,
      metrics,
      codec,
      retention: createBlobRetention(config.BLOB_STORE, prisma),
      data: dataPlaneFromConfig(config, prisma, codec),
      ...(existsSync(bundle) ? { workflowBundle: { codePath: bundle } } : {}),
    });
    const ops = await startWorkerOpsServer(config, {
      metrics,
      sdkMetricsUrl: runtime.sdkMetricsUrl,
      logger,
      probes: {
        worker: workerRunningProbe(worker),
        temporal: temporalProbe(connection),
        postgres: () => prisma.$queryRaw`SELECT 1`,
      },
    });
    try {
      await worker.run();
      logger.info('orchestrator worker drained');
    } finally {
      await ops.close();
    }
  } finally {
    await connection.close();
    await prisma.$disconnect();
    await telemetry().shutdown();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
