import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { StepInvocation, StepResult } from '../../domain/flow-types';
import type { ProcessorActivity } from './processor-activity';

/** The failure detail that records on which attempt a step failed (always the last detail). */
export interface AttemptDetail {
  attempt: number;
}

function withAttempt(error: unknown, attempt: number): unknown {
  if (error instanceof CancelledFailure || Context.current().cancellationSignal.aborted) return error;
  if (error instanceof ApplicationFailure)
    return ApplicationFailure.create({
      message: error.message,
      type: error.type ?? undefined,
      nonRetryable: error.nonRetryable ?? false,
      details: [...(error.details ?? []), { attempt } satisfies AttemptDetail],
      cause: error.cause instanceof Error ? error.cause : undefined,
      // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment -- Duration comes from `ms` types the linter cannot resolve
      nextRetryDelay: error.nextRetryDelay,
    });
  if (error instanceof Error)
    return ApplicationFailure.create({
      message: error.message,
      type: error.name,
      nonRetryable: false,
      details: [{ attempt } satisfies AttemptDetail],
      cause: error,
    });
  return error;
}

/**
 * The activity the interpreter schedules: the processor's output together with the attempt that produced it, and
 * on failure the attempt as the failure's last detail — so a run's status can say how many attempts a step took.
 */
export function asStepActivity(
  activity: ProcessorActivity,
): (invocation: StepInvocation) => Promise<StepResult> {
  return async function stepActivity(invocation: StepInvocation): Promise<StepResult> {
    const { attempt } = Context.current().info;
    try {
      return { output: await activity(invocation), attempt };
    } catch (error) {
      throw withAttempt(error, attempt);
    }
  };
}
