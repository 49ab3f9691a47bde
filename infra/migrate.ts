import { spawn } from 'node:child_process';
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
