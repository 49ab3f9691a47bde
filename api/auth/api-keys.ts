import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { PrismaClient } from '../../prisma/client';
import type { Db } from '../entities/definition';
import type { Principal } from './principal';
import type { Role } from './roles';

/** Every key we issue starts with this, so scanners (and people) can recognise a leaked one. */
export const API_KEY_PREFIX = 'flo_';
/** How long a looked-up key is trusted without asking the database: a revoke reaches every replica within this. */
export const API_KEY_CACHE_MS = 5_000;
/** `lastUsedAt` is written at most this often per key (not on every request). */
const LAST_USED_RESOLUTION_MS = 60_000;
/** Characters of a key shown for display and stored as its prefix. */
const DISPLAY_PREFIX_LENGTH = 12;

/** SHA-256 (hex) of a key's secret: keys are 256-bit random, so a fast hash cannot be brute-forced. */
export function hashApiKey(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** A new random key: `flo_` + 32 random bytes in base64url. */
export function generateApiKey(): string {
  return `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/** The part of a key that may be shown again (lists, logs, audit): never enough to use it. */
export function displayPrefix(secret: string): string {
  return secret.slice(0, DISPLAY_PREFIX_LENGTH);
}

export interface ApiKeyView {
  id: string;
  name: string;
  role: Role;
  prefix: string;
  createdBy: string;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

interface ApiKeyRow {
  id: string;
  name: string;
  role: Role;
  prefix: string;
  hash: string;
  createdBy: string;
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/** A key as the API shows it: never the secret or its hash. */
export function apiKeyView(row: ApiKeyRow): ApiKeyView {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    prefix: row.prefix,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    expiresAt: row.expiresAt?.toISOString() ?? null,
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
  };
}

/** Stores a key (only its hash) and answers the row. The caller shows `secret` once and forgets it. */
export async function insertApiKey(
  db: Db,
  key: { secret: string; name: string; role: Role; createdBy: string; expiresAt?: Date | null },
): Promise<ApiKeyRow> {
  return db.apiKey.create({
    data: {
      name: key.name,
      role: key.role,
      prefix: displayPrefix(key.secret),
      hash: hashApiKey(key.secret),
      createdBy: key.createdBy,
      expiresAt: key.expiresAt ?? null,
    },
  });
}

interface CachedKey {
  row: ApiKeyRow | undefined;
  until: number;
}

/**
 * Resolves API keys to principals. A key found (or not found) in the database is remembered for at most
 * {@link API_KEY_CACHE_MS}, so a revoke made through any replica takes effect everywhere within that bound; a revoke
 * through this replica (`forget`) takes effect at once. Expiry is checked on every request.
 */
export class ApiKeyStore {
  private readonly cache = new Map<string, CachedKey>();
  private readonly lastUsedWritten = new Map<string, number>();

  constructor(
    private readonly prisma: PrismaClient,
    private readonly now: () => number = Date.now,
  ) {}

  /** The principal of a valid key; undefined for an unknown, revoked or expired one. */
  async authenticate(secret: string): Promise<Principal | undefined> {
    const hash = hashApiKey(secret);
    const row = await this.lookup(hash);
    if (!row || row.revokedAt) return undefined;
    // The index matched the hash; compare again in constant time so no code path depends on partial matches.
    if (!timingSafeEqual(Buffer.from(row.hash), Buffer.from(hash))) return undefined;
    if (row.expiresAt && row.expiresAt.getTime() <= this.now()) return undefined;
    this.touch(row.id);
    return { name: row.name, role: row.role, kind: 'apiKey', keyId: row.id };
  }

  /** Drops every cached entry of the key, so its revocation applies at once on this replica. */
  forget(id: string): void {
    for (const [hash, entry] of this.cache) if (entry.row?.id === id) this.cache.delete(hash);
  }

  private async lookup(hash: string): Promise<ApiKeyRow | undefined> {
    const cached = this.cache.get(hash);
    if (cached && cached.until > this.now()) return cached.row;
    const row = (await this.prisma.apiKey.findUnique({ where: { hash } })) ?? undefined;
    // Only known keys are cached: unknown ones would let a flood of random keys grow the map.
    if (row) this.cache.set(hash, { row, until: this.now() + API_KEY_CACHE_MS });
    else this.cache.delete(hash);
    return row;
  }

  /** Records use at most once a minute per key, off the request's path (a failure only loses the timestamp). */
  private touch(id: string): void {
    const now = this.now();
    const last = this.lastUsedWritten.get(id);
    if (last !== undefined && now - last < LAST_USED_RESOLUTION_MS) return;
    this.lastUsedWritten.set(id, now);
    void this.prisma.apiKey
      .update({ where: { id }, data: { lastUsedAt: new Date(now) } })
      .catch(() => this.lastUsedWritten.delete(id));
  }
}

/**
 * Makes sure an admin key with exactly `secret` exists (FLOW_ADMIN_API_KEY, for compose and automation). A key
 * with that secret that an admin revoked stays revoked.
 *
 * @returns `created`, `exists` or `revoked`.
 */
export async function ensureBootstrapAdminKey(
  prisma: PrismaClient,
  secret: string,
): Promise<'created' | 'exists' | 'revoked'> {
  const existing = await prisma.apiKey.findUnique({ where: { hash: hashApiKey(secret) } });
  if (existing) return existing.revokedAt ? 'revoked' : 'exists';
  await prisma.apiKey.createMany({
    data: [
      {
        name: 'bootstrap-admin',
        role: 'admin',
        prefix: displayPrefix(secret),
        hash: hashApiKey(secret),
        createdBy: 'FLOW_ADMIN_API_KEY',
      },
    ],
    skipDuplicates: true,
  });
  return 'created';
}

/** Whether any admin key can still be used (not revoked, not expired). */
export async function hasUsableAdminKey(prisma: PrismaClient): Promise<boolean> {
  const found = await prisma.apiKey.findFirst({
    where: {
      role: 'admin',
      revokedAt: null,
      OR: [{ expiresAt: null }, { expiresAt: { gt: new Date() } }],
    },
    select: { id: true },
  });
  return found !== null;
}
