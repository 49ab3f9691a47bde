import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Config } from '../infra/config';
import { checkReadiness, type Probe, READINESS_TIMEOUT_MS } from '../infra/health';
import type { WorkerMetrics } from '../infra/metrics';

export interface OpsServerOptions {
  port: number;
  host: string;
  metrics: WorkerMetrics;
  /** The Temporal SDK's metrics, appended to ours (see `installWorkerRuntime`). */
  sdkMetricsUrl?: string;
  /** What `/health/ready` checks; each throws with the reason when its dependency is not usable. */
  probes: Record<string, Probe>;
  logger: Logger;
  timeoutMs?: number;
}

export interface OpsServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * A worker process's operations server: `GET /metrics` (our worker metrics and the Temporal SDK's, Prometheus
 * text), `GET /health` (liveness: 200 while the process answers) and `GET /health/ready` (200 when every probe
 * passes, 503 naming the failing ones).
 */
export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const timeoutMs = options.timeoutMs ?? READINESS_TIMEOUT_MS;
  const sdkMetrics = async (): Promise<string> => {
    if (!options.sdkMetricsUrl) return '';
    try {
      const response = await fetch(options.sdkMetricsUrl, { signal: AbortSignal.timeout(timeoutMs) });
      return response.ok ? await response.text() : '';
    } catch (error) {
      options.logger.debug({ err: error }, 'Temporal SDK metrics unavailable');
      return '';
    }
  };
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (req.method !== 'GET') return json(405, { error: 'MethodNotAllowed', message: 'only GET is served' });
    if (path === '/health') return json(200, { status: 'Healthy' });
    if (path === '/health/ready') {
      void checkReadiness(options.probes, timeoutMs).then((report) =>
        json(report.status === 'Healthy' ? 200 : 503, report),
      );
      return;
    }
    if (path === '/metrics') {
      void Promise.all([options.metrics.registry.metrics(), sdkMetrics()]).then(
        ([ours, sdk]) => {
          res.writeHead(200, { 'content-type': options.metrics.registry.contentType });
          res.end(sdk ? `${ours}\n${sdk}` : ours);
        },
        (error: unknown) => {
          options.logger.error({ err: error }, 'metrics collection failed');
          json(500, { error: 'InternalError', message: 'metrics collection failed' });
        },
      );
      return;
    }
    json(404, { error: 'NotFound', message: `no route ${path}; try /metrics, /health or /health/ready` });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = options.host === '0.0.0.0' || options.host === '::' ? 'localhost' : options.host;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The operations server of a worker process, on METRICS_HOST:METRICS_PORT, announced in the log. */
export async function startWorkerOpsServer(
  config: Pick<Config, 'METRICS_PORT' | 'METRICS_HOST'>,
  options: Omit<OpsServerOptions, 'port' | 'host'>,
): Promise<OpsServer> {
  const ops = await startOpsServer({ port: config.METRICS_PORT, host: config.METRICS_HOST, ...options });
  options.logger.info({ url: ops.url }, 'metrics and health listening');
  return ops;
}
