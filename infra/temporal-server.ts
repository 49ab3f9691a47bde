/**
 * The production Temporal server (not the dev server): builds `temporal-server` and `temporal-sql-tool` with
 * `go install` (kept in `.tools/bin`, like the CLI), creates the server's two Postgres databases and their schemas
 * with the SQL tool, and says how to start one of its services from the committed configuration
 * (`cluster/temporal/production.yaml`, also mounted by docker-compose.yml).
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from './config';
import { findGo } from './temporal-cli';

const execFileAsync = promisify(execFile);

/** The server version built here and run by docker-compose.yml (the temporalio/server and admin-tools tags). */
export const TEMPORAL_SERVER_VERSION = '1.29.1';
const MODULE = 'go.temporal.io/server';
const INSTALL_TIMEOUT_MS = 30 * 60_000;

/** Each binary: its name in `.tools/bin` (as in Temporal's images) and the package `go install` builds. */
const BINARIES = {
  server: { name: 'temporal-server', pkg: `${MODULE}/cmd/server`, built: 'server' },
  sqlTool: { name: 'temporal-sql-tool', pkg: `${MODULE}/cmd/tools/sql`, built: 'sql' },
} as const;

/** The four services of a Temporal cluster, each its own process in the production shape. */
export const TEMPORAL_SERVICES = ['frontend', 'history', 'matching', 'worker'] as const;
export type TemporalService = (typeof TEMPORAL_SERVICES)[number];

/** The folder of the committed server configuration and its environment name (`<env>.yaml` in that folder). */
export const TEMPORAL_CONFIG_DIR = path.join(PROJECT_ROOT, 'cluster', 'temporal');
export const TEMPORAL_CONFIG_ENV = 'production';

/** The embedded schemas of the SQL tool (`--schema-name`), per database. */
export const TEMPORAL_DATABASES = [
  { database: 'temporal', schema: 'postgresql/v12/temporal' },
  { database: 'temporal_visibility', schema: 'postgresql/v12/visibility' },
] as const;

export interface TemporalServerBinaries {
  /** `temporal-server` */
  server: string;
  /** `temporal-sql-tool` */
  sqlTool: string;
}

/** Raised when the binaries are missing and cannot be built; the message says why and how to build them. */
export class TemporalServerInstallError extends Error {
  override name = 'TemporalServerInstallError';
}

/**
 * Returns `temporal-server` and `temporal-sql-tool` of {@link TEMPORAL_SERVER_VERSION} from `toolsDir` (default
 * `<project>/.tools/bin`), building whichever is missing or of another version with one `go install` into a private
 * temporary GOBIN, then renaming into place (so concurrent callers never see half a binary). The first build takes
 * minutes (a 128 MB server); later calls return at once.
 *
 * @throws TemporalServerInstallError when Go is missing or the build fails (names the Go error and the command).
 */
export async function findOrInstallTemporalServer(
  options: { toolsDir?: string; log?: (msg: string) => void } = {},
): Promise<TemporalServerBinaries> {
  const toolsDir = path.resolve(options.toolsDir ?? path.join(PROJECT_ROOT, '.tools', 'bin'));
  const log = options.log ?? (() => {});
  const paths = {
    server: path.join(toolsDir, BINARIES.server.name),
    sqlTool: path.join(toolsDir, BINARIES.sqlTool.name),
  };
  const missing = [];
  for (const key of ['server', 'sqlTool'] as const)
    if (!(await answersVersion(paths[key]))) missing.push(BINARIES[key]);
  if (missing.length === 0) return paths;

  const go = await findGo();
  const specs = missing.map((binary) => `${binary.pkg}@v${TEMPORAL_SERVER_VERSION}`);
  const hint = `Build them yourself: GOBIN=${toolsDir} go install ${specs.join(' ')} (then rename server → temporal-server, sql → temporal-sql-tool).`;
  if (go === undefined)
    throw new TemporalServerInstallError(`Go is not installed (https://go.dev/dl). ${hint}`);

  await fs.mkdir(toolsDir, { recursive: true });
  const tempBin = path.join(toolsDir, `.temporal-server-install-${process.pid}-${randomUUID()}`);
  await fs.mkdir(tempBin);
  log(
    `Building ${missing.map((b) => b.name).join(' and ')} ${TEMPORAL_SERVER_VERSION} with go install (minutes the first time)…`,
  );
  const started = Date.now();
  try {
    // One command: both packages share the module, so the second costs little over the first.
    await execFileAsync('env', [`GOBIN=${tempBin}`, go, 'install', ...specs], {
      timeout: INSTALL_TIMEOUT_MS,
      maxBuffer: 16 * 1024 * 1024,
    });
    for (const binary of missing)
      await fs.rename(path.join(tempBin, binary.built), path.join(toolsDir, binary.name));
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    const detail = stderr.trim().split('\n').slice(-15).join('\n') || (error as Error).message;
    throw new TemporalServerInstallError(`go install ${specs.join(' ')} failed:\n${detail}\n${hint}`);
  } finally {
    await fs.rm(tempBin, { recursive: true, force: true });
  }
  log(`Built them into ${toolsDir} in ${Math.round((Date.now() - started) / 1000)} s.`);
  for (const key of ['server', 'sqlTool'] as const)
    if (!(await answersVersion(paths[key])))
      throw new TemporalServerInstallError(`go install finished but ${paths[key]} --version fails. ${hint}`);
  return paths;
}

/** True when `<bin> --version` names {@link TEMPORAL_SERVER_VERSION}. */
async function answersVersion(bin: string): Promise<boolean> {
  try {
    const { stdout } = await execFileAsync(bin, ['--version'], { timeout: 15_000 });
    return stdout.trim().endsWith(`version ${TEMPORAL_SERVER_VERSION}`);
  } catch {
    return false;
  }
}

export interface TemporalDatabaseTarget {
  host: string;
  port: number;
  user: string;
  password: string;
}

/**
 * Creates the `temporal` and `temporal_visibility` databases and brings their schemas to the newest version the
 * tool embeds (`create-database`, `setup-schema -v 0.0`, `update-schema --schema-name …`) — what docker-compose.yml's
 * `temporal-schema` job does. For an empty Postgres server; the credentials travel in the tool's environment, never
 * on its command line.
 *
 * @throws Error naming the step and the tool's output when a step fails.
 */
export async function setupTemporalDatabases(
  sqlTool: string,
  target: TemporalDatabaseTarget,
  log: (msg: string) => void = () => {},
): Promise<void> {
  const env = {
    PATH: '/usr/bin:/bin',
    SQL_PLUGIN: 'postgres12',
    SQL_HOST: target.host,
    SQL_PORT: String(target.port),
    SQL_USER: target.user,
    SQL_PASSWORD: target.password,
  };
  for (const { database, schema } of TEMPORAL_DATABASES) {
    for (const args of [
      ['create-database'],
      ['setup-schema', '-v', '0.0'],
      ['update-schema', '--schema-name', schema],
    ]) {
      try {
        await execFileAsync(sqlTool, ['--db', database, ...args], {
          env: { ...env, SQL_DATABASE: database },
          timeout: 120_000,
          maxBuffer: 16 * 1024 * 1024,
        });
      } catch (error) {
        const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
        throw new Error(
          `temporal-sql-tool --db ${database} ${args.join(' ')} failed:\n${`${stdout}\n${stderr}`.trim().slice(-3000)}`,
          { cause: error },
        );
      }
    }
    log(`database ${database}: schema ${schema} up to date`);
  }
}

/** The listening ports of one service (its gRPC API and its membership gossip). */
export interface TemporalServicePorts {
  grpc: number;
  membership: number;
}

/** Every port of a cluster; the frontend also serves Temporal's HTTP API. */
export type TemporalClusterPorts = Record<TemporalService, TemporalServicePorts> & { frontendHttp: number };

/** The ports the configuration defaults to (and docker-compose.yml uses): Temporal's own defaults. */
export const DEFAULT_TEMPORAL_PORTS: TemporalClusterPorts = {
  frontend: { grpc: 7233, membership: 6933 },
  history: { grpc: 7234, membership: 6934 },
  matching: { grpc: 7235, membership: 6935 },
  worker: { grpc: 7239, membership: 6939 },
  frontendHttp: 7243,
};

export interface TemporalClusterSettings {
  ports: TemporalClusterPorts;
  /** The address every service binds to and is reached at (one host: 127.0.0.1). */
  host: string;
  postgres: TemporalDatabaseTarget;
  /** Absolute path of the dynamic configuration file. */
  dynamicConfigFile: string;
  logLevel?: string;
}

/**
 * The environment the configuration template reads, for a cluster whose services all run on one host. The names
 * are the template's (`{{ env "…" }}` in cluster/temporal/production.yaml); docker-compose.yml sets the same ones.
 */
export function temporalServiceEnvironment(settings: TemporalClusterSettings): Record<string, string> {
  const { ports } = settings;
  return {
    LOG_LEVEL: settings.logLevel ?? 'info',
    POSTGRES_SEEDS: settings.postgres.host,
    DB_PORT: String(settings.postgres.port),
    POSTGRES_USER: settings.postgres.user,
    POSTGRES_PWD: settings.postgres.password,
    BIND_ON_IP: settings.host,
    PUBLIC_FRONTEND_ADDRESS: `${settings.host}:${ports.frontend.grpc}`,
    DYNAMIC_CONFIG_FILE_PATH: settings.dynamicConfigFile,
    FRONTEND_GRPC_PORT: String(ports.frontend.grpc),
    FRONTEND_HTTP_PORT: String(ports.frontendHttp),
    FRONTEND_MEMBERSHIP_PORT: String(ports.frontend.membership),
    HISTORY_GRPC_PORT: String(ports.history.grpc),
    HISTORY_MEMBERSHIP_PORT: String(ports.history.membership),
    MATCHING_GRPC_PORT: String(ports.matching.grpc),
    MATCHING_MEMBERSHIP_PORT: String(ports.matching.membership),
    WORKER_GRPC_PORT: String(ports.worker.grpc),
    WORKER_MEMBERSHIP_PORT: String(ports.worker.membership),
  };
}

/** The command line of one service: `temporal-server --root / --config <dir> --env production start --service=X`. */
export function temporalServiceArgs(service: TemporalService, configDir = TEMPORAL_CONFIG_DIR): string[] {
  // --config is joined to --root; from / an absolute folder stays itself.
  return [
    '--root',
    '/',
    '--config',
    configDir,
    '--env',
    TEMPORAL_CONFIG_ENV,
    '--allow-no-auth',
    'start',
    `--service=${service}`,
  ];
}
