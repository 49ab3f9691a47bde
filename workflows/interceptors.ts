/**
 * The interpreter's workflow interceptors (registered by the orchestrator worker, the pre-built bundle and the
 * replay tests through `interceptors.workflowModules`):
 * - Temporal's OpenTelemetry interceptors: a `RunWorkflow` span continuing the starter's trace (a scheduled run,
 *   started without one, begins its own) and the trace context passed to every step's activity;
 * - run metrics: the run's final status handed to the worker through a sink, never during replay.
 * Neither issues commands, so adding them changes no history.
 */
import {
  OpenTelemetryInboundInterceptor,
  OpenTelemetryInternalsInterceptor,
  OpenTelemetryOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/workflow';
import {
  ContinueAsNew,
  isCancellation,
  proxySinks,
  TemporalFailure,
  type Next,
  type Sinks,
  type WorkflowExecuteInput,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInterceptors,
} from '@temporalio/workflow';
import type { FlowRunInput, RunStatus, RunTrigger } from '../domain/flow-types';

/** How a run ended, as the orchestrator's metrics count it. */
export type FinishedRunStatus = Extract<RunStatus, 'Completed' | 'Failed' | 'Cancelled'>;

export interface FlowMetricsSinks extends Sinks {
  flowMetrics: {
    runFinished(status: FinishedRunStatus, trigger: RunTrigger): void;
  };
}

const { flowMetrics } = proxySinks<FlowMetricsSinks>();

/** Reports the run's outcome. Errors that fail only the workflow task (bugs, non-determinism) retry: not counted. */
class RunMetricsInterceptor implements WorkflowInboundCallsInterceptor {
  async execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>) {
    const trigger = (input.args[0] as Partial<FlowRunInput> | undefined)?.trigger ?? 'manual';
    try {
      const result = await next(input);
      flowMetrics.runFinished('Completed', trigger);
      return result;
    } catch (error) {
      if (isCancellation(error)) flowMetrics.runFinished('Cancelled', trigger);
      else if (error instanceof TemporalFailure && !(error instanceof ContinueAsNew))
        flowMetrics.runFinished('Failed', trigger);
      throw error;
    }
  }
}

export const interceptors = (): WorkflowInterceptors => ({
  inbound: [new OpenTelemetryInboundInterceptor(), new RunMetricsInterceptor()],
  outbound: [new OpenTelemetryOutboundInterceptor()],
  internals: [new OpenTelemetryInternalsInterceptor()],
});
