import { randomUUID } from 'node:crypto';
import type { StepInvocation } from '../../domain/flow-types';

/** A step invocation with unique test IDs; override what the test is about. */
export function invocation(overrides: Partial<StepInvocation> = {}): StepInvocation {
  return {
    run: {
      workflowId: `wf-${randomUUID()}`,
      runId: randomUUID(),
      orchestratedFlowId: randomUUID(),
      orchestratedFlowName: 'test-flow',
      correlationId: `corr-${randomUUID()}`,
    },
    step: { id: randomUUID(), name: 'test-step' },
    input: null,
    previous: [],
    assignments: [],
    configuration: {},
    ...overrides,
  };
}
