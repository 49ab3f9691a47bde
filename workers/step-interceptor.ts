import { trace } from '@opentelemetry/api';
import type { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, Next } from '@temporalio/worker';
import type { StepInvocation } from '../domain/flow-types';
import type { AttemptStatus, WorkerMetrics } from '../infra/metrics';
import {
  CORRELATION_ID_SPAN_ATTRIBUTE,
  ORCHESTRATED_FLOW_ID_SPAN_ATTRIBUTE,
  PROCESSOR_SPAN_ATTRIBUTE,
  STEP_ID_SPAN_ATTRIBUTE,
} from '../infra/telemetry-attributes';

/**
 * Around every step attempt a processor worker runs: tags the attempt's span (opened by Temporal's OpenTelemetry
 * interceptor, which runs outside this one) with the run's correlation ID, flow and step, and records
 * `flow_step_duration_seconds` and `flow_step_attempts_total`.
 */
export class StepAttemptInterceptor implements ActivityInboundCallsInterceptor {
  constructor(
    private readonly ctx: Context,
    private readonly processor: string,
    private readonly metrics: WorkerMetrics | undefined,
  ) {}

  async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>) {
    const invocation = input.args[0] as Partial<StepInvocation> | undefined;
    const span = trace.getActiveSpan();
    if (span && invocation?.run && invocation.step) {
      span.setAttribute(CORRELATION_ID_SPAN_ATTRIBUTE, invocation.run.correlationId);
      span.setAttribute(ORCHESTRATED_FLOW_ID_SPAN_ATTRIBUTE, invocation.run.orchestratedFlowId);
      span.setAttribute(STEP_ID_SPAN_ATTRIBUTE, invocation.step.id);
      span.setAttribute(PROCESSOR_SPAN_ATTRIBUTE, this.processor);
    }
    const started = performance.now();
    let status: AttemptStatus = 'failed';
    try {
      const result = await next(input);
      status = 'completed';
      return result;
    } catch (error) {
      // A stop, or the worker shutting down: the attempt was cancelled, not failed.
      if (error instanceof CancelledFailure || this.ctx.cancellationSignal.aborted) status = 'cancelled';
      throw error;
    } finally {
      this.metrics?.stepAttempt(this.processor, status, (performance.now() - started) / 1000);
    }
  }
}
