/** Reading activity failures into step states. Deterministic; used by the interpreter. */
import { RetryState } from '@temporalio/common';
import { ActivityFailure, ApplicationFailure, TimeoutFailure } from '@temporalio/workflow';
import type { StepError } from '../domain/flow-types';

/** The `{ attempt }` detail processor activities append to their failures. */
function isAttemptDetail(value: unknown): value is { attempt: number } {
  return (
    !!value &&
    typeof value === 'object' &&
    Object.keys(value).length === 1 &&
    typeof (value as { attempt?: unknown }).attempt === 'number'
  );
}

/** The root failure under an activity failure (its `cause`), or the error itself. */
function rootOf(error: unknown): unknown {
  return error instanceof ActivityFailure && error.cause ? error.cause : error;
}

/** A step's error for status: message, failure type and structured details (e.g. schema violations). */
export function stepError(error: unknown): StepError {
  const root = rootOf(error);
  if (root instanceof ApplicationFailure) {
    const details = (root.details ?? []).filter((d) => !isAttemptDetail(d));
    return {
      message: root.message,
      ...(root.type ? { type: root.type } : {}),
      ...(details.length > 0 ? { details: details.length === 1 ? details[0] : details } : {}),
    };
  }
  if (root instanceof TimeoutFailure)
    return { message: root.message || 'the step timed out', type: `Timeout.${String(root.timeoutType)}` };
  if (root instanceof Error) return { message: root.message, type: root.name };
  return { message: String(root) };
}

/**
 * How many attempts a failed step made: processor activities report it as the failure's last detail (`{ attempt }`,
 * see activities/sdk/step-result.ts); otherwise all attempts were used when retries ran out, else one.
 */
export function attemptsOf(error: unknown, maximumAttempts: number): number {
  const root = rootOf(error);
  if (root instanceof ApplicationFailure) {
    const last: unknown = root.details?.at(-1);
    if (isAttemptDetail(last)) return last.attempt;
  }
  if (error instanceof ActivityFailure && error.retryState === RetryState.MAXIMUM_ATTEMPTS_REACHED)
    return maximumAttempts;
  return 1;
}
