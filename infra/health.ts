/** Readiness checks shared by the API (`GET /health/ready`) and the workers' operations servers. */

export interface CheckResult {
  status: 'Healthy' | 'Unhealthy';
  durationMs: number;
  error?: string;
}

export interface ReadinessReport {
  status: 'Healthy' | 'Unhealthy';
  checks: Record<string, CheckResult>;
}

/** How long one readiness check may take before it counts as failed. */
export const READINESS_TIMEOUT_MS = 2_000;

/** A probe resolves when its dependency is usable and throws (with the reason) when not. */
export type Probe = () => Promise<unknown>;

/** A one-line reason: the last non-empty line of the message (Prisma puts the cause there), else the code. */
export function reason(error: unknown): string {
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

async function timed(probe: Probe, timeoutMs: number): Promise<CheckResult> {
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

/** Runs every probe at once, each bounded by `timeoutMs`; Healthy only when all are. */
export async function checkReadiness(
  probes: Record<string, Probe>,
  timeoutMs = READINESS_TIMEOUT_MS,
): Promise<ReadinessReport> {
  const names = Object.keys(probes);
  const results = await Promise.all(names.map((name) => timed(probes[name]!, timeoutMs)));
  const checks = Object.fromEntries(names.map((name, i) => [name, results[i]!]));
  return {
    status: results.every((result) => result.status === 'Healthy') ? 'Healthy' : 'Unhealthy',
    checks,
  };
}

/**
 * A probe of a Temporal connection. Its gRPC deadline (default: 250 ms inside the check's timeout) ends the call and
 * its retries before the check gives up on it, so no retry outlives the answer.
 */
export function temporalProbe(
  connection: {
    withDeadline<T>(deadline: number | Date, fn: () => Promise<T>): Promise<T>;
    workflowService: { getSystemInfo(request: object): Promise<unknown> };
  },
  timeoutMs = READINESS_TIMEOUT_MS - 250,
): Probe {
  return () =>
    connection.withDeadline(Date.now() + timeoutMs, () => connection.workflowService.getSystemInfo({}));
}
