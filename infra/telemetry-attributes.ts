/** Span attributes that let a trace be found by what users know about a run (e.g. Jaeger's tag search). */
export const CORRELATION_ID_SPAN_ATTRIBUTE = 'flow.correlation_id';
export const ORCHESTRATED_FLOW_ID_SPAN_ATTRIBUTE = 'flow.orchestrated_flow_id';
export const STEP_ID_SPAN_ATTRIBUTE = 'flow.step_id';
export const PROCESSOR_SPAN_ATTRIBUTE = 'flow.processor';
