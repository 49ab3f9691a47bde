/** `npm run migrate`: applies pending migrations to DATABASE_URL (the compose `migrate` service runs this). */
import { loadConfig } from '../infra/config';
import { migrateIfPending } from '../infra/migrate';

async function main(): Promise<void> {
  const { DATABASE_URL } = loadConfig();
  if (!DATABASE_URL) throw new Error('DATABASE_URL must be set');
  const applied = await migrateIfPending(DATABASE_URL, (line) => console.log(line));
  console.log(applied.length > 0 ? `applied ${applied.join(', ')}` : 'no pending migrations');
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
