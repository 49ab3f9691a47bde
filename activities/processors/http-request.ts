import { defineProcessor, type EgressResponse, NonRetryableError, RetryableError } from '../sdk';

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;

export interface HttpRequestConfiguration {
  /** Used when the step has no assigned Address; an assigned Address's connectionString wins. */
  url?: string;
  /** Default: POST when there is a body to send (the input or `body`), GET otherwise. */
  method?: (typeof HTTP_METHODS)[number];
  headers?: Record<string, string>;
  /** The request body (default: the step input). Strings are sent as-is, anything else as JSON. */
  body?: unknown;
  /** Per-attempt time limit (default 30 s); a timeout is retried. */
  timeoutMs?: number;
}

export interface HttpResponseOutput {
  status: number;
  headers: Record<string, string>;
  /** Parsed JSON when the content type says JSON, text otherwise ('' for no body). */
  body: unknown;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const ERROR_BODY_LIMIT = 1_000;

function resolveUrl(configured: string | undefined, addresses: { connectionString: string }[]): URL {
  const raw = addresses[0]?.connectionString ?? configured;
  if (!raw)
    throw new NonRetryableError('http-request needs an assigned Address or configuration.url', {
      type: 'InvalidConfiguration',
    });
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new NonRetryableError('http-request: the URL is not a valid absolute URL', {
      type: 'InvalidConfiguration',
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new NonRetryableError(`http-request supports http and https URLs, not ${url.protocol}`, {
      type: 'InvalidConfiguration',
    });
  return url;
}

/** The URL without credentials, query or fragment: safe for messages and logs. */
function describeUrl(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

function isJson(contentType: string | null): boolean {
  return contentType !== null && /^application\/(?:[\w.+-]+\+)?json\b/i.test(contentType.trim());
}

function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1_000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function encodeBody(body: unknown, headers: Headers): string | undefined {
  if (body === undefined) return undefined;
  if (typeof body === 'string') return body;
  if (!headers.has('content-type')) headers.set('content-type', 'application/json');
  return JSON.stringify(body);
}

/**
 * `http-request@1.0.0`: calls the first assigned Address's URL (or `configuration.url`) with the configured method,
 * headers and body (default body: the input, not sent for GET/HEAD). Output `{ status, headers, body }`.
 * Retryable: 5xx, 429 (honouring `Retry-After`), network errors and timeouts. Any other non-2xx fails at once with a
 * non-retryable `HttpError` naming the status. The call goes through the worker's egress guard (`context.fetch`): an
 * internal destination fails at once with `EgressDenied`, an answer over the worker's size limit with
 * `ResponseTooLarge`. Redirects are followed (at most 5, each checked). Cancellation aborts the request.
 */
export const httpRequestProcessor = defineProcessor<unknown, HttpResponseOutput, HttpRequestConfiguration>({
  name: 'http-request',
  version: '1.0.0',
  description:
    'Calls the URL of the assigned Address (or configuration.url); output { status, headers, body }.',
  module: __filename,
  inputSchema: {},
  outputSchema: {
    type: 'object',
    required: ['status', 'headers', 'body'],
    properties: {
      status: { type: 'integer', minimum: 100, maximum: 599 },
      headers: { type: 'object', additionalProperties: { type: 'string' } },
      body: {},
    },
    additionalProperties: false,
  },
  configurationSchema: {
    type: 'object',
    properties: {
      url: { type: 'string', format: 'uri' },
      method: { enum: [...HTTP_METHODS] },
      headers: { type: 'object', additionalProperties: { type: 'string' } },
      body: {},
      timeoutMs: { type: 'integer', minimum: 1, maximum: 600_000 },
    },
    additionalProperties: false,
  },
  defaults: {
    retryPolicy: {
      maximumAttempts: 5,
      initialIntervalMs: 1_000,
      backoffCoefficient: 2,
      maximumIntervalMs: 60_000,
    },
    timeouts: { startToCloseMs: 660_000, heartbeatMs: 10_000 },
  },
  // A single slow call does not heartbeat by itself; this lets a stop reach it promptly.
  autoHeartbeatMs: 1_000,
  async run({ input, configuration, assignments, signal, log, fetch }) {
    const url = resolveUrl(configuration.url, assignments);
    const headers = new Headers(configuration.headers);
    const payload = 'body' in configuration ? configuration.body : input;
    const method = configuration.method ?? (payload === undefined || payload === null ? 'GET' : 'POST');
    const body = method === 'GET' || method === 'HEAD' ? undefined : encodeBody(payload, headers);
    const timeoutMs = configuration.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const target = `${method} ${describeUrl(url)}`;

    // Through the worker's egress guard: it follows redirects (checking each), reads the body within its size
    // limit and applies the step's cancellation signal.
    let response: EgressResponse;
    try {
      response = await fetch(url, { method, headers, body, timeoutMs });
    } catch (error) {
      if (signal.aborted) throw error; // the SDK reports the cancellation
      // EgressDenied, ResponseTooLarge, TooManyRedirects, …: retrying cannot help.
      if (error instanceof NonRetryableError) throw error;
      const timedOut = error instanceof DOMException && error.name === 'TimeoutError';
      const cause = (error as Error).cause;
      const reason = timedOut
        ? `timed out after ${timeoutMs} ms`
        : cause instanceof Error
          ? cause.message
          : (error as Error).message;
      throw new RetryableError(`${target} failed: ${reason}`, {
        type: timedOut ? 'HttpTimeout' : 'NetworkError',
      });
    }

    const { text } = response;
    const responseHeaders = Object.fromEntries(response.headers.entries());
    log.debug({ status: response.status, target }, 'http response');
    if (response.status < 200 || response.status > 299) {
      const message = `${target} answered ${response.status} ${response.statusText}`.trim();
      const details = { status: response.status, body: text.slice(0, ERROR_BODY_LIMIT) };
      if (response.status >= 500 || response.status === 429)
        throw new RetryableError(message, {
          type: 'HttpError',
          details,
          retryAfterMs: retryAfterMs(response.headers.get('retry-after')),
        });
      throw new NonRetryableError(message, { type: 'HttpError', details });
    }

    let parsed: unknown = text;
    if (isJson(response.headers.get('content-type')) && text !== '') {
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new NonRetryableError(
          `${target} answered ${response.status} with a JSON content type but invalid JSON`,
          {
            type: 'InvalidResponseBody',
          },
        );
      }
    }
    return { status: response.status, headers: responseHeaders, body: parsed };
  },
});
