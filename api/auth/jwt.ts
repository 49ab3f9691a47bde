/**
 * OIDC bearer tokens: a JWT is verified against its issuer's JWKS (signature, `iss`, `aud`, `exp`, `nbf`; `exp` and
 * `sub` required) and its role claim is mapped to one of our roles. jose does the cryptography and caches the JWKS:
 * keys are fetched once, refetched when a token names an unknown `kid` (at most once per 30 s cooldown, so a flood of
 * made-up `kid`s cannot flood the issuer) and every 10 minutes otherwise.
 *
 * Two kinds of failure: `InvalidTokenError` — the token is bad (answer 401); `JwksUnavailableError` — we could not
 * get the issuer's keys (down, slow, answering nonsense: answer 503, the token may be fine).
 *
 * Where keys may come from: key material decides who gets in, so the JWKS (and the discovery document naming it)
 * must come over https. The one exception is a plain-http issuer (local development, tests on 127.0.0.1): its JWKS may
 * be http only on the issuer's own origin — an https issuer never gets keys over http, and an http issuer cannot
 * point us at http keys elsewhere.
 */
import {
  createRemoteJWKSet,
  customFetch,
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
  type ProtectedHeaderParameters,
  type RemoteJWKSet,
} from 'jose';
import { ROLES, type Role } from './roles';

export interface JwtSettings {
  /** AUTH_JWT_ISSUER: the exact `iss` accepted. */
  issuer: string;
  /** AUTH_JWT_AUDIENCE: `aud` must be (or contain) this. */
  audience: string;
  /** AUTH_JWT_JWKS_URL; default: `jwks_uri` of `${issuer}/.well-known/openid-configuration`, found on first use. */
  jwksUrl?: string;
  /** AUTH_JWT_ROLES_CLAIM: a claim name or dotted path (`realm_access.roles`); a string array or "a b" / "a,b". */
  rolesClaim: string;
  /** AUTH_JWT_ROLE_MAP: `flow-admins=admin,ops=operator` (see `parseRoleMap`). */
  roleMap?: string;
  /** AUTH_JWT_CLOCK_SKEW_SEC: how far `exp` and `nbf` may be off. */
  clockSkewSec: number;
}

export interface JwtIdentity {
  /** The `sub` claim. */
  principal: string;
  /** The highest of our roles the token's role names map to; undefined when none maps. */
  role: Role | undefined;
  claims: JWTPayload;
}

export interface JwtVerifierOptions {
  /** Used for the discovery document and the JWKS; default: the global fetch. */
  fetch?: typeof fetch;
  /** Timeout of each discovery or JWKS request (ms); default 5000. */
  timeoutMs?: number;
}

/** Every rejected token. The message says why, for the logs; callers are only told that the token was refused. */
export class InvalidTokenError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidTokenError';
  }
}

/** The issuer's keys could not be obtained (network, timeout, bad answer): nothing is known about the token. */
export class JwksUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'JwksUnavailableError';
  }
}

/** Asymmetric only: `none` and HMAC (which an attacker can key with our public key) never verify. */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
const DEFAULT_TIMEOUT_MS = 5_000;

/** Three base64url segments separated by dots (the last may be empty, so `alg: none` tokens are recognized). */
export function looksLikeJwt(token: string): boolean {
  return /^[\w-]+\.[\w-]+\.[\w-]*$/.test(token);
}

/**
 * Parses `name=role,name=role` (whitespace and empty entries ignored). The map also holds our own role names, mapped
 * to themselves. Throws an Error naming the entry when it is not `name=role`, names an unknown role, repeats a name,
 * or maps one of our role names to another role.
 */
export function parseRoleMap(text: string | undefined): Map<string, Role> {
  const map = new Map<string, Role>(ROLES.map((role) => [role, role]));
  const named = new Set<string>();
  for (const entry of (text ?? '').split(',').map((part) => part.trim())) {
    if (entry === '') continue;
    const [name, role, ...rest] = entry.split('=').map((part) => part.trim());
    if (!name || role === undefined || rest.length > 0)
      throw new Error(`role map entry "${entry}" must look like name=role`);
    if (!isRole(role))
      throw new Error(`role map entry "${entry}": "${role}" is not one of ${ROLES.join(', ')}`);
    if (named.has(name)) throw new Error(`role map entry "${entry}": "${name}" is mapped twice`);
    if (isRole(name) && name !== role)
      throw new Error(`role map entry "${entry}": "${name}" is one of our roles and always maps to itself`);
    named.add(name);
    map.set(name, role);
  }
  return map;
}

function isRole(name: string): name is Role {
  return (ROLES as readonly string[]).includes(name);
}

/** The claim at `path`: a top-level claim of exactly that name first (names may contain dots), else a dotted path. */
function claimAt(claims: JWTPayload, path: string): unknown {
  if (Object.hasOwn(claims, path)) return claims[path];
  let value: unknown = claims;
  for (const part of path.split('.')) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function roleNames(value: unknown): string[] {
  if (typeof value === 'string') return value.split(/[\s,]+/).filter(Boolean);
  if (Array.isArray(value)) return value.filter((name): name is string => typeof name === 'string');
  return [];
}

function highestRole(names: string[], roleMap: Map<string, Role>): Role | undefined {
  let highest: Role | undefined;
  for (const name of names) {
    const role = roleMap.get(name);
    if (role && (!highest || ROLES.indexOf(role) > ROLES.indexOf(highest))) highest = role;
  }
  return highest;
}

function httpUrl(text: string, what: string): URL {
  const url = URL.canParse(text) ? new URL(text) : undefined;
  if (url?.protocol !== 'https:' && url?.protocol !== 'http:')
    throw new Error(`${what} ${quote(text)} is not an http(s) URL`);
  return url;
}

/** Why `url` may not serve keys for `issuer`; undefined when it may (see the file comment). */
function jwksUrlProblem(url: URL, issuer: URL): string | undefined {
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && issuer.protocol === 'http:' && url.origin === issuer.origin)
    return undefined;
  return `${url.href} must be https (http only on the origin of an http issuer)`;
}

function quote(value: unknown): string {
  const text = JSON.stringify(value) ?? 'nothing';
  return text.length > 100 ? `${text.slice(0, 100)}…` : text;
}

function isoTime(seconds: unknown): string {
  return typeof seconds === 'number' ? new Date(seconds * 1000).toISOString() : quote(seconds);
}

function messageOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause instanceof Error ? `${error.message} (${error.cause.message})` : error.message;
}

/** Verifies bearer JWTs for one issuer. One instance per process: it caches the discovery result and the keys. */
export class JwtVerifier {
  private readonly issuerUrl: URL;
  private readonly roleMap: Map<string, Role>;
  private readonly fetch: typeof fetch;
  private readonly timeoutMs: number;
  private keySet: Promise<{ url: URL; keys: RemoteJWKSet }> | undefined;

  /** Throws an Error when the settings are unusable (bad issuer or JWKS URL, bad role map, bad skew). */
  constructor(
    private readonly settings: JwtSettings,
    options: JwtVerifierOptions = {},
  ) {
    this.issuerUrl = httpUrl(settings.issuer, 'JWT issuer');
    if (!settings.audience) throw new Error('JWT audience is required');
    if (!settings.rolesClaim) throw new Error('JWT roles claim is required');
    if (!(Number.isFinite(settings.clockSkewSec) && settings.clockSkewSec >= 0))
      throw new Error(`JWT clock skew ${settings.clockSkewSec} must be a number of seconds >= 0`);
    this.roleMap = parseRoleMap(settings.roleMap);
    this.fetch = options.fetch ?? globalThis.fetch;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (settings.jwksUrl) {
      const url = httpUrl(settings.jwksUrl, 'JWT JWKS URL');
      const problem = jwksUrlProblem(url, this.issuerUrl);
      if (problem) throw new Error(`JWT JWKS URL ${problem}`);
      this.keySet = Promise.resolve({ url, keys: this.remoteKeys(url) });
    }
  }

  /**
   * The caller's identity. Throws `InvalidTokenError` for any bad token, `JwksUnavailableError` when the issuer's
   * keys could not be fetched (the token is then neither accepted nor known to be bad).
   */
  async verify(token: string): Promise<JwtIdentity> {
    if (!looksLikeJwt(token)) throw new InvalidTokenError('not a JWT (expected three base64url segments)');
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(token, this.getKey, {
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        algorithms: ALGORITHMS,
        clockTolerance: this.settings.clockSkewSec,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (error) {
      if (error instanceof errors.JOSEError)
        throw new InvalidTokenError(this.reason(error, token), { cause: error });
      throw error;
    }
    if (typeof claims.sub !== 'string' || claims.sub === '')
      throw new InvalidTokenError(`the "sub" claim must be a non-empty string, not ${quote(claims.sub)}`);
    const role = highestRole(roleNames(claimAt(claims, this.settings.rolesClaim)), this.roleMap);
    return { principal: claims.sub, role, claims };
  }

  /** jose's key lookup, with every failure other than "no such key" turned into `JwksUnavailableError`. */
  private readonly getKey: JWTVerifyGetKey = async (header, token) => {
    const { url, keys } = await this.keys();
    try {
      return await keys(header, token);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys)
        throw error;
      throw new JwksUnavailableError(`the JWKS at ${url.href} is unavailable: ${messageOf(error)}`, {
        cause: error,
      });
    }
  };

  private remoteKeys(url: URL): RemoteJWKSet {
    return createRemoteJWKSet(url, { timeoutDuration: this.timeoutMs, [customFetch]: this.fetch });
  }

  /** The JWKS, through discovery on first use; a failed discovery is forgotten, so the next call tries again. */
  private keys(): Promise<{ url: URL; keys: RemoteJWKSet }> {
    if (!this.keySet) {
      const pending = this.discoverJwksUrl().then((url) => ({ url, keys: this.remoteKeys(url) }));
      this.keySet = pending;
      pending.catch(() => {
        if (this.keySet === pending) this.keySet = undefined;
      });
    }
    return this.keySet;
  }

  /**
   * The issuer's login endpoints (for the console's authorization code + PKCE login), from its discovery document.
   * Tokens and codes travel to them, so they follow the same rule as the JWKS: https, or http on the origin of an
   * http issuer. Throws `JwksUnavailableError` when discovery fails or names unusable endpoints.
   */
  async loginEndpoints(): Promise<{ authorizationEndpoint: URL; tokenEndpoint: URL }> {
    const { document, fail } = await this.discovery();
    const endpoint = (field: 'authorization_endpoint' | 'token_endpoint'): URL => {
      const text = document[field];
      if (typeof text !== 'string' || !URL.canParse(text)) throw fail(`${field} ${quote(text)} is not a URL`);
      const problem = jwksUrlProblem(new URL(text), this.issuerUrl);
      if (problem) throw fail(`${field} ${problem}`);
      return new URL(text);
    };
    return {
      authorizationEndpoint: endpoint('authorization_endpoint'),
      tokenEndpoint: endpoint('token_endpoint'),
    };
  }

  /** What the JWT verifier and login were configured with: the issuer's fetch and timeout. */
  get http(): { fetch: typeof fetch; timeoutMs: number } {
    return { fetch: this.fetch, timeoutMs: this.timeoutMs };
  }

  private async discoverJwksUrl(): Promise<URL> {
    const { document, fail } = await this.discovery();
    const jwksUri = document.jwks_uri;
    if (typeof jwksUri !== 'string' || !URL.canParse(jwksUri))
      throw fail(`jwks_uri ${quote(jwksUri)} is not a URL`);
    const jwksUrl = new URL(jwksUri);
    const problem = jwksUrlProblem(jwksUrl, this.issuerUrl);
    if (problem) throw fail(`jwks_uri ${problem}`);
    return jwksUrl;
  }

  /** The discovery document (its `issuer` checked), fetched on each call: callers cache what they derive. */
  private async discovery(): Promise<{
    document: Record<string, unknown>;
    fail: (why: string, cause?: unknown) => JwksUnavailableError;
  }> {
    const url = new URL(`${this.settings.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`);
    const fail = (why: string, cause?: unknown) =>
      new JwksUnavailableError(`OIDC discovery at ${url.href} failed: ${why}`, { cause });
    let document: unknown;
    try {
      const response = await this.fetch(url, {
        headers: { accept: 'application/json' },
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      if (response.status !== 200) {
        await response.body?.cancel();
        throw fail(`HTTP ${response.status}`);
      }
      document = await response.json();
    } catch (error) {
      throw error instanceof JwksUnavailableError ? error : fail(messageOf(error), error);
    }
    const fields = (typeof document === 'object' && document !== null ? document : {}) as Record<
      string,
      unknown
    >;
    if (fields.issuer !== this.settings.issuer) throw fail(`it names issuer ${quote(fields.issuer)}`);
    return { document: fields, fail };
  }

  private reason(error: errors.JOSEError, token: string): string {
    let header: ProtectedHeaderParameters = {};
    try {
      header = decodeProtectedHeader(token);
    } catch {
      // a malformed header is reported through jose's own message below
    }
    const skew = `${this.settings.clockSkewSec} s clock skew allowed`;
    if (error instanceof errors.JOSEAlgNotAllowed)
      return `algorithm ${quote(header.alg)} is not allowed (only ${ALGORITHMS.join(', ')})`;
    if (error instanceof errors.JWKSNoMatchingKey)
      return `no key in the issuer's JWKS matches kid ${quote(header.kid)} (alg ${quote(header.alg)})`;
    if (error instanceof errors.JWKSMultipleMatchingKeys)
      return `several keys in the issuer's JWKS match alg ${quote(header.alg)}; the token must name its key (kid)`;
    if (error instanceof errors.JWSSignatureVerificationFailed) return 'signature verification failed';
    if (error instanceof errors.JWTExpired) return `token expired at ${isoTime(error.payload.exp)} (${skew})`;
    if (error instanceof errors.JWTClaimValidationFailed) {
      const { claim, reason, payload } = error;
      if (reason === 'check_failed' && claim === 'nbf')
        return `token not valid before ${isoTime(payload.nbf)} (${skew})`;
      if (reason === 'check_failed' && claim === 'iss')
        return `unexpected "iss" claim ${quote(payload.iss)}, expected ${quote(this.settings.issuer)}`;
      if (reason === 'check_failed' && claim === 'aud')
        return `unexpected "aud" claim ${quote(payload.aud)}, expected ${quote(this.settings.audience)}`;
      return error.message;
    }
    return `malformed token: ${error.message}`;
  }
}
