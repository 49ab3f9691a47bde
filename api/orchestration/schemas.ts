/**
 * The shapes the run routes answer, for the OpenAPI document (and so for typed clients such as the console). The
 * interpreter builds these values (domain/flow-types.ts `RunSummary`); the types there are the source, these zod
 * schemas describe them, and `test/engine/semantics.test.ts` checks real answers against them (strict objects: no
 * field goes undocumented).
 */
import { z } from 'zod';
import {
  COMPENSATION_STATUSES,
  ENTRY_CONDITIONS,
  RUN_STATUSES,
  STEP_STATUSES,
} from '../../domain/flow-types';

const instant = z.iso.datetime({ offset: true });
const trigger = z.enum(['manual', 'schedule', 'rerun']);
const rerunOf = z
  .strictObject({ workflowId: z.string(), runId: z.string(), fromStepId: z.string().optional() })
  .meta({ description: 'The run this rerun repairs, and the step it started from.' });

const stepError = z.strictObject({
  message: z.string(),
  type: z.string().optional(),
  details: z.unknown().optional().meta({ description: 'Structured details, e.g. schema violations.' }),
});

export const stepDecisionView = z.strictObject({
  condition: z.enum(ENTRY_CONDITIONS),
  predecessors: z
    .array(z.strictObject({ stepId: z.string(), name: z.string(), status: z.enum(STEP_STATUSES) }))
    .meta({ description: "Each predecessor's state when the step was decided, in workflow order." }),
  outcome: z.enum(['Run', 'Skipped', 'Cancelled', 'Reused']),
  reason: z.string().meta({ description: 'Why, in words: e.g. `PreviousSuccess not met: "Fetch" Failed`.' }),
});

export const stepStateView = z.strictObject({
  stepId: z.string(),
  name: z.string(),
  processor: z.string().nullable().meta({ description: "`name@version` of the step's processor." }),
  status: z.enum(STEP_STATUSES),
  attempts: z.number().int(),
  startedAt: instant.optional(),
  completedAt: instant.optional(),
  output: z.unknown().optional().meta({
    description:
      'The output; a large one is a reference `{ $ref, size, contentType, href }` whose href downloads it.',
  }),
  error: stepError.optional(),
  reason: z.string().optional().meta({ description: 'Why the step was Skipped or Cancelled.' }),
  decision: stepDecisionView
    .optional()
    .meta({ description: 'How the step was decided (runs from v4 of the interpreter).' }),
  reusedFrom: z
    .strictObject({ workflowId: z.string(), runId: z.string() })
    .optional()
    .meta({ description: 'A rerun carried this state over from that run instead of running the step.' }),
  items: z
    .strictObject({
      total: z.number().int(),
      done: z.number().int(),
      failed: z.number().int(),
      running: z.number().int(),
    })
    .optional()
    .meta({ description: "A for-each step's items: how many in all, done, failed and running." }),
});

export const runView = z.strictObject({
  orchestratedFlowId: z.string(),
  orchestratedFlowName: z.string(),
  workflowId: z.string(),
  runId: z.string(),
  status: z.enum(RUN_STATUSES),
  trigger,
  correlationId: z.string(),
  startedAt: instant,
  completedAt: instant.optional(),
  completedSteps: z.number().int(),
  totalSteps: z.number().int(),
  currentSteps: z.array(z.string()).meta({ description: 'IDs of the Running steps.' }),
  steps: z.array(stepStateView),
  definition: z
    .object({
      orchestratedFlow: z.strictObject({ id: z.string(), version: z.string(), name: z.string() }),
      workflow: z.strictObject({ id: z.string(), version: z.string(), name: z.string() }),
      hash: z.string(),
    })
    .optional()
    .meta({ description: 'Which definition the run follows, once loaded.' }),
  unhandledFailures: z
    .array(z.string())
    .optional()
    .meta({ description: 'Step IDs whose failure nothing handled.' }),
  error: stepError.optional(),
  paused: z
    .strictObject({ by: z.string(), at: instant, reason: z.string().optional() })
    .optional()
    .meta({ description: 'While the run is Paused: who paused it, when and why.' }),
  rerunOf: rerunOf.optional(),
  compensation: z
    .strictObject({
      status: z.enum(COMPENSATION_STATUSES),
      steps: z.array(
        z.strictObject({
          stepId: z.string(),
          name: z.string(),
          status: z.enum(['Pending', 'Running', 'Succeeded', 'Failed']),
          attempts: z.number().int(),
          startedAt: instant.optional(),
          completedAt: instant.optional(),
          error: stepError.optional(),
        }),
      ),
    })
    .optional()
    .meta({
      description:
        'The saga: compensations of the succeeded steps, newest completion first, after a failure or a compensating stop.',
    }),
  segments: z
    .strictObject({ count: z.number().int().min(2) })
    .optional()
    .meta({
      description:
        'A long run that continued as new: how many Temporal executions (segments) it has so far. The run keeps its first run ID; steps are whole.',
    }),
});

export const runListItemView = z.strictObject({
  runId: z.string(),
  workflowId: z.string(),
  status: z.enum(RUN_STATUSES),
  trigger,
  correlationId: z.string().nullable(),
  startedAt: instant,
  completedAt: instant.nullable(),
  rerunOf: rerunOf.optional(),
  segments: z.number().int().min(2).optional().meta({
    description: 'A long run that continued as new: its segments so far (listed once, by its first run ID).',
  }),
});
