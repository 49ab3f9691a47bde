/** The task queue of the interpreter workflow. */
export const ORCHESTRATOR_TASK_QUEUE = 'flow-orchestrator';

/**
 * The task queue a processor's activities run on, derived from its name and version, e.g.
 * `processor/http-request/1.0.0`. Every worker hosting that processor version polls it. Pure: safe in workflows.
 */
export function processorTaskQueue(name: string, version: string): string {
  return `processor/${name}/${version}`;
}

/** The interpreter's workflow type, as clients and schedules start it. */
export const FLOW_WORKFLOW_TYPE = 'flowInterpreter';

/** The interpreter's status query name. */
export const STATUS_QUERY = 'status';

/** The interpreter's Updates that pause and resume a run (validated: they say why they refuse). */
export const PAUSE_UPDATE = 'pause';
export const RESUME_UPDATE = 'resume';
/** Signal sent just before a stop: the stopped run compensates its succeeded steps before it ends. */
export const COMPENSATE_ON_STOP_SIGNAL = 'compensateOnStop';

/** Workflow ID of an orchestrated flow's manual runs: stable, so Temporal allows one open manual run per flow. */
export function manualRunWorkflowId(orchestratedFlowId: string): string {
  return `flow-${orchestratedFlowId}`;
}
