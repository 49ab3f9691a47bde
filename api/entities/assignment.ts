import { z } from 'zod';
import type { Prisma } from '../../prisma/client';
import { guid, nonEmptyGuidList } from '../validation';
import { baseCreate, entityDto, baseInput, baseOutput, baseUpdate } from './base';
import { ENTITY_TABLES, type Db, type EntityDefinition } from './definition';
import { existingIds } from './references';

const input = z.strictObject({
  ...baseInput,
  stepId: guid,
  entityIds: nonEmptyGuidList.meta({ description: 'Addresses and/or Deliveries assigned to the step.' }),
});
const output = z.object({ ...baseOutput, stepId: z.guid(), entityIds: z.array(z.guid()) });

type Input = z.output<typeof input>;
const include = { entities: { orderBy: { position: 'asc' } } } as const;
type Row = Prisma.AssignmentGetPayload<{ include: typeof include }>;

/** Each entity ID is an Address or a Delivery; the join row records which, so both get a foreign key. */
async function entityRows(db: Db, ids: readonly string[]) {
  const addresses = await existingIds(db, 'Address', ids);
  return ids.map((id, position) =>
    addresses.has(id)
      ? { position, addressId: id, deliveryId: null }
      : { position, addressId: null, deliveryId: id },
  );
}

export const assignmentEntity: EntityDefinition<Input, Row, z.output<typeof output>> = {
  name: 'Assignment',
  table: ENTITY_TABLES.Assignment,
  summary: 'Links a step to the Addresses and Deliveries it reads from and delivers to.',
  input,
  output,
  model: (db) => db.assignment,
  include,
  idListSql: {
    relation: 'entities',
    table: 'assignment_entity',
    owner: 'assignment_id',
    columns: { addressId: 'address_id', deliveryId: 'delivery_id' },
  },
  toDto: (row) =>
    entityDto(row, {
      stepId: row.stepId,
      entityIds: row.entities.map((e) => (e.addressId ?? e.deliveryId)!),
    }),
  createData: async (i, actor, db) => ({
    ...baseCreate(i, actor),
    stepId: i.stepId,
    entities: { create: await entityRows(db, i.entityIds) },
  }),
  updateData: async (i, actor, db) => ({
    ...baseUpdate(i, actor),
    stepId: i.stepId,
    entities: { deleteMany: {}, create: await entityRows(db, i.entityIds) },
  }),
  references: (i) => [
    { field: 'stepId', ids: [i.stepId], targets: ['Step'] },
    { field: 'entityIds', ids: i.entityIds, targets: ['Address', 'Delivery'] },
  ],
  referrers: async (db, id) =>
    (
      await db.orchestratedFlowAssignment.findMany({
        where: { assignmentId: id },
        include: { orchestratedFlow: true },
      })
    ).map(({ orchestratedFlow: f }) => ({
      entity: 'OrchestratedFlow' as const,
      id: f.id,
      name: f.name,
      version: f.version,
      field: 'assignmentIds',
    })),
  lookups: [
    { segment: 'step', param: 'stepId', summary: 'Assignments of a step', where: (stepId) => ({ stepId }) },
    {
      segment: 'entity',
      param: 'entityId',
      summary: 'Assignments that include an Address or Delivery',
      where: (entityId) => ({
        entities: { some: { OR: [{ addressId: entityId }, { deliveryId: entityId }] } },
      }),
    },
  ],
};
