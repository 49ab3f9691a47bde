import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import { processorLabel, type ProcessorDefinition } from '../activities/sdk';
import { Prisma, type PrismaClient } from '../prisma/client';

/** How a worker found its Processor entity at startup. */
export type RegistrationOutcome = 'registered' | 'verified' | 'reregistered';

export interface RegisteredProcessor {
  outcome: RegistrationOutcome;
  processorId: string;
  implementationHash: string;
  /** The stored Schema definitions the activity validates against. */
  schemas: { input: unknown; output: unknown };
  /** The Processor entity's limits, as stored when the worker started (see `ProcessorLimits`). */
  limits: ProcessorLimits;
}

/**
 * A processor's limits from its entity: `maxActivitiesPerSecond` across all workers of its task queue (Temporal's
 * task-queue rate limit), `maxConcurrentActivities` per worker process. null: not limited by the entity.
 */
export interface ProcessorLimits {
  maxActivitiesPerSecond: number | null;
  maxConcurrentActivities: number | null;
}

const NO_LIMITS: ProcessorLimits = { maxActivitiesPerSecond: null, maxConcurrentActivities: null };

const limitsOf = (row: ProcessorLimits): ProcessorLimits => ({
  maxActivitiesPerSecond: row.maxActivitiesPerSecond,
  maxConcurrentActivities: row.maxConcurrentActivities,
});

/** The stored implementation hash differs from the running code's: the worker refuses to start. */
export class ImplementationHashMismatchError extends Error {
  override name = 'ImplementationHashMismatchError';

  constructor(
    readonly processor: string,
    readonly storedHash: string,
    readonly currentHash: string,
    readonly module: string,
  ) {
    super(
      `Processor ${processor} is registered with implementation hash ${storedHash}, but this worker's implementation ` +
        `(${module}) hashes to ${currentHash}. Refusing to start: steps would run code other than the registered ` +
        `one. If the change is intended, start the worker once with --reregister (or PROCESSOR_REREGISTER=true) to ` +
        `store the new hash; for a change in behaviour, publish a new processor version instead.`,
    );
  }
}

/** The Schema entities a processor registers: `${name}.input` / `${name}.output` at the processor's version. */
export function processorSchemaNames(name: string): { input: string; output: string } {
  return { input: `${name}.input`, output: `${name}.output` };
}

export interface RegisterOptions {
  implementationHash: string;
  /** Store `implementationHash` over a different stored hash (and refresh the processor's own schemas). */
  reregister?: boolean;
  logger: Logger;
}

type Tx = Prisma.TransactionClient;
type SchemaRow = Prisma.SchemaGetPayload<object>;

async function findOrCreateSchema(
  tx: Tx,
  definition: ProcessorDefinition,
  target: 'input' | 'output',
  actor: string,
  logger: Logger,
): Promise<SchemaRow> {
  const name = processorSchemaNames(definition.name)[target];
  const schema = target === 'input' ? definition.inputSchema : definition.outputSchema;
  const existing = await tx.schema.findUnique({
    where: { version_name: { version: definition.version, name } },
  });
  if (existing) {
    if (!isDeepStrictEqual(existing.definition, schema))
      logger.warn(
        { schema: name, version: definition.version },
        'using the existing Schema entity, which differs from the definition',
      );
    return existing;
  }
  return tx.schema.create({
    data: {
      version: definition.version,
      name,
      description: `The ${target} of processor ${processorLabel(definition)}.`,
      definition: schema as Prisma.InputJsonValue,
      createdBy: actor,
      updatedBy: actor,
    },
  });
}

/** On re-registration: bring the processor's own schemas (created by it, under its names) in line with the code. */
async function refreshOwnSchema(
  tx: Tx,
  definition: ProcessorDefinition,
  target: 'input' | 'output',
  stored: SchemaRow,
  actor: string,
  logger: Logger,
): Promise<SchemaRow> {
  const schema = target === 'input' ? definition.inputSchema : definition.outputSchema;
  const own =
    stored.name === processorSchemaNames(definition.name)[target] &&
    stored.version === definition.version &&
    stored.createdBy === actor;
  if (!own || isDeepStrictEqual(stored.definition, schema)) return stored;
  logger.warn({ schema: stored.name, version: stored.version }, 're-registration updates the stored schema');
  return tx.schema.update({
    where: { id: stored.id },
    data: { definition: schema as Prisma.InputJsonValue, updatedBy: actor },
  });
}

async function registerOnce(
  prisma: PrismaClient,
  definition: ProcessorDefinition,
  options: RegisterOptions,
): Promise<RegisteredProcessor> {
  const label = processorLabel(definition);
  const actor = `processor:${definition.name}`;
  const hash = options.implementationHash;
  const { logger } = options;
  return prisma.$transaction(async (tx) => {
    const existing = await tx.processor.findUnique({
      where: { version_name: { version: definition.version, name: definition.name } },
      include: { inputSchema: true, outputSchema: true },
    });
    if (!existing) {
      const input = await findOrCreateSchema(tx, definition, 'input', actor, logger);
      const output = await findOrCreateSchema(tx, definition, 'output', actor, logger);
      const created = await tx.processor.create({
        data: {
          version: definition.version,
          name: definition.name,
          description: definition.description,
          inputSchemaId: input.id,
          outputSchemaId: output.id,
          implementationHash: hash,
          ...defaultsOf(definition),
          createdBy: actor,
          updatedBy: actor,
        },
      });
      return {
        outcome: 'registered',
        processorId: created.id,
        implementationHash: hash,
        schemas: { input: input.definition, output: output.definition },
        limits: NO_LIMITS,
      };
    }

    if (existing.implementationHash === hash) {
      for (const [target, stored] of [
        ['input', existing.inputSchema],
        ['output', existing.outputSchema],
      ] as const)
        if (
          !isDeepStrictEqual(
            stored.definition,
            target === 'input' ? definition.inputSchema : definition.outputSchema,
          )
        )
          logger.warn(
            { processor: label, schema: stored.name, version: stored.version },
            `the stored ${target} schema differs from the definition's; validating against the stored one`,
          );
      return {
        outcome: 'verified',
        processorId: existing.id,
        implementationHash: hash,
        schemas: { input: existing.inputSchema.definition, output: existing.outputSchema.definition },
        limits: limitsOf(existing),
      };
    }

    if (!options.reregister)
      throw new ImplementationHashMismatchError(label, existing.implementationHash, hash, definition.module);

    const input = await refreshOwnSchema(tx, definition, 'input', existing.inputSchema, actor, logger);
    const output = await refreshOwnSchema(tx, definition, 'output', existing.outputSchema, actor, logger);
    await tx.processor.update({
      where: { id: existing.id },
      data: {
        implementationHash: hash,
        description: definition.description,
        ...defaultsOf(definition),
        updatedBy: actor,
      },
    });
    logger.warn(
      { processor: label, previousHash: existing.implementationHash, implementationHash: hash },
      'processor re-registered with a new implementation hash',
    );
    return {
      outcome: 'reregistered',
      processorId: existing.id,
      implementationHash: hash,
      schemas: { input: input.definition, output: output.definition },
      limits: limitsOf(existing),
    };
  });
}

/** The definition's retry and timeout defaults as Processor columns (SQL NULL when absent). */
function defaultsOf(definition: ProcessorDefinition) {
  const { retryPolicy, timeouts } = definition.defaults ?? {};
  return {
    retryPolicy: retryPolicy ? (retryPolicy as Prisma.InputJsonObject) : Prisma.DbNull,
    timeouts: timeouts ? (timeouts as Prisma.InputJsonObject) : Prisma.DbNull,
  };
}

function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';
}

/**
 * Makes sure the Processor entity of `definition` exists with the running code's hash: registers it and its
 * input/output Schema entities when absent (createdBy `processor:{name}`), accepts an equal hash, and refuses a
 * different one unless `reregister` is set. Replicas starting together are safe: a lost insert race re-reads.
 *
 * @throws ImplementationHashMismatchError when the stored hash differs and `reregister` is not set.
 */
export async function ensureProcessorRegistered(
  prisma: PrismaClient,
  definition: ProcessorDefinition,
  options: RegisterOptions,
): Promise<RegisteredProcessor> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await registerOnce(prisma, definition, options);
    } catch (error) {
      if (attempt >= 3 || !isUniqueViolation(error)) throw error;
    }
  }
}
