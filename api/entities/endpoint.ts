import { z } from 'zod';
import type { Prisma } from '../../prisma/client';
import { MASK } from '../masking';
import { guid, typeError } from '../validation';
import { baseCreate, entityDto, baseInput, baseOutput, baseUpdate } from './base';
import { ENTITY_TABLES, type Db, type EntityDefinition, type ModelDelegate } from './definition';

/**
 * Address and Delivery share one shape: a connection string, string-to-string configuration and an optional schema.
 * Address is where a step reads from or calls; Delivery is where a step delivers to.
 */
const input = z.strictObject({
  ...baseInput,
  connectionString: z
    .string(typeError('a string'))
    .trim()
    .min(1, { error: 'is required', abort: true })
    .max(2000, { error: 'must be at most 2000 characters' })
    .meta({ description: 'Where the endpoint is: a URL, a path, a connection string.' }),
  configuration: z
    .record(z.string(), z.string({ error: 'configuration values must be strings' }))
    .default({}),
  schemaId: guid.nullish(),
});
const output = z.object({
  ...baseOutput,
  connectionString: z.string(),
  configuration: z.record(z.string(), z.string()),
  schemaId: z.guid().nullable(),
});

type Input = z.output<typeof input>;
type Row = Prisma.AddressGetPayload<object>;

const columns = (i: Input) => ({
  connectionString: i.connectionString,
  configuration: i.configuration,
  schemaId: i.schemaId ?? null,
});

function endpointEntity(
  name: 'Address' | 'Delivery',
  summary: string,
  model: (db: Db) => ModelDelegate,
): EntityDefinition<Input, Row, z.output<typeof output>> {
  return {
    name,
    table: ENTITY_TABLES[name],
    summary,
    input,
    output,
    keyHasConnectionString: true,
    model,
    toDto: (row) =>
      entityDto(row, {
        connectionString: row.connectionString,
        configuration: row.configuration as Record<string, string>,
        schemaId: row.schemaId,
      }),
    maskSecrets: (dto, masker) => ({
      ...dto,
      connectionString: masker.maskConnectionString(dto.connectionString),
      configuration: masker.maskConfiguration(dto.configuration),
    }),
    restoreMasked: (i, before, masker) => {
      const stored = before.configuration as Record<string, string>;
      return {
        ...i,
        connectionString:
          i.connectionString === masker.maskConnectionString(before.connectionString) &&
          i.connectionString !== before.connectionString
            ? before.connectionString
            : i.connectionString,
        configuration: Object.fromEntries(
          Object.entries(i.configuration).map(([key, value]) => [
            key,
            value === MASK && masker.isSecretKey(key) && stored[key] !== undefined ? stored[key] : value,
          ]),
        ),
      };
    },
    createData: (i, actor) => ({ ...baseCreate(i, actor), ...columns(i) }),
    updateData: (i, actor) => ({ ...baseUpdate(i, actor), ...columns(i) }),
    references: (i) => (i.schemaId ? [{ field: 'schemaId', ids: [i.schemaId], targets: ['Schema'] }] : []),
    referrers: async (db, id) =>
      (
        await db.assignmentEntity.findMany({
          where: name === 'Address' ? { addressId: id } : { deliveryId: id },
          include: { assignment: true },
        })
      ).map(({ assignment: a }) => ({
        entity: 'Assignment' as const,
        id: a.id,
        name: a.name,
        version: a.version,
        field: 'entityIds',
      })),
  };
}

export const addressEntity = endpointEntity(
  'Address',
  'Where a step reads from or what it calls (URL, path, connection string).',
  (db) => db.address,
);
export const deliveryEntity = endpointEntity(
  'Delivery',
  'Where a step delivers its output.',
  (db) => db.delivery,
);
