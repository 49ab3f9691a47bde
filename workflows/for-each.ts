/**
 * For-each steps (issue 13 §3): one activity per item, `<stepId>/<index>`, at most `maxParallel` at once and never
 * more than the run's own concurrency gate allows. Deterministic; used by the interpreter.
 */
import {
  CancellationScope,
  condition,
  isCancellation,
  scheduleActivity,
  type ActivityOptions,
} from '@temporalio/workflow';
import {
  FOR_EACH_DEFAULT_MAX_PARALLEL,
  type ForEachProgress,
  type ForEachSpec,
  type StepError,
  type StepInvocation,
  type StepResult,
} from '../domain/flow-types';
import { attemptsOf, stepError } from './failures';

/** The run's shared limit on activities at once (and its pause): items wait on it like steps do. */
export interface ActivityGate {
  /** True when another activity may start now (not paused, under the run's limit). */
  open(): boolean;
  acquire(): void;
  release(): void;
}

export type ForEachOutcome =
  | { status: 'Succeeded'; output: unknown[]; attempts: number }
  | { status: 'Failed'; error: StepError; attempts: number }
  | { status: 'Cancelled'; attempts: number };

/**
 * Runs `invocation` once per item and gathers the outputs in item order. `failFast` (default): the first failed item
 * cancels the others and fails the step with its error; `collect`: every item runs, and the step fails when any did,
 * its error listing the failed indexes. A stop of the run cancels the items and answers Cancelled.
 */
export async function runForEach(
  spec: ForEachSpec,
  items: readonly unknown[],
  invocation: StepInvocation,
  options: ActivityOptions & { activityType: string },
  gate: ActivityGate,
  onProgress: (progress: ForEachProgress) => void,
): Promise<ForEachOutcome> {
  const total = items.length;
  const maxParallel = spec.maxParallel ?? FOR_EACH_DEFAULT_MAX_PARALLEL;
  const failFast = (spec.failurePolicy ?? 'failFast') === 'failFast';
  const maximumAttempts = options.retry?.maximumAttempts ?? 1;
  const outputs: unknown[] = new Array<unknown>(total).fill(null);
  const failures: Array<{ index: number; error: StepError }> = [];
  const progress: ForEachProgress = { total, done: 0, failed: 0, running: 0 };
  let attempts = 0;
  let stopped = false;
  const scope = new CancellationScope();
  const { activityType, ...activityOptions } = options;

  const runItem = async (index: number): Promise<void> => {
    try {
      const result = await scheduleActivity<StepResult>(
        activityType,
        [{ ...invocation, input: items[index], item: { index, total } }],
        {
          ...activityOptions,
          activityId: `${invocation.step.id}/${index}`,
          summary: `${invocation.step.name} [${index}]`,
        },
      );
      outputs[index] = result.output;
      attempts = Math.max(attempts, result.attempt);
      progress.done++;
    } catch (error) {
      if (isCancellation(error)) {
        // Cancelled by a failed sibling (failFast) or by a stop of the run.
        if (failures.length === 0) stopped = true;
        return;
      }
      attempts = Math.max(attempts, attemptsOf(error, maximumAttempts));
      failures.push({ index, error: stepError(error) });
      progress.failed++;
      if (failFast) scope.cancel();
    }
  };

  const running: Array<Promise<void>> = [];
  try {
    await scope.run(async () => {
      for (let index = 0; index < total; index++) {
        await condition(() => progress.running < maxParallel && gate.open());
        gate.acquire();
        progress.running++;
        onProgress({ ...progress });
        running.push(
          runItem(index).finally(() => {
            gate.release();
            progress.running--;
            onProgress({ ...progress });
          }),
        );
      }
      await Promise.all(running);
    });
  } catch (error) {
    if (!isCancellation(error)) throw error;
    // The dispatcher was cancelled (failFast or a stop): wait for the items in flight to settle.
    await CancellationScope.nonCancellable(() => Promise.all(running));
    if (failures.length === 0) stopped = true;
  }

  if (failures.length > 0) {
    failures.sort((a, b) => a.index - b.index);
    if (failFast) {
      const [first] = failures;
      return {
        status: 'Failed',
        attempts,
        error: {
          message: `item ${first!.index} of ${total} failed: ${first!.error.message}`,
          ...(first!.error.type ? { type: first!.error.type } : {}),
          details: { failedIndexes: failures.map((f) => f.index), errors: failures },
        },
      };
    }
    const indexes = failures.map((f) => f.index);
    return {
      status: 'Failed',
      attempts,
      error: {
        message: `${indexes.length} of ${total} items failed: ${indexes.join(', ')}`,
        type: 'ForEachFailed',
        details: { failedIndexes: indexes, errors: failures },
      },
    };
  }
  if (stopped) return { status: 'Cancelled', attempts };
  return { status: 'Succeeded', output: outputs, attempts };
}
