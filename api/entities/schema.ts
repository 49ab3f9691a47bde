import { z } from 'zod';
import { checkJsonSchema } from '../../domain/json-schema';
import type { Prisma } from '../../prisma/client';
import { baseCreate, entityDto, baseInput, baseOutput, baseUpdate } from './base';
import { ENTITY_TABLES, type EntityDefinition } from './definition';

/** A JSON Schema document; a string holding JSON is accepted too (the spec stores the definition as text). */
const jsonSchemaDocument = z
  .unknown()
  .transform((value, ctx) => {
    if (typeof value !== 'string') return value;
    try {
      return JSON.parse(value) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'is a string but not valid JSON', params: { rule: 'json' } });
      return z.NEVER;
    }
  })
  .superRefine((value, ctx) => {
    if (value === undefined) {
      ctx.addIssue({ code: 'custom', message: 'is required', params: { rule: 'required' } });
      return;
    }
    for (const problem of checkJsonSchema(value))
      ctx.addIssue({
        code: 'custom',
        message: `is not a valid JSON Schema: ${problem.path || '(root)'} ${problem.message}`,
        params: { rule: 'jsonSchema', keyword: problem.keyword },
      });
  })
  .meta({ description: 'A JSON Schema document (draft-07, or 2020-12 when `$schema` says so).' });

const input = z.strictObject({ ...baseInput, definition: jsonSchemaDocument });
const output = z.object({ ...baseOutput, definition: z.unknown() });

type Input = z.output<typeof input>;
type Row = Prisma.SchemaGetPayload<object>;

export const schemaEntity: EntityDefinition<Input, Row, z.output<typeof output>> = {
  name: 'Schema',
  table: ENTITY_TABLES.Schema,
  summary: 'JSON Schema documents used to validate processor input and output and address data.',
  input,
  output,
  model: (db) => db.schema,
  toDto: (row) => entityDto(row, { definition: row.definition }),
  createData: (i, actor) => ({ ...baseCreate(i, actor), definition: i.definition as Prisma.InputJsonValue }),
  updateData: (i, actor) => ({ ...baseUpdate(i, actor), definition: i.definition as Prisma.InputJsonValue }),
  references: () => [],
  referrers: async (db, id) => {
    const [processors, addresses, deliveries] = await Promise.all([
      db.processor.findMany({ where: { OR: [{ inputSchemaId: id }, { outputSchemaId: id }] } }),
      db.address.findMany({ where: { schemaId: id } }),
      db.delivery.findMany({ where: { schemaId: id } }),
    ]);
    return [
      // One referrer per field, so a processor using the schema for input and output is named twice.
      ...processors.flatMap((p) =>
        (['inputSchemaId', 'outputSchemaId'] as const)
          .filter((field) => p[field] === id)
          .map((field) => ({
            entity: 'Processor' as const,
            id: p.id,
            name: p.name,
            version: p.version,
            field,
          })),
      ),
      ...addresses.map((a) => ({
        entity: 'Address' as const,
        id: a.id,
        name: a.name,
        version: a.version,
        field: 'schemaId',
      })),
      ...deliveries.map((d) => ({
        entity: 'Delivery' as const,
        id: d.id,
        name: d.name,
        version: d.version,
        field: 'schemaId',
      })),
    ];
  },
};
