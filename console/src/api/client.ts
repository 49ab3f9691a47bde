/**
 * The typed API client: openapi-fetch over schema.d.ts, generated from schemas/openapi.json. Every request goes to
 * the same origin with the session cookie and the `X-Flow-Console: 1` header (the API refuses cookie-authenticated
 * state changes without it: the CSRF defence). A network failure is an ApiError with status 0.
 */
import createClient from 'openapi-fetch';
import { ApiError } from './errors';
import type { paths } from './schema';

export const CONSOLE_HEADER = { 'X-Flow-Console': '1' } as const;

/** Called with every 401 (the session ended): the app shows the login page. */
let onUnauthorized: () => void = () => undefined;
export const setUnauthorizedHandler = (handler: () => void): void => {
  onUnauthorized = handler;
};

export const api = createClient<paths>({
  baseUrl: window.location.origin,
  credentials: 'same-origin',
  headers: CONSOLE_HEADER,
  fetch: async (request) => {
    try {
      return await fetch(request);
    } catch (error) {
      throw new ApiError(0, {
        error: 'NetworkError',
        message: `The API cannot be reached: ${String(error)}`,
      });
    }
  },
});

api.use({
  onResponse({ response }) {
    if (response.status === 401) onUnauthorized();
    return undefined;
  },
});

/** An openapi-fetch answer: the data, or an ApiError carrying the body and correlation ID. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || !result.response.ok)
    throw new ApiError(result.response.status, result.error, result.response.headers.get('X-Correlation-ID'));
  return result.data as T;
}

/** The `X-Total-Count` of a list answer. */
export const totalOf = (response: Response): number | undefined => {
  const header = response.headers.get('X-Total-Count');
  return header === null ? undefined : Number(header);
};
