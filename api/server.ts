import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createApp, type AppDeps } from './app';

export interface RunningApi {
  url: string;
  port: number;
  server: Server;
  /** Stops accepting connections and waits for in-flight requests. */
  close(): Promise<void>;
}

/** Starts the API on `port` (0 picks a free one) and resolves once it listens. */
export async function startApi(deps: AppDeps & { port: number; host?: string }): Promise<RunningApi> {
  const app = createApp(deps);
  const host = deps.host ?? '127.0.0.1';
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(deps.port, host, () => resolve(s));
    s.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    server,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
