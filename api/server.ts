import { readFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createApi, type AppDeps } from './app';
import type { HotReads } from './hot-reads';

export interface RunningApi {
  url: string;
  port: number;
  server: Server;
  /** The fast path of `GET /api/{Entity}/{id}`; undefined when turned off. */
  hotReads?: HotReads;
  /** Stops accepting connections and waits for in-flight requests. */
  close(): Promise<void>;
}

export interface ApiServerOptions {
  port: number;
  host?: string;
  /** HTTPS with this certificate and key (PEM files: TLS_CERT_PATH / TLS_KEY_PATH); plain HTTP without. */
  tls?: { certPath: string; keyPath: string };
}

/** Starts the API on `port` (0 picks a free one), over HTTPS when `tls` is given, and resolves once it listens. */
export async function startApi(deps: AppDeps & ApiServerOptions): Promise<RunningApi> {
  const { listener, hotReads, serverOptions } = createApi(deps);
  const host = deps.host ?? '127.0.0.1';
  const server: Server = deps.tls
    ? createHttpsServer(
        {
          ...serverOptions,
          cert: await readFile(deps.tls.certPath),
          key: await readFile(deps.tls.keyPath),
        },
        listener,
      )
    : createHttpServer(serverOptions, listener);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(deps.port, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  return {
    url: `${deps.tls ? 'https' : 'http'}://${shownHost}:${port}`,
    port,
    server,
    ...(hotReads ? { hotReads } : {}),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
