/** The API's error body `{ error, message, details?, correlationId? }` as a thrown value. Pure. */

export interface ErrorDetail {
  field?: string;
  rule?: string;
  message?: string;
  [key: string]: unknown;
}

export class ApiError extends Error {
  readonly status: number;
  /** The API's stable code: ValidationFailed, NotFound, RunAlreadyOpen, … (or `NetworkError`). */
  readonly code: string;
  readonly details: ErrorDetail[];
  readonly correlationId: string | undefined;

  constructor(status: number, body: unknown, correlationId?: string | null) {
    const parsed = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const message =
      typeof parsed.message === 'string'
        ? parsed.message
        : typeof body === 'string' && body.trim() !== ''
          ? body.trim().slice(0, 500)
          : `The API answered ${status}.`;
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = typeof parsed.error === 'string' ? parsed.error : `HTTP ${status}`;
    this.details = Array.isArray(parsed.details) ? (parsed.details as ErrorDetail[]) : [];
    const fromBody = typeof parsed.correlationId === 'string' ? parsed.correlationId : undefined;
    this.correlationId = fromBody ?? correlationId ?? undefined;
  }
}

export const isApiError = (error: unknown): error is ApiError => error instanceof ApiError;

/** One line per detail: `field: message (rule)`. */
export function detailLines(details: readonly ErrorDetail[]): string[] {
  return details.map((detail) => {
    const text = typeof detail.message === 'string' ? detail.message : JSON.stringify(detail);
    const field = typeof detail.field === 'string' && detail.field !== '' ? `${detail.field}: ` : '';
    const rule = typeof detail.rule === 'string' ? ` (${detail.rule})` : '';
    return `${field}${text}${rule}`;
  });
}
