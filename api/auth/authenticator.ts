import type { Request } from 'express';
import type { ApiKeyStore } from './api-keys';
import { InvalidTokenError, JwksUnavailableError, looksLikeJwt, type JwtVerifier } from './jwt';
import { NoRoleError, UnauthenticatedError, type Principal } from './principal';
import { ServiceUnavailableError } from '../errors';
import { sessionToken, type SessionStore } from './sessions';

/** The longest credential we look at; anything longer is malformed. */
const MAX_CREDENTIAL_LENGTH = 8_192;
const BEARER = /^Bearer[ ]+([A-Za-z0-9._~+/=-]+)[ ]*$/i;

/** The credential a request offers: `Authorization: Bearer …` or `X-API-Key: …`; undefined when it offers none. */
export function offeredCredential(req: Request): string | undefined {
  const header = req.get('authorization');
  const apiKey = req.get('x-api-key');
  if (header === undefined && apiKey === undefined) return undefined;
  if (header !== undefined) {
    const match = header.length <= MAX_CREDENTIAL_LENGTH ? BEARER.exec(header) : null;
    if (!match) throw new UnauthenticatedError('malformed Authorization header');
    return match[1];
  }
  const key = apiKey!.trim();
  if (key === '' || key.length > MAX_CREDENTIAL_LENGTH) throw new UnauthenticatedError('malformed X-API-Key');
  return key;
}

export interface AuthenticatorOptions {
  keys: ApiKeyStore;
  /** Console sessions: the session cookie authenticates a request that sends no other credential. */
  sessions?: SessionStore;
  /** Set when an OIDC issuer is configured. */
  jwt?: JwtVerifier;
  /** AUTH_MODE=off: everyone is an admin (local experiments only). */
  authOff?: boolean;
}

/**
 * Turns a request's credential — an API key or an OIDC JWT in a header, else a console session cookie — into a
 * principal with a role.
 */
export class Authenticator {
  constructor(private readonly options: AuthenticatorOptions) {}

  get authOff(): boolean {
    return this.options.authOff === true;
  }

  /**
   * @throws UnauthenticatedError for a missing, malformed, unknown, expired or revoked credential (or a JWT without a
   *   role of ours); ServiceUnavailableError when Postgres or the issuer's JWKS cannot be reached.
   */
  async authenticate(req: Request): Promise<Principal> {
    if (this.options.authOff) return { name: 'anonymous', role: 'admin', kind: 'authOff' };
    const credential = offeredCredential(req);
    if (credential === undefined) return this.fromSession(req);
    if (this.options.jwt && looksLikeJwt(credential)) return this.fromJwt(credential);
    return this.fromApiKey(credential);
  }

  /** The principal of an API key. @throws UnauthenticatedError for an unknown, expired or revoked key. */
  async fromApiKey(secret: string): Promise<Principal> {
    const principal = await this.options.keys.authenticate(secret);
    if (!principal) throw new UnauthenticatedError('unknown, expired or revoked API key');
    return principal;
  }

  private async fromSession(req: Request): Promise<Principal> {
    const token = this.options.sessions ? sessionToken(req) : undefined;
    if (token === undefined) throw new UnauthenticatedError('no credential');
    const principal = await this.options.sessions!.authenticate(token);
    if (!principal) throw new UnauthenticatedError('unknown or ended session');
    return principal;
  }

  /**
   * The principal of an OIDC JWT.
   * @throws UnauthenticatedError for a bad token (or when no issuer is configured), NoRoleError when it maps to none
   *   of our roles, ServiceUnavailableError when the issuer's keys cannot be fetched.
   */
  async fromJwt(token: string): Promise<Principal & { expiresAt?: Date }> {
    const verifier = this.options.jwt;
    if (!verifier) throw new UnauthenticatedError('no OIDC issuer is configured');
    try {
      const identity = await verifier.verify(token);
      if (!identity.role) throw new NoRoleError(identity.principal);
      const exp = identity.claims.exp;
      return {
        name: identity.principal,
        role: identity.role,
        kind: 'jwt',
        ...(typeof exp === 'number' ? { expiresAt: new Date(exp * 1000) } : {}),
      };
    } catch (error) {
      if (error instanceof JwksUnavailableError)
        throw new ServiceUnavailableError('The identity provider', 'its signing keys cannot be fetched');
      if (error instanceof InvalidTokenError) throw new UnauthenticatedError(`invalid JWT: ${error.message}`);
      throw error;
    }
  }
}
