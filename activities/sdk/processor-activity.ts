import { performance } from 'node:perf_hooks';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Logger } from 'pino';
import { restorePreviousOutputs } from '../../domain/flow-run';
import type { StepInvocation } from '../../domain/flow-types';
import { isUnreadablePayload, PAYLOAD_UNREADABLE, UNREADABLE_MARKER } from '../../infra/payload-codec';
import {
  processorLabel,
  type ProcessorContext,
  type ProcessorDefinition,
  type ProcessorRunInfo,
} from './define-processor';
import { EgressGuard } from './egress';
import { offload, resolveRefs, type DataPlane } from './data-refs';
import { toActivityFailure } from './errors';
import { compileTargetValidator, schemaViolationFailure } from './schema-violation';

/** The schemas a processor's activity validates against: its Processor entity's stored Schema definitions. */
export interface ProcessorSchemas {
  input: unknown;
  output: unknown;
}

export interface ProcessorActivityDeps {
  logger: Logger;
  /**
   * The blob store and inline limit: references in a step's input, previous outputs and assignments are resolved
   * before the processor runs, and an output larger than the limit is stored and returned as a reference. Unset
   * (unit tests): data travels inline only.
   */
  data?: DataPlane;
  /** Default: the definition's own schemas (the worker passes the stored ones, see `workers/processor-worker.ts`). */
  schemas?: ProcessorSchemas;
  /** What `context.fetch` goes through. Default: a guard refusing every internal destination, allowing none. */
  egress?: EgressGuard;
}

/** The Temporal activity hosting a processor; registered under the processor's name. */
export type ProcessorActivity = (invocation: StepInvocation) => Promise<unknown>;

function errorSummary(error: unknown): { message: string; type?: string } {
  if (error instanceof Error)
    return { message: error.message, type: (error as { type?: string }).type ?? error.name };
  return { message: String(error) };
}

/**
 * Wraps a processor definition as a Temporal activity. Per call: validates `configuration` and `input` (a violation
 * is a non-retryable `SchemaViolation` failure naming the field and the rule), runs the processor with its context,
 * maps {@link NonRetryableError} / {@link RetryableError} to `ApplicationFailure`s, reports a cancellation as a
 * cancellation, and validates the output.
 *
 * @throws Error at creation when a schema does not compile (the worker refuses to start).
 */
export function createProcessorActivity<Input, Output, Configuration>(
  definition: ProcessorDefinition<Input, Output, Configuration>,
  deps: ProcessorActivityDeps,
): ProcessorActivity {
  const label = processorLabel(definition);
  const egress = deps.egress ?? new EgressGuard();
  const validators = {
    input: compileTargetValidator('input', deps.schemas?.input ?? definition.inputSchema),
    output: compileTargetValidator('output', deps.schemas?.output ?? definition.outputSchema),
    configuration: compileTargetValidator('configuration', definition.configurationSchema),
  };

  return async function processorActivity(invocation: StepInvocation): Promise<unknown> {
    // This worker lacks the key the invocation was encrypted under: no attempt can do better.
    if (isUnreadablePayload(invocation))
      throw ApplicationFailure.nonRetryable(invocation[UNREADABLE_MARKER], PAYLOAD_UNREADABLE);
    const activity = Context.current();
    const run: ProcessorRunInfo = {
      workflowId: invocation.run.workflowId,
      runId: invocation.run.runId,
      orchestratedFlowId: invocation.run.orchestratedFlowId,
      orchestratedFlowName: invocation.run.orchestratedFlowName,
      correlationId: invocation.run.correlationId,
      stepId: invocation.step.id,
      stepName: invocation.step.name,
      attempt: activity.info.attempt,
      activityId: activity.info.activityId,
      processor: label,
    };
    const log = deps.logger.child({
      processor: label,
      correlationId: run.correlationId,
      workflowId: run.workflowId,
      runId: run.runId,
      orchestratedFlowId: run.orchestratedFlowId,
      stepId: run.stepId,
      stepName: run.stepName,
      attempt: run.attempt,
    });

    // References become data before anything looks at the input (validation, the processor).
    const data = deps.data;
    const input = data ? await resolveRefs(invocation.input, data.store) : invocation.input;
    const resolved = {
      input,
      // Outputs the interpreter sent once (in input) go back into previous[]; the rest resolves like input.
      previous: restorePreviousOutputs(
        input,
        data
          ? ((await resolveRefs(invocation.previous, data.store)) as typeof invocation.previous)
          : invocation.previous,
      ),
      assignments: data
        ? ((await resolveRefs(invocation.assignments, data.store)) as typeof invocation.assignments)
        : invocation.assignments,
    };
    const configuration = invocation.configuration ?? {};
    for (const [target, value] of [
      ['configuration', configuration],
      ['input', resolved.input],
    ] as const) {
      const violations = validators[target](value);
      if (violations.length > 0) {
        log.warn(
          { target, violations: violations.map(({ field, rule }) => ({ field, rule })) },
          'schema violation',
        );
        throw schemaViolationFailure(target, label, violations);
      }
    }

    const context: ProcessorContext<Input, Configuration> = {
      input: resolved.input as Input,
      previous: resolved.previous,
      assignments: resolved.assignments,
      configuration: configuration as Configuration,
      ...(invocation.item ? { item: invocation.item } : {}),
      run,
      heartbeat: (details?: unknown) => activity.heartbeat(details),
      lastHeartbeatDetails: activity.info.heartbeatDetails as unknown,
      signal: activity.cancellationSignal,
      log,
      fetch: (url, init = {}) =>
        egress.fetch(url, {
          ...init,
          signal: init.signal
            ? AbortSignal.any([activity.cancellationSignal, init.signal])
            : activity.cancellationSignal,
        }),
    };
    const autoHeartbeat =
      definition.autoHeartbeatMs === undefined
        ? undefined
        : setInterval(() => activity.heartbeat(), definition.autoHeartbeatMs);
    const started = performance.now();
    let output: Output;
    try {
      log.debug('processor started');
      output = await definition.run(context);
    } catch (error) {
      const durationMs = Math.round(performance.now() - started);
      if (activity.cancellationSignal.aborted) {
        // Whatever the processor threw on abort (an AbortError, our reason), Temporal should see a cancellation.
        log.info({ durationMs }, 'processor cancelled');
        throw activity.cancellationSignal.reason ?? error;
      }
      log.warn({ err: errorSummary(error), durationMs }, 'processor failed');
      throw toActivityFailure(error);
    } finally {
      clearInterval(autoHeartbeat);
    }

    const violations = validators.output(output);
    if (violations.length > 0) {
      log.warn(
        { target: 'output', violations: violations.map(({ field, rule }) => ({ field, rule })) },
        'schema violation',
      );
      throw schemaViolationFailure('output', label, violations);
    }
    log.info({ durationMs: Math.round(performance.now() - started) }, 'processor completed');
    // Large outputs go to the blob store and travel as a reference.
    return data ? offload(output, data, { workflowId: run.workflowId, runId: run.runId }) : output;
  };
}
