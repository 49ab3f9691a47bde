import type { Connection } from '@temporalio/client';
import { Router } from 'express';
import type { PrismaClient } from '../../prisma/client';

export interface HealthDeps {
  prisma: PrismaClient;
  temporal: Connection;
  /** How long a dependency may take to answer before it counts as down. */
  timeoutMs?: number;
}

interface CheckResult {
  status: 'Healthy' | 'Unhealthy';
  durationMs: number;
  error?: string;
}

async function timed(probe: () => Promise<unknown>, timeoutMs: number): Promise<CheckResult> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { status: 'Healthy', durationMs: Math.round(performance.now() - started) };
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
    return { status: 'Unhealthy', durationMs: Math.round(performance.now() - started), error: message };
  } finally {
    clearTimeout(timer);
  }
}

/** `GET /health`: 200 when Postgres and Temporal both answer, 503 naming the failing check otherwise. */
export function healthRouter({ prisma, temporal, timeoutMs = 2_000 }: HealthDeps): Router {
  const router = Router();
  router.get('/health', async (_req, res) => {
    const [postgres, temporalCheck] = await Promise.all([
      timed(() => prisma.$queryRaw`SELECT 1`, timeoutMs),
      timed(
        () => temporal.withDeadline(Date.now() + timeoutMs, () => temporal.workflowService.getSystemInfo({})),
        timeoutMs,
      ),
    ]);
    const healthy = postgres.status === 'Healthy' && temporalCheck.status === 'Healthy';
    res.status(healthy ? 200 : 503).json({
      status: healthy ? 'Healthy' : 'Unhealthy',
      checks: { postgres, temporal: temporalCheck },
    });
  });
  return router;
}
