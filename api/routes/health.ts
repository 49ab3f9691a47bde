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

/** A one-line reason: the last non-empty line of the message (Prisma puts the cause there), else the code. */
function reason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const lines = error.message
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const last = lines[lines.length - 1];
  const quoted = last ? /Message: `(.+)`$/.exec(last)?.[1] : undefined;
  const code = (error as { code?: unknown }).code;
  return quoted ?? last ?? (typeof code === 'string' || typeof code === 'number' ? String(code) : error.name);
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
    return { status: 'Unhealthy', durationMs: Math.round(performance.now() - started), error: reason(error) };
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
      // The gRPC deadline ends the call (and its retries) before the outer timeout gives up on it, so no retry is
      // left pending after the answer.
      timed(
        () => temporal.withDeadline(Date.now() + timeoutMs, () => temporal.workflowService.getSystemInfo({})),
        timeoutMs + 500,
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
