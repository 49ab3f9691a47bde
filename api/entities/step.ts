import jsonata from 'jsonata';
import { z } from 'zod';
import {
  ENTRY_CONDITIONS,
  FOR_EACH_DEFAULT_MAX_PARALLEL,
  FOR_EACH_FAILURE_POLICIES,
  FOR_EACH_MAX_PARALLEL,
  type EntryCondition,
  type ForEachSpec,
} from '../../domain/flow-types';
import { Prisma } from '../../prisma/client';
import { ConflictError, ValidationError, type ProblemDetail } from '../errors';
import { guid, guidList, typeError } from '../validation';
import { baseCreate, entityDto, baseInput, baseOutput, baseUpdate } from './base';
import { ENTITY_TABLES, type EntityDefinition } from './definition';
import { lockStepGraph, workflowGraphProblems } from './workflow-graph';

/** Accepts a name or the spec's integer (0 PreviousSuccess, 1 PreviousFailure, 2 Always, 3 Never); yields the name. */
const entryCondition = z
  .union([z.enum(ENTRY_CONDITIONS), z.literal([0, 1, 2, 3])], {
    error: `must be one of ${ENTRY_CONDITIONS.join(', ')} or 0-3`,
  })
  .transform((value): EntryCondition => (typeof value === 'number' ? ENTRY_CONDITIONS[value] : value));

const MAX_MS = 365 * 24 * 3600 * 1000;
const millis = z.number().int().min(1).max(MAX_MS);

export const retryPolicy = z.strictObject({
  maximumAttempts: z.number().int().min(1).max(10_000).optional(),
  initialIntervalMs: millis.optional(),
  backoffCoefficient: z.number().min(1).max(100).optional(),
  maximumIntervalMs: millis.optional(),
  nonRetryableErrorTypes: z.array(z.string().min(1).max(200)).max(100).optional(),
});

export const stepTimeouts = z.strictObject({
  startToCloseMs: millis.optional(),
  scheduleToCloseMs: millis.optional(),
  heartbeatMs: millis.optional(),
});

/** `forEach.items` that is not an expression: one item per assigned Address / Delivery. */
const FOR_EACH_ASSIGNMENTS = 'assignments';

/** Why `expression` is not JSONata (the parser's message, with its position), or undefined when it parses. */
function jsonataProblem(expression: string): string | undefined {
  try {
    jsonata(expression);
    return undefined;
  } catch (error) {
    const e = error as { message?: unknown; position?: unknown };
    const message = typeof e.message === 'string' ? e.message : String(error);
    return typeof e.position === 'number'
      ? `is not a JSONata expression: ${message} (at character ${e.position})`
      : `is not a JSONata expression: ${message}`;
  }
}

export const forEachSpec = z
  .strictObject({
    items: z
      .string(typeError('a string'))
      .trim()
      .min(1, { error: 'is required', abort: true })
      .max(2000, { error: 'must be at most 2000 characters', abort: true })
      .superRefine((items, ctx) => {
        const problem = items === FOR_EACH_ASSIGNMENTS ? undefined : jsonataProblem(items);
        if (problem) ctx.addIssue({ code: 'custom', message: problem, params: { rule: 'jsonata' } });
      })
      .meta({
        description:
          'A JSONata expression over the step\'s input that yields the items, or "assignments" (one item per ' +
          'assigned Address / Delivery).',
      }),
    maxParallel: z
      .number(typeError('an integer'))
      .int({ error: 'must be an integer' })
      .min(1, { error: 'must be at least 1' })
      .max(FOR_EACH_MAX_PARALLEL, { error: `must be at most ${FOR_EACH_MAX_PARALLEL}` })
      .default(FOR_EACH_DEFAULT_MAX_PARALLEL)
      .meta({ description: `Items running at once (default ${FOR_EACH_DEFAULT_MAX_PARALLEL}).` }),
    failurePolicy: z
      .enum(FOR_EACH_FAILURE_POLICIES, { error: `must be one of ${FOR_EACH_FAILURE_POLICIES.join(', ')}` })
      .default('failFast')
      .meta({
        description: 'failFast: the first failed item cancels the rest; collect: every item runs.',
      }),
  })
  .meta({ description: "Runs the step's processor once per item (for-each fan-out)." });

export const compensationSpec = z
  .strictObject({
    processorId: guid,
    configuration: z
      .record(z.string(), z.unknown())
      .nullish()
      // Absent is null, as it reads back (so a bundle that leaves it out plans as unchanged).
      .transform((configuration) => configuration ?? null)
      .meta({ description: 'Configuration of the compensating processor.' }),
  })
  .meta({
    description: "What undoes the step's work when the run fails (saga): a processor and its configuration.",
  });

const input = z.strictObject({
  ...baseInput,
  processorId: guid,
  nextStepIds: guidList.default([]),
  entryCondition: entryCondition.default('PreviousSuccess'),
  configuration: z
    .record(z.string(), z.unknown())
    .nullish()
    .meta({ description: 'Processor configuration.' }),
  retryPolicy: retryPolicy.nullish(),
  timeouts: stepTimeouts.nullish(),
  forEach: forEachSpec.nullish(),
  compensation: compensationSpec.nullish(),
});
const output = z.object({
  ...baseOutput,
  processorId: z.guid(),
  nextStepIds: z.array(z.guid()),
  entryCondition: z.enum(ENTRY_CONDITIONS),
  configuration: z.record(z.string(), z.unknown()).nullable(),
  retryPolicy: retryPolicy.nullable(),
  timeouts: stepTimeouts.nullable(),
  forEach: z
    .object({
      items: z.string(),
      maxParallel: z.number().int(),
      failurePolicy: z.enum(FOR_EACH_FAILURE_POLICIES),
    })
    .nullable(),
  compensation: z
    .object({ processorId: z.guid(), configuration: z.record(z.string(), z.unknown()).nullable() })
    .nullable(),
});

type Input = z.output<typeof input>;
const include = { next: { orderBy: { position: 'asc' } } } as const;
type Row = Prisma.StepGetPayload<{ include: typeof include }>;

const json = (value: unknown) => (value == null ? null : value) as Prisma.InputJsonValue;
/** New columns store SQL NULL when absent (a CHECK refuses a compensation configuration without its processor). */
const jsonOrDbNull = (value: object | null | undefined) =>
  value == null ? Prisma.DbNull : (value as Prisma.InputJsonObject);
const columns = (i: Input) => ({
  processorId: i.processorId,
  entryCondition: i.entryCondition,
  configuration: json(i.configuration),
  retryPolicy: json(i.retryPolicy),
  timeouts: json(i.timeouts),
  forEach: jsonOrDbNull(i.forEach),
  compensationProcessorId: i.compensation?.processorId ?? null,
  compensationConfiguration: jsonOrDbNull(i.compensation?.configuration),
});

/** The stored for-each spec of a step, or null. */
const forEachOf = (row: { forEach: unknown }) => (row.forEach as Required<ForEachSpec> | null) ?? null;

/** The stored compensation of a step, or null. */
function compensationOf(row: {
  compensationProcessorId: string | null;
  compensationConfiguration: unknown;
}): { processorId: string; configuration: Record<string, unknown> | null } | null {
  if (row.compensationProcessorId === null) return null;
  return {
    processorId: row.compensationProcessorId,
    configuration: (row.compensationConfiguration as Record<string, unknown> | null) ?? null,
  };
}
const edges = (i: Input) => i.nextStepIds.map((nextStepId, position) => ({ nextStepId, position }));

export const stepEntity: EntityDefinition<Input, Row, z.output<typeof output>> = {
  name: 'Step',
  table: ENTITY_TABLES.Step,
  summary: 'Steps of a workflow: a processor, the steps that follow, and the condition under which it runs.',
  input,
  output,
  model: (db) => db.step,
  include,
  idListSql: {
    relation: 'next',
    table: 'step_next',
    owner: 'step_id',
    columns: { nextStepId: 'next_step_id' },
  },
  toDto: (row) =>
    entityDto(row, {
      processorId: row.processorId,
      nextStepIds: row.next.map((n) => n.nextStepId),
      entryCondition: row.entryCondition,
      configuration: (row.configuration as Record<string, unknown> | null) ?? null,
      retryPolicy: (row.retryPolicy as z.output<typeof retryPolicy> | null) ?? null,
      timeouts: (row.timeouts as z.output<typeof stepTimeouts> | null) ?? null,
      forEach: forEachOf(row),
      compensation: compensationOf(row),
    }),
  createData: (i, actor) => ({ ...baseCreate(i, actor), ...columns(i), next: { create: edges(i) } }),
  updateData: (i, actor) => ({
    ...baseUpdate(i, actor),
    ...columns(i),
    next: { deleteMany: {}, create: edges(i) },
  }),
  references: (i) => [
    { field: 'processorId', ids: [i.processorId], targets: ['Processor'] },
    { field: 'nextStepIds', ids: i.nextStepIds, targets: ['Step'] },
    {
      field: 'compensation.processorId',
      ids: i.compensation ? [i.compensation.processorId] : [],
      targets: ['Processor'],
    },
  ],
  validate: async (db, i, id) => {
    if (id !== undefined && i.nextStepIds.includes(id)) {
      const index = i.nextStepIds.indexOf(id);
      throw new ValidationError('A step cannot be its own next step', [
        {
          field: `nextStepIds[${index}]`,
          rule: 'acyclic',
          message: 'a step cannot list itself as a next step',
        },
      ]);
    }
    if (id !== undefined) await lockStepGraph(db);
  },
  afterUpdate: async (db, id) => {
    // An edge change must keep every workflow that contains the step a valid DAG.
    const memberships = await db.workflowStep.findMany({
      where: { stepId: id },
      include: { workflow: { include: { steps: { orderBy: { position: 'asc' } } } } },
    });
    const details: ProblemDetail[] = [];
    for (const { workflow } of memberships) {
      const problems = await workflowGraphProblems(
        db,
        workflow.steps.map((s) => s.stepId),
      );
      for (const problem of problems)
        details.push({
          field: 'nextStepIds',
          rule: problem.rule,
          message: `workflow "${workflow.name}" (${workflow.id}) would become invalid: ${problem.message}`,
          workflowId: workflow.id,
        });
    }
    if (details.length > 0)
      throw new ConflictError(
        'WorkflowGraphConflict',
        'The change would make workflows that contain this step invalid',
        details,
      );
  },
  referrers: async (db, id) => {
    const [previous, workflows, assignments] = await Promise.all([
      db.stepNext.findMany({ where: { nextStepId: id }, include: { step: true } }),
      db.workflowStep.findMany({ where: { stepId: id }, include: { workflow: true } }),
      db.assignment.findMany({ where: { stepId: id } }),
    ]);
    return [
      ...previous.map(({ step }) => ({
        entity: 'Step' as const,
        id: step.id,
        name: step.name,
        version: step.version,
        field: 'nextStepIds',
      })),
      ...workflows.map(({ workflow: w }) => ({
        entity: 'Workflow' as const,
        id: w.id,
        name: w.name,
        version: w.version,
        field: 'stepIds',
      })),
      ...assignments.map((a) => ({
        entity: 'Assignment' as const,
        id: a.id,
        name: a.name,
        version: a.version,
        field: 'stepId',
      })),
    ];
  },
  lookups: [
    {
      segment: 'processor',
      param: 'processorId',
      summary: 'Steps executed by a processor',
      where: (processorId) => ({ processorId }),
    },
    {
      segment: 'nextstep',
      param: 'stepId',
      summary: 'Steps that list a step among their next steps',
      where: (stepId) => ({ next: { some: { nextStepId: stepId } } }),
    },
  ],
};
