import { z } from 'zod';
import type { Prisma } from '../../prisma/client';
import { ValidationError } from '../errors';
import { workflowStepIdList } from '../validation';
import { baseCreate, entityDto, baseInput, baseOutput, baseUpdate } from './base';
import { ENTITY_TABLES, type EntityDefinition } from './definition';
import { lockStepGraph, workflowGraphProblems } from './workflow-graph';

const input = z.strictObject({
  ...baseInput,
  stepIds: workflowStepIdList.meta({
    description: 'The steps of the DAG, in order (at most 10,000); next steps must stay inside.',
  }),
});
const output = z.object({ ...baseOutput, stepIds: z.array(z.guid()) });

type Input = z.output<typeof input>;
const include = { steps: { orderBy: { position: 'asc' } } } as const;
type Row = Prisma.WorkflowGetPayload<{ include: typeof include }>;

const members = (i: Input) => i.stepIds.map((stepId, position) => ({ stepId, position }));

export const workflowEntity: EntityDefinition<Input, Row, z.output<typeof output>> = {
  name: 'Workflow',
  table: ENTITY_TABLES.Workflow,
  summary: 'A DAG of steps: acyclic, with every next step inside the workflow.',
  input,
  output,
  model: (db) => db.workflow,
  include,
  idListSql: {
    relation: 'steps',
    table: 'workflow_step',
    owner: 'workflow_id',
    columns: { stepId: 'step_id' },
  },
  toDto: (row) => entityDto(row, { stepIds: row.steps.map((s) => s.stepId) }),
  createData: (i, actor) => ({ ...baseCreate(i, actor), steps: { create: members(i) } }),
  updateData: (i, actor) => ({ ...baseUpdate(i, actor), steps: { deleteMany: {}, create: members(i) } }),
  references: (i) => [{ field: 'stepIds', ids: i.stepIds, targets: ['Step'] }],
  validate: async (db, i) => {
    await lockStepGraph(db);
    const problems = await workflowGraphProblems(db, i.stepIds);
    if (problems.length > 0)
      throw new ValidationError(
        `The workflow's steps do not form a valid DAG: ${problems.map((p) => p.message).join('; ')}`,
        problems.map(({ message, ...problem }) => ({ field: 'stepIds', message, ...problem })),
      );
  },
  referrers: async (db, id) =>
    (await db.orchestratedFlow.findMany({ where: { workflowId: id } })).map((f) => ({
      entity: 'OrchestratedFlow' as const,
      id: f.id,
      name: f.name,
      version: f.version,
      field: 'workflowId',
    })),
};
