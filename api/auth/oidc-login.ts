/**
 * The console's single sign-on: OAuth 2.0 authorization code with PKCE (RFC 7636) against the configured OIDC issuer.
 * The browser goes to the issuer's authorization endpoint with a code challenge and comes back with a code; the API
 * redeems the code with the verifier at the issuer's token endpoint and verifies the access token exactly as it
 * verifies bearer tokens (issuer, audience, signature, expiry, role claim). The endpoints come from the issuer's
 * discovery document, over https (or http on an http issuer's own origin, for development), like its keys.
 */
import { InvalidTokenError, JwksUnavailableError, looksLikeJwt, type JwtVerifier } from './jwt';

export interface OidcLoginSettings {
  /** AUTH_OIDC_CLIENT_ID: the console's client at the issuer (a public client: PKCE, no secret). */
  clientId: string;
  /** AUTH_OIDC_CLIENT_SECRET: for an issuer that only has confidential clients. */
  clientSecret?: string;
  /** AUTH_OIDC_SCOPE: default `openid profile`. */
  scope: string;
}

/** What the console needs to send the browser to the issuer. */
export interface OidcProvider {
  issuer: string;
  authorizationEndpoint: string;
  clientId: string;
  scope: string;
}

const ENDPOINTS_TTL_MS = 10 * 60_000;

export class OidcLogin {
  private endpoints:
    { value: Promise<{ authorizationEndpoint: URL; tokenEndpoint: URL }>; until: number } | undefined;

  constructor(
    private readonly verifier: JwtVerifier,
    private readonly issuer: string,
    private readonly settings: OidcLoginSettings,
  ) {}

  /** @throws JwksUnavailableError when the issuer's discovery document cannot be had. */
  async provider(): Promise<OidcProvider> {
    const { authorizationEndpoint } = await this.discovered();
    return {
      issuer: this.issuer,
      authorizationEndpoint: authorizationEndpoint.href,
      clientId: this.settings.clientId,
      scope: this.settings.scope,
    };
  }

  /**
   * Redeems an authorization code: the token to verify (the access token when it is a JWT, else the ID token).
   * @throws InvalidTokenError when the issuer refuses the code (its `error` is in the message);
   *   JwksUnavailableError when the issuer cannot be reached or answers nonsense.
   */
  async redeem(code: string, codeVerifier: string, redirectUri: string): Promise<string> {
    const { tokenEndpoint } = await this.discovered();
    const { fetch, timeoutMs } = this.verifier.http;
    const form = new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      code_verifier: codeVerifier,
      redirect_uri: redirectUri,
      client_id: this.settings.clientId,
      ...(this.settings.clientSecret ? { client_secret: this.settings.clientSecret } : {}),
    });
    let status: number;
    let body: Record<string, unknown>;
    try {
      const response = await fetch(tokenEndpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: form,
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = response.status;
      const parsed: unknown = await response.json().catch(() => undefined);
      body = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
    } catch (error) {
      throw new JwksUnavailableError(`the token endpoint ${tokenEndpoint.href} is unreachable`, {
        cause: error,
      });
    }
    if (status === 400 || status === 401) {
      const why = typeof body.error === 'string' ? body.error : `HTTP ${status}`;
      throw new InvalidTokenError(`the issuer refused the authorization code: ${why}`);
    }
    if (status !== 200)
      throw new JwksUnavailableError(`the token endpoint ${tokenEndpoint.href} answered HTTP ${status}`);
    const token = [body.access_token, body.id_token].find(
      (candidate): candidate is string => typeof candidate === 'string' && looksLikeJwt(candidate),
    );
    if (!token) throw new InvalidTokenError('the issuer answered no JWT (neither access_token nor id_token)');
    return token;
  }

  /** The issuer's endpoints, cached for 10 minutes; a failed discovery is forgotten so the next call tries again. */
  private discovered(): Promise<{ authorizationEndpoint: URL; tokenEndpoint: URL }> {
    const now = Date.now();
    if (!this.endpoints || this.endpoints.until <= now) {
      const value = this.verifier.loginEndpoints();
      const entry = { value, until: now + ENDPOINTS_TTL_MS };
      this.endpoints = entry;
      value.catch(() => {
        if (this.endpoints === entry) this.endpoints = undefined;
      });
    }
    return this.endpoints.value;
  }
}
