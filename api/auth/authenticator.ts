import type { Request } from 'express';
import type { ApiKeyStore } from './api-keys';
import { InvalidTokenError, JwksUnavailableError, looksLikeJwt, type JwtVerifier } from './jwt';
import { NoRoleError, UnauthenticatedError, type Principal } from './principal';
import { ServiceUnavailableError } from '../errors';

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
  /** Set when an OIDC issuer is configured. */
  jwt?: JwtVerifier;
  /** AUTH_MODE=off: everyone is an admin (local experiments only). */
  authOff?: boolean;
}

/** Turns a request's credential (an API key or an OIDC JWT) into a principal with a role. */
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
    if (credential === undefined) throw new UnauthenticatedError('no credential');
    if (this.options.jwt && looksLikeJwt(credential)) return this.fromJwt(this.options.jwt, credential);
    const principal = await this.options.keys.authenticate(credential);
    if (!principal) throw new UnauthenticatedError('unknown, expired or revoked API key');
    return principal;
  }

  private async fromJwt(verifier: JwtVerifier, token: string): Promise<Principal> {
    try {
      const identity = await verifier.verify(token);
      if (!identity.role) throw new NoRoleError(identity.principal);
      return { name: identity.principal, role: identity.role, kind: 'jwt' };
    } catch (error) {
      if (error instanceof JwksUnavailableError)
        throw new ServiceUnavailableError('The identity provider', 'its signing keys cannot be fetched');
      if (error instanceof InvalidTokenError) throw new UnauthenticatedError(`invalid JWT: ${error.message}`);
      throw error;
    }
  }
}
