import { ApplicationFailure } from '@temporalio/common';

export interface ProcessorErrorOptions {
  /** The failure type the workflow sees (`StepError.type`); also what a retry policy's `nonRetryableErrorTypes` match. */
  type?: string;
  /** Structured details carried on the failure (`StepError.details`). Keep them small and free of secrets. */
  details?: unknown;
  cause?: unknown;
}

/**
 * Throw from a processor when retrying cannot help (bad configuration, a 4xx answer, a file outside the data root):
 * the step fails at once, whatever its retry policy says. Becomes a non-retryable `ApplicationFailure` of type
 * `options.type` (default `NonRetryableError`).
 */
export class NonRetryableError extends Error {
  override name = 'NonRetryableError';
  readonly type: string;
  readonly details: unknown;

  constructor(message: string, options: ProcessorErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.type = options.type ?? 'NonRetryableError';
    this.details = options.details;
  }
}

export interface RetryableErrorOptions extends ProcessorErrorOptions {
  /** Wait this long before the next attempt instead of the retry policy's backoff (e.g. from `Retry-After`). */
  retryAfterMs?: number;
}

/**
 * Throw from a processor when another attempt may succeed (a 503, a timeout, a dropped connection). The step is
 * retried per its retry policy, optionally after `retryAfterMs`. Any other thrown `Error` is retryable too; this
 * class only adds a failure type, details and a retry delay. Becomes a retryable `ApplicationFailure` of type
 * `options.type` (default `RetryableError`).
 */
export class RetryableError extends Error {
  override name = 'RetryableError';
  readonly type: string;
  readonly details: unknown;
  readonly retryAfterMs: number | undefined;

  constructor(message: string, options: RetryableErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.type = options.type ?? 'RetryableError';
    this.details = options.details;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * Maps the SDK's retry-intent errors to the `ApplicationFailure` that crosses the activity boundary; anything else
 * (an `ApplicationFailure`, a cancellation, a plain `Error`) is returned unchanged for Temporal to convert.
 */
export function toActivityFailure(error: unknown): unknown {
  if (error instanceof NonRetryableError || error instanceof RetryableError)
    return ApplicationFailure.create({
      message: error.message,
      type: error.type,
      nonRetryable: error instanceof NonRetryableError,
      details: error.details === undefined ? [] : [error.details],
      cause: error.cause instanceof Error ? error.cause : undefined,
      nextRetryDelay:
        error instanceof RetryableError && error.retryAfterMs !== undefined ? error.retryAfterMs : undefined,
    });
  return error;
}
