/** Entry point of the orchestrator worker: `tsx workers/orchestrator.ts` (or `node dist/workers/orchestrator.js`). */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { loadConfig } from '../infra/config';
import { createLogger } from '../infra/logger';
import { temporalConnectionOptions } from '../infra/temporal-connection';
import { ensureSearchAttributes } from '../infra/search-attributes';
import { createPrismaClient } from '../prisma/client';
import { createOrchestratorWorker } from './orchestrator-worker';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config, 'orchestrator');
  if (!config.DATABASE_URL || !config.TEMPORAL_ADDRESS)
    throw new Error('DATABASE_URL and TEMPORAL_ADDRESS must be set');
  const prisma = createPrismaClient(config.DATABASE_URL);
  const temporal = temporalConnectionOptions(config.TEMPORAL_ADDRESS, config);
  const connection = await NativeConnection.connect(temporal);
  const client = await Connection.connect(temporal);
  await ensureSearchAttributes(client, config.TEMPORAL_NAMESPACE)
    .then((added) => added.length > 0 && logger.info({ added }, 'registered search attributes'))
    .catch((error: unknown) => logger.warn({ err: error }, 'could not register search attributes'))
    .finally(() => client.close());
  try {
    // Compiled builds ship a pre-bundled workflow (dist/workflow-bundle.js, see scripts/bundle-workflows.ts).
    const bundle = path.join(__dirname, '..', 'workflow-bundle.js');
    const worker = await createOrchestratorWorker({
      connection,
      namespace: config.TEMPORAL_NAMESPACE,
      prisma,
      logger,
      ...(existsSync(bundle) ? { workflowBundle: { codePath: bundle } } : {}),
    });
    // The Temporal runtime drains the worker on SIGINT / SIGTERM; run() resolves once it has.
    await worker.run();
    logger.info('orchestrator worker drained');
  } finally {
    await connection.close();
    await prisma.$disconnect();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
