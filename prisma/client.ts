import { PrismaPg } from '@prisma/adapter-pg';
import { Pool } from 'pg';
import { PrismaClient } from './generated/client';

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

/**
 * The node-postgres pool under a client made by {@link createPrismaClient}: the hottest reads and the audit inserts
 * run their fixed SQL on it as prepared statements (api/crud-reads.ts). Undefined for clients made elsewhere.
 */
export function poolOf(prisma: PrismaClient): Pool | undefined {
  return pools.get(prisma);
}

/** The connection figures of a client's pool (for metrics); undefined for clients made elsewhere. */
export function poolFigures(
  prisma: PrismaClient,
): { total: number; idle: number; waiting: number; max: number } | undefined {
  const pool = pools.get(prisma);
  if (!pool) return undefined;
  return { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max: pool.options.max };
}
