/**
 * The typed API client (openapi-fetch over schema.d.ts, generated from schemas/openapi.json) and the plain
 * requests for the few routes the document does not describe yet. Every request goes to the same origin with the
 * session cookie and the `X-Flow-Console: 1` header (the API refuses cookie-authenticated state changes without
 * it: the CSRF defence).
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

/** A JSON request outside the typed client (the session routes). Answers undefined for 204. */
export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: { ...CONSOLE_HEADER, ...(body !== undefined && { 'Content-Type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
  } catch (error) {
    throw new ApiError(0, { error: 'NetworkError', message: `The API cannot be reached: ${String(error)}` });
  }
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? undefined : (JSON.parse(text) as unknown);
  } catch {
    // Not JSON: keep the text for the error message.
  }
  if (!response.ok) throw new ApiError(response.status, parsed, response.headers.get('X-Correlation-ID'));
  return parsed as T;
}
