import { PrismaPg } from '@prisma/adapter-pg';
import { Pool } from 'pg';
import { PrismaClient, type Prisma } from './generated/client';

export type { PrismaClient } from './generated/client';
export { Prisma } from './generated/client';

export interface PrismaClientOptions {
  /** Pool size per process (node-postgres `max`). */
  poolSize?: number;
  /** How long to wait for a connection before failing (so a down database answers 503 quickly). */
  connectionTimeoutMs?: number;
}

const pools = new WeakMap<PrismaClient, Pool>();

/** Creates a Prisma client on the node-postgres driver adapter (no native query engine). */
export function createPrismaClient(databaseUrl: string, options: PrismaClientOptions = {}): PrismaClient {
  const pool = new Pool({
    connectionString: databaseUrl,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 5_000,
  });
  // $disconnect() ends the pool, as it would end one the adapter made itself.
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
  pools.set(prisma, pool);
  return prisma;
}

/** The node-postgres pool under a client made by {@link createPrismaClient}; undefined for clients made elsewhere. */
export function poolOf(prisma: PrismaClient): Pool | undefined {
  return pools.get(prisma);
}

/**
 * Runs one of the API's fixed SQL statements: on a client made by {@link createPrismaClient}, as a statement prepared
 * once per connection under `name` on the node-postgres pool under Prisma's driver adapter (the connections Prisma
 * itself uses), which skips Prisma's per-call query compilation (see api/crud-reads.ts); in a transaction, or on a
 * client made elsewhere, through `$queryRawUnsafe`. Values are parameters; only constants go into `text`.
 */
export async function queryPrepared<T>(
  db: PrismaClient | Prisma.TransactionClient,
  name: string,
  text: string,
  values: readonly unknown[],
): Promise<T[]> {
  const pool = poolOf(db as PrismaClient);
  if (pool) return (await pool.query({ name, text, values: [...values] })).rows as T[];
  return db.$queryRawUnsafe<T[]>(text, ...values);
}

/** The connection figures of a client's pool (for metrics); undefined for clients made elsewhere. */
export function poolFigures(
  prisma: PrismaClient,
): { total: number; idle: number; waiting: number; max: number } | undefined {
  const pool = pools.get(prisma);
  if (!pool) return undefined;
  return { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max: pool.options.max };
}
