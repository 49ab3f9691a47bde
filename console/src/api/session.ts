/**
 * Sign-in through the session routes: the credential becomes an httpOnly cookie the API sets; nothing about it is
 * kept in script-readable storage.
 */
import { useQuery, useQueryClient } from '@tanstack/react-query';
import type { OidcProvider } from '../auth/pkce';
import { ROLES, type Role } from '../auth/roles';
import { api, unwrap } from './client';
import { isApiError } from './errors';
import type { operations } from './schema';

type SessionView = operations['Session.get']['responses'][200]['content']['application/json'];

/** The signed-in principal (the document leaves every field optional; the API always sends name and role). */
export interface Session extends SessionView {
  name: string;
  role: Role;
}

type ProvidersView = operations['Session.providers']['responses'][200]['content']['application/json'];

export interface Providers extends ProvidersView {
  oidc?: OidcProvider;
  /** Where the console links a run in the Temporal Web UI (optional). */
  temporalUi?: { url: string; namespace: string };
}

export const SESSION_KEY = ['session'] as const;

/** The API's session answer, checked: a session without a name or a known role is a broken answer. */
function asSession(view: SessionView): Session {
  if (typeof view.name !== 'string' || !ROLES.includes(view.role))
    throw new Error(`The API answered a session without a name or role: ${JSON.stringify(view)}`);
  return { ...view, name: view.name, role: view.role };
}

/** The signed-in principal, or null (401). */
export function useSession() {
  return useQuery({
    queryKey: SESSION_KEY,
    queryFn: async (): Promise<Session | null> => {
      try {
        return asSession(unwrap(await api.GET('/api/Session')));
      } catch (error) {
        if (isApiError(error) && error.status === 401) return null;
        throw error;
      }
    },
    staleTime: 60_000,
    retry: 1,
  });
}

export function useProviders() {
  return useQuery({
    queryKey: ['session', 'providers'],
    queryFn: async () => unwrap(await api.GET('/api/Session/providers')) as Providers,
    staleTime: Infinity,
  });
}

export const signInWithKey = async (apiKey: string) =>
  asSession(unwrap(await api.POST('/api/Session', { body: { apiKey } })));

export const signInWithCode = async (body: { code: string; codeVerifier: string; redirectUri: string }) =>
  asSession(unwrap(await api.POST('/api/Session', { body })));

/** Ends the session and forgets every cached answer. */
export function useSignOut() {
  const client = useQueryClient();
  return async () => {
    try {
      unwrap(await api.DELETE('/api/Session'));
    } finally {
      // Signed out first (the page switches to sign-in), then every other cached answer is dropped.
      client.setQueryData(SESSION_KEY, null);
      client.removeQueries({ predicate: (query) => query.queryKey[0] !== SESSION_KEY[0] });
    }
  };
}
