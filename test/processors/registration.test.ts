/**
 * Processor registration at worker start, against real Postgres and the test Temporal server: first start registers,
 * an equal hash starts, a different hash refuses (with both hashes and how to re-register), re-registration fixes it.
 */
import { testCodec, testDataPlane } from '../support/codec';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import pino from 'pino';
import { computeImplementationHash, defineProcessor, type ProcessorDefinition } from '../../activities/sdk';
import { loadTestConfig } from '../../infra/config';
import { processorTaskQueue } from '../../domain/task-queue';
import { createPrismaClient, type PrismaClient } from '../../prisma/client';
import {
  ImplementationHashMismatchError,
  ensureProcessorRegistered,
} from '../../workers/processor-registration';
import { startProcessorWorker } from '../../workers/processor-worker';
import { echoProcessor } from '../fixtures/test-processors';
import { createTestDatabase, type TestDatabase } from '../support/api';

Runtime.install({ logger: new DefaultLogger('ERROR') });
const logger = pino({ level: 'silent' });

/** The echo processor under a name of its own, so its default task queue is this test's alone. */
function uniqueProcessor(): ProcessorDefinition {
  return defineProcessor({
    ...echoProcessor,
    name: `echo-${randomUUID().slice(0, 8)}`,
  });
}

describe('processor registration', () => {
  let database: TestDatabase;
  let prisma: PrismaClient;
  let connection: NativeConnection;
  let namespace: string;
  let expectedHash: string;

  before(async () => {
    const env = loadTestConfig();
    namespace = env.TEMPORAL_NAMESPACE;
    database = await createTestDatabase();
    prisma = createPrismaClient(database.url);
    connection = await NativeConnection.connect({ address: env.TEMPORAL_ADDRESS });
    expectedHash = await computeImplementationHash(echoProcessor);
  });

  after(async () => {
    await connection?.close();
    await prisma?.$disconnect();
    await database?.drop();
  });

  const start = (definition: ProcessorDefinition, reregister = false) =>
    startProcessorWorker({
      definition,
      codec: testCodec(),
      data: testDataPlane(prisma),
      connection,
      namespace,
      prisma,
      logger,
      reregister,
      shutdownGraceTimeMs: 0,
    });

  const stored = (definition: ProcessorDefinition) =>
    prisma.processor.findUniqueOrThrow({
      where: { version_name: { version: definition.version, name: definition.name } },
      include: { inputSchema: true, outputSchema: true },
    });

  test('the first start registers the Processor, its schemas and its hash; it serves its own task queue', async () => {
    const definition = uniqueProcessor();
    const hosted = await start(definition);
    try {
      assert.equal(hosted.registration.outcome, 'registered');
      assert.equal(hosted.taskQueue, processorTaskQueue(definition.name, '1.0.0'));
      assert.equal(hosted.taskQueue, `processor/${definition.name}/1.0.0`);
      const row = await stored(definition);
      assert.equal(row.implementationHash, expectedHash);
      assert.equal(row.description, definition.description);
      assert.equal(row.createdBy, `processor:${definition.name}`);
      assert.equal(row.inputSchema.name, `${definition.name}.input`);
      assert.equal(row.inputSchema.version, '1.0.0');
      assert.deepEqual(row.inputSchema.definition, definition.inputSchema);
      assert.equal(row.outputSchema.name, `${definition.name}.output`);
      assert.deepEqual(row.outputSchema.definition, definition.outputSchema);
    } finally {
      await hosted.shutdown();
    }
  });

  test('a second start with the same hash starts, validating against the stored schemas', async () => {
    const definition = uniqueProcessor();
    await (await start(definition)).shutdown();
    const row = await stored(definition);
    const edited = { type: 'object', required: ['text', 'lang'] };
    await prisma.schema.update({ where: { id: row.inputSchemaId }, data: { definition: edited } });

    const hosted = await start(definition);
    try {
      assert.equal(hosted.registration.outcome, 'verified');
      assert.equal(hosted.registration.processorId, row.id);
      assert.deepEqual(hosted.registration.schemas.input, edited);
      assert.equal(await prisma.processor.count({ where: { name: definition.name } }), 1);
    } finally {
      await hosted.shutdown();
    }
  });

  test('a different stored hash refuses to start, naming both hashes and how to re-register', async () => {
    const definition = uniqueProcessor();
    await (await start(definition)).shutdown();
    const tampered = 'f'.repeat(64);
    await prisma.processor.update({
      where: { version_name: { version: '1.0.0', name: definition.name } },
      data: { implementationHash: tampered },
    });

    await assert.rejects(start(definition), (error: unknown) => {
      assert.ok(error instanceof ImplementationHashMismatchError, String(error));
      assert.ok(error.message.includes(tampered), error.message);
      assert.ok(error.message.includes(expectedHash), error.message);
      assert.ok(error.message.includes(`${definition.name}@1.0.0`), error.message);
      assert.match(error.message, /--reregister/);
      assert.match(error.message, /PROCESSOR_REREGISTER=true/);
      return true;
    });
    assert.equal((await stored(definition)).implementationHash, tampered, 'a refused start changes nothing');
  });

  test('reregister stores the new hash and refreshes the processor’s own schemas', async () => {
    const definition = uniqueProcessor();
    await (await start(definition)).shutdown();
    const before = await stored(definition);
    await prisma.processor.update({ where: { id: before.id }, data: { implementationHash: 'a'.repeat(64) } });
    await prisma.schema.update({
      where: { id: before.outputSchemaId },
      data: { definition: { type: 'string' } },
    });

    const hosted = await start(definition, true);
    try {
      assert.equal(hosted.registration.outcome, 'reregistered');
      const after = await stored(definition);
      assert.equal(after.id, before.id);
      assert.equal(after.implementationHash, expectedHash);
      assert.deepEqual(after.outputSchema.definition, definition.outputSchema);
      assert.deepEqual(hosted.registration.schemas.output, definition.outputSchema);
    } finally {
      await hosted.shutdown();
    }
    const again = await start(definition);
    assert.equal(again.registration.outcome, 'verified');
    await again.shutdown();
  });

  test('replicas starting together register once', async () => {
    const definition = uniqueProcessor();
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        ensureProcessorRegistered(prisma, definition, { implementationHash: expectedHash, logger }),
      ),
    );
    assert.equal(results.filter((r) => r.outcome === 'registered').length, 1);
    assert.equal(new Set(results.map((r) => r.processorId)).size, 1);
    assert.equal(await prisma.processor.count({ where: { name: definition.name } }), 1);
    assert.equal(await prisma.schema.count({ where: { name: { startsWith: `${definition.name}.` } } }), 2);
  });
});
