/** Entry point of the orchestrator worker: `tsx workers/orchestrator.ts` (or `node dist/workers/orchestrator.js`). */
import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { loadConfig } from '../infra/config';
import { createLogger } from '../infra/logger';
import { ensureSearchAttributes } from '../infra/search-attributes';
import { createPrismaClient } from '../prisma/client';
import { createOrchestratorWorker } from './orchestrator-worker';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config, 'orchestrator');
  if (!config.DATABASE_URL || !config.TEMPORAL_ADDRESS)
    throw new Error('DATABASE_URL and TEMPORAL_ADDRESS must be set');
  const prisma = createPrismaClient(config.DATABASE_URL);
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  const client = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
  await ensureSearchAttributes(client, config.TEMPORAL_NAMESPACE)
    .then((added) => added.length > 0 && logger.info({ added }, 'registered search attributes'))
    .catch((error: unknown) => logger.warn({ err: error }, 'could not register search attributes'))
    .finally(() => client.close());
  try {
    const worker = await createOrchestratorWorker({
      connection,
      namespace: config.TEMPORAL_NAMESPACE,
      prisma,
      logger,
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
