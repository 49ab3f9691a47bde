/**
 * Console sessions (`POST /api/Session`). The browser holds a random 256-bit token in an httpOnly, SameSite=Strict
 * cookie; the database holds only its SHA-256, the principal and role it was issued to, and its expiry. A session
 * made from an API key stands and falls with the key: revoked or expired, the session is refused too. A session is
 * cached per replica for {@link API_KEY_CACHE_MS}, the same revoke bound as API keys; ending it through this replica
 * takes effect at once.
 *
 * CSRF: a state-changing request (anything but GET, HEAD, OPTIONS) authenticated by the cookie must also send
 * `X-Flow-Console: 1`. A cross-site form cannot set a custom header, and a cross-site script cannot send one without
 * a CORS preflight the API refuses; SameSite=Strict keeps the cookie off cross-site requests in the first place.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import type { PrismaClient } from '../../prisma/client';
import { API_KEY_CACHE_MS } from './api-keys';
import type { Principal } from './principal';
import type { Role } from './roles';

export const SESSION_COOKIE = 'flow_session';
/** The CSRF header a cookie-authenticated state-changing request must carry, with the value `1`. */
export const CSRF_HEADER = 'X-Flow-Console';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** A session as `GET /api/Session` answers it. */
export interface SessionView {
  name: string;
  role: Role;
  kind: Principal['kind'];
  /** When the session ends; absent for a request authenticated by a header credential. */
  expiresAt?: string;
}

interface SessionRow {
  id: string;
  tokenHash: string;
  principal: string;
  role: Role;
  kind: string;
  apiKeyId: string | null;
  expiresAt: Date;
  apiKey: { revokedAt: Date | null; expiresAt: Date | null } | null;
}

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

/** The session token a request's Cookie header carries; undefined when none (or a malformed one). */
export function sessionToken(req: Request): string | undefined {
  const header = req.get('cookie');
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === SESSION_COOKIE) {
      const token = value.join('=');
      return TOKEN.test(token) ? token : undefined;
    }
  }
  return undefined;
}

/** Whether a request authenticated by the session cookie may do what it asks (see the file comment). */
export function passesCsrfCheck(req: Request): boolean {
  return SAFE_METHODS.has(req.method) || req.get(CSRF_HEADER) === '1';
}

export class SessionStore {
  private readonly cache = new Map<string, { row: SessionRow | undefined; until: number }>();

  constructor(
    private readonly prisma: PrismaClient,
    /** SESSION_TTL_MINUTES: the longest a session lives. */
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Issues a session for `principal`, ending at `notAfter` at the latest (a token's own expiry). */
  async create(principal: Principal, notAfter?: Date): Promise<{ token: string; view: SessionView }> {
    const token = randomBytes(32).toString('base64url');
    const expiresAt = new Date(Math.min(this.now() + this.ttlMs, notAfter?.getTime() ?? Infinity));
    await this.prisma.session.create({
      data: {
        tokenHash: hashToken(token),
        principal: principal.name,
        role: principal.role,
        kind: principal.kind,
        apiKeyId: principal.keyId ?? null,
        expiresAt,
      },
    });
    // Ended sessions are swept as new ones begin (an index on expires_at keeps it cheap); losing a sweep is harmless.
    void this.prisma.session
      .deleteMany({ where: { expiresAt: { lt: new Date(this.now()) } } })
      .catch(() => {});
    return { token, view: { ...viewOf(principal), expiresAt: expiresAt.toISOString() } };
  }

  /** The principal of a live session; undefined for an unknown, ended or expired one, or one whose key is gone. */
  async authenticate(token: string): Promise<Principal | undefined> {
    const hash = hashToken(token);
    const row = await this.lookup(hash);
    if (!row || !timingSafeEqual(Buffer.from(row.tokenHash), Buffer.from(hash))) return undefined;
    const now = this.now();
    if (row.expiresAt.getTime() <= now) return undefined;
    if (
      row.apiKey &&
      (row.apiKey.revokedAt || (row.apiKey.expiresAt && row.apiKey.expiresAt.getTime() <= now))
    )
      return undefined;
    return {
      name: row.principal,
      role: row.role,
      kind: row.kind === 'jwt' ? 'jwt' : 'apiKey',
      ...(row.apiKeyId ? { keyId: row.apiKeyId } : {}),
      session: { id: row.id, expiresAt: row.expiresAt.toISOString() },
    };
  }

  /** Ends the session (logout); ending an unknown one is no error. */
  async end(token: string): Promise<void> {
    const hash = hashToken(token);
    this.cache.delete(hash);
    await this.prisma.session.deleteMany({ where: { tokenHash: hash } });
  }

  private async lookup(hash: string): Promise<SessionRow | undefined> {
    const cached = this.cache.get(hash);
    if (cached && cached.until > this.now()) return cached.row;
    const row =
      (await this.prisma.session.findUnique({
        where: { tokenHash: hash },
        include: { apiKey: { select: { revokedAt: true, expiresAt: true } } },
      })) ?? undefined;
    // Only known sessions are cached: unknown tokens would let a flood of random cookies grow the map.
    if (row) this.cache.set(hash, { row, until: this.now() + API_KEY_CACHE_MS });
    else this.cache.delete(hash);
    return row;
  }
}

export function viewOf(principal: Principal): SessionView {
  return {
    name: principal.name,
    role: principal.role,
    kind: principal.kind,
    ...(principal.session ? { expiresAt: principal.session.expiresAt } : {}),
  };
}

/** Sets the session cookie: httpOnly, SameSite=Strict, the whole site, Secure when the request came over https. */
export function setSessionCookie(req: Request, res: Response, token: string, expiresAt: string): void {
  res.cookie(SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: 'strict',
    secure: req.secure,
    path: '/',
    expires: new Date(expiresAt),
  });
}

export function clearSessionCookie(req: Request, res: Response): void {
  res.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'strict', secure: req.secure, path: '/' });
}
