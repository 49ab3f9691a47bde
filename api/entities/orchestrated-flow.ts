import { z } from 'zod';
import { cronProblem, isIanaTimeZone } from '../../domain/schedule';
import type { Prisma } from '../../prisma/client';
import { guid, guidList } from '../validation';
import { baseCreate, baseDto, baseInput, baseOutput, baseUpdate } from './base';
import type { EntityDefinition } from './definition';

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
        const problem = value ? cronProblem(value) : undefined;
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
});

type Input = z.output<typeof input>;
const include = { assignments: { orderBy: { position: 'asc' } } } as const;
type Row = Prisma.OrchestratedFlowGetPayload<{ include: typeof include }>;

const columns = (i: Input) => ({
  workflowId: i.workflowId,
  cronExpression: i.cronExpression,
  isScheduleEnabled: i.isScheduleEnabled,
  timezone: i.timezone,
});
const links = (i: Input) => i.assignmentIds.map((assignmentId, position) => ({ assignmentId, position }));

export const orchestratedFlowEntity: EntityDefinition<Input, Row, z.output<typeof output>> = {
  name: 'OrchestratedFlow',
  table: 'orchestrated_flow',
  summary: 'A runnable flow: a workflow with its assignments, optionally on a cron schedule.',
  input,
  output,
  model: (db) => db.orchestratedFlow,
  include,
  toDto: (row) => ({
    ...baseDto(row),
    workflowId: row.workflowId,
    assignmentIds: row.assignments.map((a) => a.assignmentId),
    cronExpression: row.cronExpression,
    isScheduleEnabled: row.isScheduleEnabled,
    timezone: row.timezone,
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
