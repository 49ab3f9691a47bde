/**
 * OIDC authorization code + PKCE (RFC 7636, S256) for the browser: the verifier and state live in sessionStorage
 * only for the redirect round trip (see oidc-login.ts); the session itself is an httpOnly cookie the API sets.
 * Pure apart from the randomness and the hash, both from Web Crypto (in browsers and Node alike).
 */

export interface OidcProvider {
  issuer: string;
  authorizationEndpoint: string;
  clientId: string;
  scope: string;
}

export const base64url = (bytes: Uint8Array): string =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');

/** A random 43-character URL-safe string (32 bytes): a code verifier or a state. */
export function randomToken(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

/** The S256 code challenge of a verifier: base64url(SHA-256(verifier)). */
export async function codeChallenge(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

/** Where the console sends the browser to sign in. */
export function authorizationUrl(
  provider: OidcProvider,
  params: { redirectUri: string; state: string; challenge: string },
): string {
  const url = new URL(provider.authorizationEndpoint);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', provider.clientId);
  url.searchParams.set('redirect_uri', params.redirectUri);
  url.searchParams.set('scope', provider.scope);
  url.searchParams.set('state', params.state);
  url.searchParams.set('code_challenge', params.challenge);
  url.searchParams.set('code_challenge_method', 'S256');
  return url.toString();
}

/** The callback's query: the code, or the provider's error, and whether the state is the one we sent. */
export type CallbackResult = { ok: true; code: string } | { ok: false; message: string };

export function readCallback(search: string, expectedState: string | undefined): CallbackResult {
  const params = new URLSearchParams(search);
  const error = params.get('error');
  if (error) {
    const description = params.get('error_description');
    return {
      ok: false,
      message: `The identity provider refused: ${error}${description ? ` (${description})` : ''}`,
    };
  }
  if (!expectedState) return { ok: false, message: 'No sign-in is in progress in this tab: start again.' };
  if (params.get('state') !== expectedState)
    return {
      ok: false,
      message: 'The sign-in answer does not match this tab (state mismatch): start again.',
    };
  const code = params.get('code');
  if (!code) return { ok: false, message: 'The identity provider sent no authorization code.' };
  return { ok: true, code };
}
