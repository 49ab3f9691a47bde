import type { Connection } from '@temporalio/client';
import { Router } from 'express';
import { checkReadiness, READINESS_TIMEOUT_MS, temporalProbe } from '../../infra/health';
import { APPLIED_MIGRATIONS_SQL, localMigrations } from '../../infra/migrate';
import type { PrismaClient } from '../../prisma/client';

export interface HealthDeps {
  prisma: PrismaClient;
  temporal: Connection;
  /** How long a dependency may take to answer before it counts as down. */
  timeoutMs?: number;
}

/** Throws naming the migrations under prisma/migrations the database has not finished applying. */
async function migrationsApplied(prisma: PrismaClient): Promise<void> {
  const rows = await prisma.$queryRawUnsafe<Array<{ migration_name: string }>>(APPLIED_MIGRATIONS_SQL);
  const applied = new Set(rows.map((row) => row.migration_name));
  const pending = (await localMigrations()).filter((name) => !applied.has(name));
  if (pending.length > 0)
    throw new Error(
      `${pending.length} migration(s) not applied: ${pending.join(', ')} (run npm run migrate)`,
    );
}

/**
 * `GET /health`: liveness, 200 whenever the process answers. `GET /health/ready`: 200 when Postgres answers, every
 * migration is applied and Temporal answers; 503 naming each failing check otherwise.
 */
export function healthRouter({ prisma, temporal, timeoutMs = READINESS_TIMEOUT_MS }: HealthDeps): Router {
  const router = Router();
  router.get('/health', (_req, res) => {
    res.json({ status: 'Healthy' });
  });
  router.get('/health/ready', async (_req, res) => {
    const report = await checkReadiness(
      {
        postgres: () => prisma.$queryRaw`SELECT 1`,
        migrations: () => migrationsApplied(prisma),
        temporal: temporalProbe(temporal, timeoutMs - 250),
      },
      timeoutMs,
    );
    res.status(report.status === 'Healthy' ? 200 : 503).json(report);
  });
  return router;
}
