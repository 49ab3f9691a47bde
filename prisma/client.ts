import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/client';

export type { PrismaClient } from './generated/client';
export { Prisma } from './generated/client';

export interface PrismaClientOptions {
  /** Pool size per process (node-postgres `max`). */
  poolSize?: number;
  /** How long to wait for a connection before failing (so a down database answers 503 quickly). */
  connectionTimeoutMs?: number;
}

/** Creates a Prisma client on the node-postgres driver adapter (no native query engine). */
export function createPrismaClient(databaseUrl: string, options: PrismaClientOptions = {}): PrismaClient {
  const adapter = new PrismaPg({
    connectionString: databaseUrl,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 5_000,
  });
  return new PrismaClient({ adapter });
}
