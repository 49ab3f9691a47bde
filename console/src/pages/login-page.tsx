import { useQueryClient } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import { SESSION_KEY, signInWithKey, useProviders } from '../api/session';
import { beginOidcLogin } from '../auth/oidc-login';
import { ApiErrorView } from '../components/api-error-view';
import { useTitle } from '../lib/use-title';

/** Sign in with an API key, or with the identity provider (OIDC) when the API has one configured. */
export function LoginPage() {
  useTitle('Sign in');
  const providers = useProviders();
  const client = useQueryClient();
  const [key, setKey] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const keyId = useId();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      client.setQueryData(SESSION_KEY, await signInWithKey(key.trim()));
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  const oidc = providers.data?.oidc;
  return (
    <main id="main" className="login">
      <h1>FlowOrchestrator console</h1>
      <form
        className="card"
        onSubmit={(event) => {
          void submit(event);
        }}
      >
        <h2>Sign in</h2>
        <label htmlFor={keyId}>API key</label>
        <input
          id={keyId}
          type="password"
          autoComplete="off"
          spellCheck={false}
          required
          value={key}
          onChange={(event) => setKey(event.target.value)}
          aria-invalid={error !== undefined}
        />
        <button type="submit" className="primary" disabled={busy || key.trim() === ''}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        {error !== undefined && (
          <div role="alert" className="field-errors">
            <ApiErrorView error={error} />
          </div>
        )}
        {oidc && (
          <>
            <p className="or">or</p>
            <button
              type="button"
              onClick={() => {
                void beginOidcLogin(oidc, window.location.pathname + window.location.search);
              }}
            >
              Sign in with SSO
            </button>
          </>
        )}
        <p className="muted small">
          The session is kept in a secure cookie; the key itself is not stored in the browser.
        </p>
      </form>
    </main>
  );
}
