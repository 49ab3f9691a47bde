/**
 * The interpreter's run-metrics interceptor (registered by every orchestrator worker, bundle and replay through
 * `interceptors.workflowModules`, see `workflowInterceptorModules`): the run's final status handed to the worker
 * through a sink, never during replay. It issues no commands, so it changes no history.
 *
 * With tracing on, the worker also registers Temporal's OpenTelemetry workflow interceptors: a `RunWorkflow` span
 * continuing the starter's trace (a scheduled run begins its own) and the context passed to every step's activity.
 * They record spans even when nothing exports them (measured: about half again the CPU per run at saturation), so
 * they are left out while tracing is off; they issue no commands either, so workers may differ in this.
 */
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

export const interceptors = (): WorkflowInterceptors => ({ inbound: [new RunMetricsInterceptor()] });
