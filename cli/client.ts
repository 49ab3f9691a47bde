/** The API as flowctl calls it: JSON over HTTP with the key, errors turned into what a person can act on. */
import type { Target } from './config';

/** Exit codes (README: flowctl). */
export const EXIT = { ok: 0, failed: 1, cancelled: 2, terminated: 3, usage: 4 } as const;

/** An error flowctl reports and exits with: the API's message and details, never a stack. */
export class CliError extends Error {
  override name = 'CliError';

  constructor(
    message: string,
    readonly exitCode: number,
    readonly details: ReadonlyArray<Record<string, unknown>> = [],
    /** The API's `error` code (`RunStillOpen`, …) when the API refused. */
    readonly code?: string,
  ) {
    super(message);
  }
}

export interface ApiAnswer<T> {
  status: number;
  body: T;
  headers: Headers;
}

export class FlowApi {
  constructor(private readonly target: Target) {}

  get url(): string {
    return this.target.apiUrl;
  }

  /**
   * @throws CliError: exit 4 when the API cannot be reached or refuses the credential (401/403), 1 for other
   *   refusals (with the API's details), unless `accept` lists the status.
   */
  async request<T = unknown>(
    method: string,
    route: string,
    options: { body?: unknown; headers?: Record<string, string>; accept?: number[]; raw?: string } = {},
  ): Promise<ApiAnswer<T>> {
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (this.target.apiKey) headers.authorization = `Bearer ${this.target.apiKey}`;
    let payload: string | undefined = options.raw;
    if (options.body !== undefined) {
      payload = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    let response: Response;
    try {
      response = await fetch(`${this.target.apiUrl}${route}`, {
        method,
        headers,
        ...(payload !== undefined ? { body: payload } : {}),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(
        `cannot reach the API at ${this.target.apiUrl}: ${cause?.code ?? cause?.message ?? String(error)} ` +
          '(set FLOW_API_URL or --api-url)',
        EXIT.usage,
      );
    }
    const text = await response.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON (a data download): keep the text */
    }
    if (response.ok || options.accept?.includes(response.status))
      return { status: response.status, body: body as T, headers: response.headers };
    const error = body as
      { error?: string; message?: string; details?: Array<Record<string, unknown>> } | undefined;
    const message = error?.message ?? `${method} ${route} answered ${response.status}`;
    if (response.status === 401)
      throw new CliError(
        `${message}${this.target.apiKey ? '' : ' (no API key: set FLOW_API_KEY, --api-key, or run flowctl login)'}`,
        EXIT.usage,
      );
    if (response.status === 403) throw new CliError(message, EXIT.usage);
    throw new CliError(message, EXIT.failed, error?.details ?? [], error?.error);
  }
}
