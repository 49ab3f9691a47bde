import { AsyncLocalStorage } from 'node:async_hooks';
import { PrismaPg } from '@prisma/adapter-pg';
import { Pool, type PoolClient } from 'pg';
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

/** The connection of one {@link transaction}: set when Prisma's driver adapter checks it out for the BEGIN. */
interface TransactionSlot {
  client?: PoolClient;
  /** The connection went back to the pool (commit, rollback or Prisma's timeout): the transaction is over. */
  released: boolean;
}

const transactionSlots = new AsyncLocalStorage<TransactionSlot>();
const transactionConnections = new WeakMap<object, TransactionSlot>();

/**
 * A pool that hands a {@link transaction} the connection Prisma's driver adapter checks out for it. The adapter's
 * `startTransaction` is its only promise-style `connect()` (its queries use `pool.query`), and it runs in the
 * transaction's async context; the checkout's `release` marks the transaction over.
 */
class TransactionPool extends Pool {
  override connect(): Promise<PoolClient>;
  override connect(
    callback: (
      err: Error | undefined,
      client: PoolClient | undefined,
      done: (release?: unknown) => void,
    ) => void,
  ): void;
  override connect(
    callback?: (
      err: Error | undefined,
      client: PoolClient | undefined,
      done: (release?: unknown) => void,
    ) => void,
  ): Promise<PoolClient> | void {
    if (callback) return super.connect(callback);
    const slot = transactionSlots.getStore();
    if (!slot || slot.client || slot.released) return super.connect();
    return super.connect().then((client) => {
      // pg-pool gives every checkout its own `release`, so this wrapper ends with the checkout.
      const release = client.release.bind(client);
      slot.client = client;
      client.release = (error?: Error | boolean) => {
        slot.released = true;
        slot.client = undefined;
        release(error);
      };
      return client;
    });
  }
}

/** Creates a Prisma client on the node-postgres driver adapter (no native query engine). */
export function createPrismaClient(databaseUrl: string, options: PrismaClientOptions = {}): PrismaClient {
  const pool = new TransactionPool({
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
 * Prisma's interactive transaction (`$transaction(work)`), whose `tx` {@link queryPrepared} also reaches: on a client
 * made by {@link createPrismaClient}, its statements run as prepared statements on the transaction's own connection,
 * between Prisma's BEGIN and COMMIT, in order with the `tx`'s Prisma queries.
 */
export function transaction<T>(
  prisma: PrismaClient,
  work: (tx: Prisma.TransactionClient) => Promise<T>,
  options?: { timeout?: number; maxWait?: number },
): Promise<T> {
  const slot: TransactionSlot = { released: false };
  return transactionSlots.run(slot, () =>
    prisma.$transaction(async (tx) => {
      // No connection seen (a client made elsewhere): queryPrepared falls back to $queryRawUnsafe on the tx.
      if (slot.client) transactionConnections.set(tx, slot);
      return work(tx);
    }, options),
  );
}

/** The SQL each prepared statement's name stands for, in this process. */
const statementTexts = new Map<string, string>();

/**
 * @throws Error when `name` already stands for other SQL: node-postgres prepares a name once per connection and refuses
 * it with other text, so two statements sharing a name would fail only on a connection that happened to serve both.
 * Checked on every call, so the clash fails the first time both run in one process, whichever connections serve them.
 */
function assertOneText(name: string, text: string): void {
  const known = statementTexts.get(name);
  if (known === undefined) statementTexts.set(name, text);
  else if (known !== text) throw new Error(`Prepared statement "${name}" already stands for other SQL`);
}

/**
 * Runs one of the API's fixed SQL statements, prepared once per connection under `name`, which skips Prisma's
 * per-call query compilation (see api/crud-reads.ts): on a client made by {@link createPrismaClient}, on the
 * node-postgres pool under Prisma's driver adapter (the connections Prisma itself uses); in a {@link transaction},
 * on its connection. On a client made elsewhere, or a transaction not begun by {@link transaction}, through
 * `$queryRawUnsafe`. Values are parameters; only constants go into `text`.
 *
 * @throws Error when the transaction is already over (as Prisma's own queries on a closed `tx` throw).
 */
export async function queryPrepared<T>(
  db: PrismaClient | Prisma.TransactionClient,
  name: string,
  text: string,
  values: readonly unknown[],
): Promise<T[]> {
  assertOneText(name, text);
  const slot = transactionConnections.get(db);
  if (slot) {
    if (!slot.client) throw new Error('The transaction is over: the statement was not run');
    return (await slot.client.query({ name, text, values: [...values] })).rows as T[];
  }
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
