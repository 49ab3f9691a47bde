/** Reading activity failures into step states. Deterministic; used by the interpreter. */
import { RetryState } from '@temporalio/common';
import { ActivityFailure, ApplicationFailure, TimeoutFailure } from '@temporalio/workflow';
import type { StepError } from '../domain/flow-types';

/** The root failure under an activity failure (its `cause`), or the error itself. */
function rootOf(error: unknown): unknown {
  return error instanceof ActivityFailure && error.cause ? error.cause : error;
}

/** A step's error for status: message, failure type and structured details (e.g. schema violations). */
export function stepError(error: unknown): StepError {
  const root = rootOf(error);
  if (root instanceof ApplicationFailure) {
    const detail: unknown = root.details?.[0];
    const problems = detail && typeof detail === 'object' ? (detail as { problems?: unknown }).problems : undefined;
    return { message: root.message, ...(root.type ? { type: root.type } : {}), ...(problems ? { details: problems } : {}) };
  }
  if (root instanceof TimeoutFailure) return { message: root.message || 'the step timed out', type: `Timeout.${String(root.timeoutType)}` };
  if (root instanceof Error) return { message: root.message, type: root.name };
  return { message: String(root) };
}

/**
 * How many attempts a failed step made: the processor reports its attempt in the failure's details
 * (`{ attempt }`); otherwise all attempts were used when retries ran out, else one.
 */
export function attemptsOf(error: unknown, maximumAttempts: number): number {
  const root = rootOf(error);
  if (root instanceof ApplicationFailure) {
    const detail: unknown = root.details?.[0];
    const attempt = detail && typeof detail === 'object' ? (detail as { attempt?: unknown }).attempt : undefined;
    if (typeof attempt === 'number') return attempt;
  }
  if (error instanceof ActivityFailure && error.retryState === RetryState.MAXIMUM_ATTEMPTS_REACHED) return maximumAttempts;
  return 1;
}
