import { type ApiError, ConflictError, ServiceUnavailableError } from './errors';

const CONNECTION_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);
const NETWORK_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
  '57P01',
  '57P03',
]);

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  cause?: unknown;
  meta?: unknown;
}

function isDatabaseUnavailable(error: ErrorLike, depth = 0): boolean {
  if (depth > 5 || !error || typeof error !== 'object') return false;
  if (error.name === 'PrismaClientInitializationError') return true;
  if (typeof error.code === 'string' && (CONNECTION_CODES.has(error.code) || NETWORK_ERRNOS.has(error.code)))
    return true;
  const message = typeof error.message === 'string' ? error.message : '';
  if (
    /ECONNREFUSED|Connection terminated|connection timeout|timeout exceeded when trying to connect|Can't reach database server|DatabaseNotReachable|the database system is (starting up|shutting down)/i.test(
      message,
    )
  )
    return true;
  return isDatabaseUnavailable(error.cause as ErrorLike, depth + 1);
}

/** Prisma's codes and Postgres' own (SQLSTATE, from node-postgres: the prepared statements of crud-writes.ts). */
const UNIQUE_VIOLATIONS = new Set(['P2002', '23505']);
const FOREIGN_KEY_VIOLATIONS = new Set(['P2003', '23503']);

/**
 * Translates errors raised by Prisma / node-postgres into API errors: an unreachable database is 503, a unique
 * violation 409 DuplicateKey, a foreign-key violation 409 ReferentialIntegrity. Returns undefined for anything else.
 */
export function translateDatabaseError(error: unknown): ApiError | undefined {
  if (!error || typeof error !== 'object') return undefined;
  const e = error as ErrorLike;
  if (isDatabaseUnavailable(e))
    return new ServiceUnavailableError('Postgres', 'the database cannot be reached');
  if (typeof e.code === 'string' && UNIQUE_VIOLATIONS.has(e.code))
    return new ConflictError('DuplicateKey', 'An entity with the same composite key already exists', [
      {
        field: 'compositeKey',
        rule: 'unique',
        message: 'version and name (and connectionString) must be unique',
      },
    ]);
  if (typeof e.code === 'string' && FOREIGN_KEY_VIOLATIONS.has(e.code))
    return new ConflictError('ReferentialIntegrity', 'The change would leave a dangling reference', [
      {
        field: 'id',
        rule: 'referentialIntegrity',
        message: 'a referenced entity is missing or the entity is still referenced',
      },
    ]);
  return undefined;
}
