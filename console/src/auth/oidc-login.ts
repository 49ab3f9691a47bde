/**
 * The OIDC redirect round trip. The verifier, state and return path are kept in sessionStorage (this tab only)
 * from the redirect until the callback reads them once; the session is the API's httpOnly cookie.
 */
import { authorizationUrl, codeChallenge, randomToken, type OidcProvider } from './pkce';

const KEY = 'flow-console.oidc';

interface Pending {
  verifier: string;
  state: string;
  next: string;
}

export const redirectUri = (): string => `${window.location.origin}/ui/callback`;

/** Sends the browser to the identity provider. */
export async function beginOidcLogin(provider: OidcProvider, next: string): Promise<void> {
  const pending: Pending = { verifier: randomToken(), state: randomToken(), next };
  sessionStorage.setItem(KEY, JSON.stringify(pending));
  const challenge = await codeChallenge(pending.verifier);
  window.location.assign(
    authorizationUrl(provider, { redirectUri: redirectUri(), state: pending.state, challenge }),
  );
}

/** The pending sign-in of this tab, removed as it is read (a callback is used once). */
export function takePendingLogin(): Pending | undefined {
  const raw = sessionStorage.getItem(KEY);
  sessionStorage.removeItem(KEY);
  if (!raw) return undefined;
  try {
    return JSON.parse(raw) as Pending;
  } catch {
    return undefined;
  }
}
