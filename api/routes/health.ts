import type { Connection } from '@temporalio/client';
import { checkReadiness, READINESS_TIMEOUT_MS, temporalProbe } from '../../infra/health';
import { APPLIED_MIGRATIONS_SQL, localMigrations } from '../../infra/migrate';
import type { PrismaClient } from '../../prisma/client';
import type { RouteSpec } from './route';

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
 * migration is applied and Temporal answers; 503 naming each failing check otherwise. Both are public: probes
 * cannot send credentials, and neither answer holds anything but check names and reasons.
 */
export function healthRoutes({
  prisma,
  temporal,
  timeoutMs = READINESS_TIMEOUT_MS,
}: HealthDeps): RouteSpec[] {
  const tags = ['Operations'];
  return [
    {
      method: 'get',
      path: '/health',
      role: 'public',
      action: 'Health.live',
      doc: {
        tags,
        summary: 'Liveness: the API process answers',
        responses: { 200: { description: '`{ status: "Healthy" }`' } },
      },
      handler: (_req, res) => {
        res.json({ status: 'Healthy' });
      },
    },
    {
      method: 'get',
      path: '/health/ready',
      role: 'public',
      action: 'Health.ready',
      doc: {
        tags,
        summary: 'Readiness: Postgres answers, every migration is applied, Temporal answers',
        responses: {
          200: { description: '`{ status: "Healthy", checks: { postgres, migrations, temporal } }`' },
          503: { description: 'Each failing check names its reason' },
        },
      },
      handler: async (_req, res) => {
        const report = await checkReadiness(
          {
            postgres: () => prisma.$queryRaw`SELECT 1`,
            migrations: () => migrationsApplied(prisma),
            temporal: temporalProbe(temporal, timeoutMs - 250),
          },
          timeoutMs,
        );
        res.status(report.status === 'Healthy' ? 200 : 503).json(report);
      },
    },
  ];
}
