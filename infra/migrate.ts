import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { Client } from 'pg';
import { PROJECT_ROOT } from './config';

/** Raised when `prisma migrate deploy` fails; carries its output. */
export class MigrationError extends Error {
  override name = 'MigrationError';
}

/**
 * Applies every pending migration under `prisma/migrations` to `databaseUrl` with `prisma migrate deploy`
 * (the offline JS schema engine, configured in prisma.config.ts). Idempotent.
 *
 * @throws MigrationError with Prisma's output when a migration fails.
 */
export async function migrateDeploy(databaseUrl: string, log?: (line: string) => void): Promise<void> {
  const cli = require.resolve('prisma/build/index.js', { paths: [PROJECT_ROOT] });
  const child = spawn(process.execPath, [cli, 'migrate', 'deploy'], {
    cwd: PROJECT_ROOT,
    // A minimal environment: the child needs only the database; nothing else of ours leaks into it.
    env: { DATABASE_URL: databaseUrl, PRISMA_HIDE_UPDATE_MESSAGE: '1', PATH: process.env.PATH ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    output += text;
    for (const line of text.split('\n')) if (line.trim()) log?.(line);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) throw new MigrationError(`prisma migrate deploy failed (exit ${code}):\n${output.trim()}`);
}

/** The migrations a database has finished applying (`migration_name` rows). */
export const APPLIED_MIGRATIONS_SQL =
  'SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL';

let localListing: Promise<string[]> | undefined;

/** The migration folders under `prisma/migrations`, in order (read once per process). */
export function localMigrations(): Promise<string[]> {
  localListing ??= readdir(path.join(PROJECT_ROOT, 'prisma', 'migrations'), { withFileTypes: true }).then(
    (entries) =>
      entries
        .filter((e) => e.isDirectory())
        .map((e) => e.name)
        .sort(),
  );
  return localListing;
}

/**
 * Names of migration folders under `prisma/migrations` not yet recorded as finished in `_prisma_migrations`
 * (all of them on an empty database). Lets startup skip the Prisma CLI (~10 s) when nothing is pending.
 */
export async function pendingMigrations(databaseUrl: string): Promise<string[]> {
  const local = await localMigrations();
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const table = await client.query<{ exists: boolean }>(
      `SELECT to_regclass('_prisma_migrations') IS NOT NULL AS exists`,
    );
    if (!table.rows[0]?.exists) return local;
    const applied = await client.query<{ migration_name: string }>(APPLIED_MIGRATIONS_SQL);
    const done = new Set(applied.rows.map((row) => row.migration_name));
    return local.filter((name) => !done.has(name));
  } finally {
    await client.end();
  }
}

/** Applies pending migrations, skipping the Prisma CLI when there are none. Returns the names applied. */
export async function migrateIfPending(databaseUrl: string, log?: (line: string) => void): Promise<string[]> {
  const pending = await pendingMigrations(databaseUrl);
  if (pending.length > 0) await migrateDeploy(databaseUrl, log);
  return pending;
}
