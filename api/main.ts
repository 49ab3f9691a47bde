import '../infra/instrument';
import { ORCHESTRATOR_TASK_QUEUE } from '../domain/task-queue';
import { ensureRetentionSchedule } from './schedules/retention';
import { dataPlaneFromConfig } from '../workers/data-plane';
import { payloadCodecFromConfig } from '../infra/payload-keys';
import { historyBudgetFromConfig, loadConfig } from '../infra/config';
import { createLogger } from '../infra/logger';
import { telemetry } from '../infra/telemetry';
import { temporalConnectionOptions } from '../infra/temporal-connection';
import { ensureSearchAttributes } from '../infra/search-attributes';
import { createPrismaClient } from '../prisma/client';
import { startScheduleReconciler } from './schedules/reconciler';
import { bootstrapAdminKey } from './auth/bootstrap';
import { AUTH_OFF_WARNING, securityFromConfig } from './security-config';
import { startApi } from './server';
import { lazyTemporalConnection } from './temporal-connection';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config, 'api');
  if (!config.DATABASE_URL || !config.TEMPORAL_ADDRESS)
    throw new Error(
      'DATABASE_URL and TEMPORAL_ADDRESS must be set (or run `npm run dev`, which provides both)',
    );
  if (config.AUTH_MODE === 'off') logger.warn(AUTH_OFF_WARNING);
  const codec = payloadCodecFromConfig(config);
  const prisma = createPrismaClient(config.DATABASE_URL);
  await bootstrapAdminKey(prisma, { adminKey: config.FLOW_ADMIN_API_KEY, logger });
  const temporal = lazyTemporalConnection(temporalConnectionOptions(config.TEMPORAL_ADDRESS, config));
  const api = await startApi({
    prisma,
    temporal,
    logger,
    namespace: config.TEMPORAL_NAMESPACE,
    port: config.PORT,
    host: config.HOST,
    bodyLimit: config.BODY_LIMIT,
    bundleBodyLimit: config.BUNDLE_BODY_LIMIT,
    historyBudget: historyBudgetFromConfig(config),
    security: securityFromConfig(config),
    codec,
    data: dataPlaneFromConfig(config, prisma, codec),
    ...(config.TLS_CERT_PATH && config.TLS_KEY_PATH
      ? { tls: { certPath: config.TLS_CERT_PATH, keyPath: config.TLS_KEY_PATH } }
      : {}),
  });
  logger.info({ url: api.url }, 'API listening');
  let reconciler: ReturnType<typeof startScheduleReconciler> | undefined;
  let stopping = false;
  void ensureSearchAttributes(temporal, config.TEMPORAL_NAMESPACE)
    .then(
      (added) => added.length > 0 && logger.info({ added }, 'registered search attributes'),
      (error: unknown) =>
        logger.warn({ err: error }, 'could not register search attributes; runs cannot be listed per flow'),
    )
    .then(() =>
      ensureRetentionSchedule({
        connection: temporal,
        namespace: config.TEMPORAL_NAMESPACE,
        codec,
        taskQueue: ORCHESTRATOR_TASK_QUEUE,
        retentionDays: config.DATA_RETENTION_DAYS,
      }).catch((error: unknown) =>
        logger.warn({ err: error }, 'could not ensure the flow-data-retention schedule; step data is kept'),
      ),
    )
    .then(() => {
      // Then make Temporal's flow schedules (which carry those attributes) match the database; retried in the
      // background while Temporal is down.
      if (!stopping)
        reconciler = startScheduleReconciler({
          prisma,
          connection: temporal,
          namespace: config.TEMPORAL_NAMESPACE,
          logger,
          codec,
        });
    });
  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    stopping = true;
    (reconciler?.stop() ?? Promise.resolve())
      .then(() => api.close())
      .then(() => Promise.all([prisma.$disconnect(), temporal.close(), telemetry().shutdown()]))
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
