/**
 * Sign-in: the session routes (`/api/Session`, not yet in the OpenAPI document, so typed here). The credential is
 * an httpOnly cookie the API sets; nothing about it is kept in script-readable storage.
 */
import { useQuery, useQueryClient } from '@tanstack/react-query';
import type { OidcProvider } from '../auth/pkce';
import type { Role } from '../auth/roles';
import { request } from './client';
import { isApiError } from './errors';

export interface Session {
  name: string;
  role: Role;
  kind: string;
  expiresAt: string;
}

export interface Providers {
  apiKey: boolean;
  oidc?: OidcProvider;
  /** The Temporal Web UI's base URL, for links to runs (optional). */
  temporalUiUrl?: string;
  /** The Temporal namespace of the runs (default `default`). */
  temporalNamespace?: string;
}

export const SESSION_KEY = ['session'] as const;

/** The signed-in principal, or null (401). */
export function useSession() {
  return useQuery({
    queryKey: SESSION_KEY,
    queryFn: async (): Promise<Session | null> => {
      try {
        return await request<Session>('GET', '/api/Session');
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
    queryFn: () => request<Providers>('GET', '/api/Session/providers'),
    staleTime: Infinity,
  });
}

export const signInWithKey = (apiKey: string) => request<Session>('POST', '/api/Session', { apiKey });

export const signInWithCode = (body: { code: string; codeVerifier: string; redirectUri: string }) =>
  request<Session>('POST', '/api/Session', body);

/** Ends the session and forgets every cached answer. */
export function useSignOut() {
  const client = useQueryClient();
  return async () => {
    try {
      await request<undefined>('DELETE', '/api/Session');
    } finally {
      // Signed out first (the page switches to sign-in), then every other cached answer is dropped.
      client.setQueryData(SESSION_KEY, null);
      client.removeQueries({ predicate: (query) => query.queryKey[0] !== SESSION_KEY[0] });
    }
  };
}
