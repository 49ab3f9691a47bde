import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { useLocation } from 'wouter';
import { SESSION_KEY, signInWithCode, type Session } from '../api/session';
import { redirectUri, takePendingLogin } from '../auth/oidc-login';
import { readCallback } from '../auth/pkce';
import { ApiErrorView } from '../components/api-error-view';
import { Loading } from '../components/states';
import { useTitle } from '../lib/use-title';

/** The exchange runs once per page load, even when React runs effects twice (development). */
let exchange: Promise<{ session: Session; next: string }> | undefined;

function exchangeCode(): Promise<{ session: Session; next: string }> {
  exchange ??= (async () => {
    const pending = takePendingLogin();
    const result = readCallback(window.location.search, pending?.state);
    if (!result.ok) throw new Error(result.message);
    const session = await signInWithCode({
      code: result.code,
      codeVerifier: pending!.verifier,
      redirectUri: redirectUri(),
    });
    const next = pending!.next.replace(/^\/ui/, '') || '/';
    return { session, next: next.startsWith('/callback') || next.startsWith('/login') ? '/' : next };
  })();
  return exchange;
}

/** `/ui/callback`: the identity provider sends the browser back here with a code; trade it for a session. */
export function CallbackPage() {
  useTitle('Signing in');
  const client = useQueryClient();
  const [, navigate] = useLocation();
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    exchangeCode().then(
      ({ session, next }) => {
        client.setQueryData(SESSION_KEY, session);
        navigate(next, { replace: true });
      },
      (failure: unknown) => setError(failure),
    );
  }, [client, navigate]);
  return (
    <main id="main" className="login">
      <h1>Signing in</h1>
      {error === undefined ? (
        <Loading what="your session" />
      ) : (
        <div role="alert" className="card">
          <p>
            <strong>Sign-in failed.</strong>
          </p>
          <ApiErrorView error={error} />
          <p>
            <a href="/ui/">Back to the sign-in page</a>
          </p>
        </div>
      )}
    </main>
  );
}
