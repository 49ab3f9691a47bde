import { DefaultLogger, type LogEntry, Runtime } from '@temporalio/worker';
import type { Logger } from 'pino';
import { findFreePort } from '../infra/ports';

export interface WorkerRuntime {
  /** Where the Temporal SDK's own worker metrics are served (loopback; the operations server republishes them). */
  sdkMetricsUrl: string;
}

const PINO_LEVELS = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const;

/**
 * Temporal's log entries (SDK, native core, workflow and activity loggers) as pino lines with their attributes. The
 * worker's own lifecycle chatter at INFO (bundler statistics, state changes) goes to debug: our lines say it; so does
 * the WARN an activity-only worker gets for registering no workflows.
 */
function toPino(logger: Logger) {
  return ({ level, message, meta }: LogEntry) => {
    // A processor worker hosts activities only: that it polls no workflow tasks is expected, not a warning.
    const chatter =
      (level === 'INFO' && meta?.sdkComponent === 'worker') ||
      (level === 'WARN' && message.startsWith('No workflows registered'));
    logger[chatter ? 'debug' : PINO_LEVELS[level]](meta ?? {}, message);
  };
}

/**
 * Installs the process's Temporal runtime, before any connection: its logs go to `logger` (workflow logs carry
 * workflowId and runId), native logs are forwarded at WARN, and the SDK's worker metrics (task slots, pollers,
 * latencies) are exported in Prometheus format on a free loopback port for the operations server to republish.
 *
 * @param shutdownSignals as `RuntimeOptions.shutdownSignals`; `npm run dev` passes none and stops workers itself.
 */
export async function installWorkerRuntime(
  logger: Logger,
  options: { shutdownSignals?: NodeJS.Signals[] } = {},
): Promise<WorkerRuntime> {
  const port = await findFreePort();
  const level = logger.isLevelEnabled('debug') ? 'DEBUG' : logger.isLevelEnabled('info') ? 'INFO' : 'WARN';
  Runtime.install({
    logger: new DefaultLogger(level, toPino(logger)),
    ...(options.shutdownSignals ? { shutdownSignals: options.shutdownSignals } : {}),
    telemetryOptions: {
      logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} },
      metrics: { prometheus: { bindAddress: `127.0.0.1:${port}`, useSecondsForDurations: true } },
    },
  });
  return { sdkMetricsUrl: `http://127.0.0.1:${port}/metrics` };
}
