/** Entry point of the orchestrator worker: `tsx workers/orchestrator.ts` (or `node dist/workers/orchestrator.js`). */
import { NativeConnection } from '@temporalio/worker';
import { loadConfig } from '../infra/config';
import { createLogger } from '../infra/logger';
import { createPrismaClient } from '../prisma/client';
import { createOrchestratorWorker } from './orchestrator-worker';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config, 'orchestrator');
  if (!config.DATABASE_URL || !config.TEMPORAL_ADDRESS)
    throw new Error('DATABASE_URL and TEMPORAL_ADDRESS must be set');
  const prisma = createPrismaClient(config.DATABASE_URL);
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
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
