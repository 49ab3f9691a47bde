import { z } from 'zod';
import { processorTaskQueue } from '../../domain/task-queue';
import { Prisma } from '../../prisma/client';
import { guid, typeError } from '../validation';
import { baseCreate, entityDto, baseInput, baseOutput, baseUpdate } from './base';
import { ENTITY_TABLES, type EntityDefinition } from './definition';
import { retryPolicy, stepTimeouts } from './step';

const MAX_ACTIVITIES_PER_SECOND = 100_000;
const MAX_CONCURRENT_ACTIVITIES = 10_000;

const input = z.strictObject({
  ...baseInput,
  inputSchemaId: guid,
  outputSchemaId: guid,
  implementationHash: z
    .string(typeError('a string'))
    .regex(/^[0-9a-fA-F]{64}$/, { error: 'must be a SHA-256 digest: 64 hexadecimal characters' })
    .transform((hash) => hash.toLowerCase()),
  retryPolicy: retryPolicy
    .nullish()
    .meta({ description: 'Default retry policy of steps using this processor.' }),
  timeouts: stepTimeouts.nullish().meta({ description: 'Default timeouts of steps using this processor.' }),
  maxActivitiesPerSecond: z
    .number(typeError('a number'))
    .gt(0, { error: 'must be greater than 0' })
    .max(MAX_ACTIVITIES_PER_SECOND, { error: `must be at most ${MAX_ACTIVITIES_PER_SECOND}` })
    .nullish()
    .meta({
      description:
        "Activities per second dispatched from the processor's task queue, across all its workers " +
        "(Temporal's task-queue rate limit; read by a worker when it starts). Absent: unlimited.",
    }),
  maxConcurrentActivities: z
    .number(typeError('an integer'))
    .int({ error: 'must be an integer' })
    .min(1, { error: 'must be at least 1' })
    .max(MAX_CONCURRENT_ACTIVITIES, { error: `must be at most ${MAX_CONCURRENT_ACTIVITIES}` })
    .nullish()
    .meta({
      description:
        'Activities one worker process runs at once (read by a worker when it starts). Absent: the worker default.',
    }),
});
const output = z.object({
  ...baseOutput,
  inputSchemaId: z.guid(),
  outputSchemaId: z.guid(),
  implementationHash: z.string(),
  retryPolicy: retryPolicy.nullable(),
  timeouts: stepTimeouts.nullable(),
  maxActivitiesPerSecond: z.number().nullable(),
  maxConcurrentActivities: z.number().int().nullable(),
  taskQueue: z.string().meta({ description: 'Derived from name and version; the queue its workers poll.' }),
});

type Input = z.output<typeof input>;
type Row = Prisma.ProcessorGetPayload<object>;

const columns = (i: Input) => ({
  inputSchemaId: i.inputSchemaId,
  outputSchemaId: i.outputSchemaId,
  implementationHash: i.implementationHash,
  retryPolicy: i.retryPolicy ? (i.retryPolicy as Prisma.InputJsonObject) : Prisma.DbNull,
  timeouts: i.timeouts ? (i.timeouts as Prisma.InputJsonObject) : Prisma.DbNull,
  maxActivitiesPerSecond: i.maxActivitiesPerSecond ?? null,
  maxConcurrentActivities: i.maxConcurrentActivities ?? null,
});

export const processorEntity: EntityDefinition<Input, Row, z.output<typeof output>> = {
  name: 'Processor',
  table: ENTITY_TABLES.Processor,
  summary: 'Processing units that execute steps, each on its own task queue.',
  input,
  output,
  derivedFields: ['taskQueue'],
  model: (db) => db.processor,
  toDto: (row) =>
    entityDto(row, {
      inputSchemaId: row.inputSchemaId,
      outputSchemaId: row.outputSchemaId,
      implementationHash: row.implementationHash,
      retryPolicy: (row.retryPolicy as z.output<typeof retryPolicy> | null) ?? null,
      timeouts: (row.timeouts as z.output<typeof stepTimeouts> | null) ?? null,
      maxActivitiesPerSecond: row.maxActivitiesPerSecond,
      maxConcurrentActivities: row.maxConcurrentActivities,
      taskQueue: processorTaskQueue(row.name, row.version),
    }),
  createData: (i, actor) => ({ ...baseCreate(i, actor), ...columns(i) }),
  updateData: (i, actor) => ({ ...baseUpdate(i, actor), ...columns(i) }),
  references: (i) => [
    { field: 'inputSchemaId', ids: [i.inputSchemaId], targets: ['Schema'] },
    { field: 'outputSchemaId', ids: [i.outputSchemaId], targets: ['Schema'] },
  ],
  referrers: async (db, id) => {
    const [steps, compensations] = await Promise.all([
      db.step.findMany({ where: { processorId: id } }),
      db.step.findMany({ where: { compensationProcessorId: id } }),
    ]);
    return [
      ...steps.map((s) => ({ step: s, field: 'processorId' })),
      ...compensations.map((s) => ({ step: s, field: 'compensation.processorId' })),
    ].map(({ step, field }) => ({
      entity: 'Step' as const,
      id: step.id,
      name: step.name,
      version: step.version,
      field,
    }));
  },
};
