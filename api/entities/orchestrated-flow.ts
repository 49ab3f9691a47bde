import { z } from 'zod';
import { DEFAULT_MAX_CONCURRENT_STEPS } from '../../domain/flow-types';
import { cronProblem, isIanaTimeZone } from '../../domain/schedule';
import type { Prisma } from '../../prisma/client';
import {
  DEFAULT_CATCHUP_WINDOW_MS,
  MAX_CATCHUP_WINDOW_MS,
  MIN_CATCHUP_WINDOW_MS,
  OVERLAP_POLICIES,
  temporalCronProblem,
} from '../schedules/spec';
import { guid, guidList, typeError } from '../validation';
import { baseCreate, entityDto, baseInput, baseOutput, baseUpdate } from './base';
import { ENTITY_TABLES, type EntityDefinition } from './definition';

/** The engine's limit on a run's steps running at once when the flow sets none (workflows/interpreter.ts). */
const MAX_CONCURRENT_STEPS = 1000;

const input = z
  .strictObject({
    ...baseInput,
    workflowId: guid,
    assignmentIds: guidList.default([]),
    cronExpression: z
      .string()
      .trim()
      .max(200)
      .nullish()
      .transform((value) => (value ? value : null))
      .superRefine((value, ctx) => {
        const problem = value ? (cronProblem(value) ?? temporalCronProblem(value)) : undefined;
        if (problem) ctx.addIssue({ code: 'custom', message: problem, params: { rule: 'cron' } });
      }),
    isScheduleEnabled: z.boolean().default(false),
    timezone: z
      .string()
      .trim()
      .max(100)
      .nullish()
      .transform((value) => (value ? value : null))
      .refine((value) => value === null || isIanaTimeZone(value), {
        error: 'must be an IANA time zone such as Europe/Paris or UTC',
        params: { rule: 'ianaTimeZone' },
      }),
    overlapPolicy: z
      .enum(OVERLAP_POLICIES, { error: `must be one of ${OVERLAP_POLICIES.join(', ')}` })
      .default('Skip')
      .meta({
        description: 'What the schedule does when a run is due while the previous one is still open.',
      }),
    catchupWindowMs: z
      .number(typeError('an integer number of milliseconds'))
      .int({ error: 'must be an integer number of milliseconds' })
      .min(MIN_CATCHUP_WINDOW_MS, { error: `must be at least ${MIN_CATCHUP_WINDOW_MS} (10 seconds)` })
      .max(MAX_CATCHUP_WINDOW_MS, { error: `must be at most ${MAX_CATCHUP_WINDOW_MS} (7 days)` })
      .default(DEFAULT_CATCHUP_WINDOW_MS)
      .meta({
        description:
          'How late a run missed while Temporal was unavailable may still start (default one minute); ' +
          'older ones are skipped (a backfill can run them).',
      }),
    maxConcurrentSteps: z
      .number(typeError('an integer'))
      .int({ error: 'must be an integer' })
      .min(1, { error: 'must be at least 1' })
      .max(MAX_CONCURRENT_STEPS, { error: `must be at most ${MAX_CONCURRENT_STEPS}` })
      .nullish()
      .meta({
        description:
          `Steps (and for-each items) of a run running at once; absent: the engine's default, ` +
          `${DEFAULT_MAX_CONCURRENT_STEPS}. Read when a run starts.`,
      }),
  })
  .superRefine((flow, ctx) => {
    if (flow.isScheduleEnabled && !flow.cronExpression)
      ctx.addIssue({
        code: 'custom',
        path: ['isScheduleEnabled'],
        message: 'a schedule can only be enabled with a cronExpression',
        params: { rule: 'requiresCronExpression' },
      });
  });
const output = z.object({
  ...baseOutput,
  workflowId: z.guid(),
  assignmentIds: z.array(z.guid()),
  cronExpression: z.string().nullable(),
  isScheduleEnabled: z.boolean(),
  timezone: z.string().nullable(),
  overlapPolicy: z.enum(OVERLAP_POLICIES),
  catchupWindowMs: z.number().int(),
  maxConcurrentSteps: z.number().int().nullable(),
});

type Input = z.output<typeof input>;
const include = { assignments: { orderBy: { position: 'asc' } } } as const;
/** A stored flow with its assignment links, as the CRUD reads and writes it. */
export type OrchestratedFlowRow = Prisma.OrchestratedFlowGetPayload<{ include: typeof include }>;
type Row = OrchestratedFlowRow;

const columns = (i: Input) => ({
  workflowId: i.workflowId,
  cronExpression: i.cronExpression,
  isScheduleEnabled: i.isScheduleEnabled,
  timezone: i.timezone,
  overlapPolicy: i.overlapPolicy,
  catchupWindowMs: i.catchupWindowMs,
  maxConcurrentSteps: i.maxConcurrentSteps ?? null,
});
const links = (i: Input) => i.assignmentIds.map((assignmentId, position) => ({ assignmentId, position }));

export const orchestratedFlowEntity: EntityDefinition<Input, Row, z.output<typeof output>> = {
  name: 'OrchestratedFlow',
  table: ENTITY_TABLES.OrchestratedFlow,
  summary:
    'A runnable flow: a workflow with its assignments, optionally on a cron schedule (a Temporal Schedule kept in ' +
    'step with every write; see /api/OrchestratedFlow/{id}/schedule).',
  input,
  output,
  model: (db) => db.orchestratedFlow,
  include,
  idListSql: {
    relation: 'assignments',
    table: 'orchestrated_flow_assignment',
    owner: 'orchestrated_flow_id',
    columns: { assignmentId: 'assignment_id' },
  },
  toDto: (row) =>
    entityDto(row, {
      workflowId: row.workflowId,
      assignmentIds: row.assignments.map((a) => a.assignmentId),
      cronExpression: row.cronExpression,
      isScheduleEnabled: row.isScheduleEnabled,
      timezone: row.timezone,
      overlapPolicy: row.overlapPolicy,
      catchupWindowMs: row.catchupWindowMs,
      maxConcurrentSteps: row.maxConcurrentSteps,
    }),
  createData: (i, actor) => ({ ...baseCreate(i, actor), ...columns(i), assignments: { create: links(i) } }),
  updateData: (i, actor) => ({
    ...baseUpdate(i, actor),
    ...columns(i),
    assignments: { deleteMany: {}, create: links(i) },
  }),
  references: (i) => [
    { field: 'workflowId', ids: [i.workflowId], targets: ['Workflow'] },
    { field: 'assignmentIds', ids: i.assignmentIds, targets: ['Assignment'] },
  ],
  referrers: () => Promise.resolve([]),
  lookups: [
    {
      segment: 'workflow',
      param: 'workflowId',
      summary: 'Flows that run a workflow',
      where: (workflowId) => ({ workflowId }),
    },
    {
      segment: 'assignment',
      param: 'assignmentId',
      summary: 'Flows that include an assignment',
      where: (assignmentId) => ({ assignments: { some: { assignmentId } } }),
    },
  ],
};
