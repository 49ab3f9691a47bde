/**
 * The CRUD's create and replace in prepared statements (api/crud-writes.ts) store and return every entity exactly as
 * Prisma's nested `create` (with the entity's `include`) and `update` do: the same row read back and the same DTO,
 * with every kind of column set, changed and left out (JSON, enums, floats, nulls, `Prisma.DbNull`) and ID lists in
 * their order. Both paths run in one transaction from the same input, so a column or list the SQL misses shows up as
 * a difference. Also: the statements run on the transaction's own connection (prisma/client.ts `transaction`), and
 * roll back with it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { insertEntity, updateEntity } from '../../api/crud-writes';
import { ENTITIES } from '../../api/entities';
import type { AnyEntityDefinition } from '../../api/entities/definition';
import { queryPrepared, transaction } from '../../prisma/client';
import { startTestApi, type TestApi } from '../support/api';
import {
  HASH,
  createAddress,
  createDelivery,
  createProcessor,
  createSchema,
  createStep,
  createWorkflow,
  createAssignment,
  objectSchema,
  unique,
  type EntityName,
} from '../support/fixtures';

/** Fields that differ between two creates of the same input (a processor's task queue holds its name). */
const OWN_FIELDS = ['id', 'name', 'createdAt', 'updatedAt', 'taskQueue'];
const shared = (dto: unknown) =>
  Object.fromEntries(Object.entries(dto as object).filter(([field]) => !OWN_FIELDS.includes(field)));

describe('CRUD create and replace in prepared statements', () => {
  let api: TestApi;
  /** Per entity: bodies that set every column, and that leave every optional one out. */
  let bodies: Record<EntityName, Array<Record<string, unknown>>>;
  let processorId: string;

  before(async () => {
    api = await startTestApi();
    const editor = api.as('editor');
    const schema = await createSchema(editor);
    const processor = await createProcessor(editor);
    processorId = processor.id;
    const compensator = await createProcessor(editor);
    const last = await createStep(editor, processor.id);
    const other = await createStep(editor, processor.id);
    const address = await createAddress(editor);
    const delivery = await createDelivery(editor);
    const workflow = await createWorkflow(editor, [last.id]);
    const assignment = await createAssignment(editor, last.id, [address.id]);
    const second = await createAssignment(editor, other.id, [delivery.id]);
    const base = () => ({ version: '1.0', name: `written-${unique()}` });
    bodies = {
      Schema: [
        { ...base(), description: 'a schema', definition: objectSchema },
        { ...base(), definition: { type: 'array', items: { type: 'number' } } },
      ],
      Processor: [
        {
          ...base(),
          inputSchemaId: schema.id,
          outputSchemaId: schema.id,
          implementationHash: HASH,
          retryPolicy: { maximumAttempts: 4, backoffCoefficient: 1.5 },
          timeouts: { startToCloseMs: 5000 },
          maxActivitiesPerSecond: 2.5,
          maxConcurrentActivities: 3,
        },
        { ...base(), inputSchemaId: schema.id, outputSchemaId: schema.id, implementationHash: HASH },
      ],
      Step: [
        {
          ...base(),
          description: 'every column',
          processorId: processor.id,
          nextStepIds: [other.id, last.id],
          entryCondition: 3,
          // A JSON value shaped like a relation write is a value like any other.
          configuration: {
            expression: '$',
            nested: { list: [1, 'two', null] },
            create: [{ deleteMany: {} }],
          },
          retryPolicy: { maximumAttempts: 2 },
          timeouts: { heartbeatMs: 1000 },
          forEach: { items: 'items', maxParallel: 4, failurePolicy: 'collect' },
          compensation: { processorId: compensator.id, configuration: { undo: true } },
        },
        { ...base(), processorId: processor.id, compensation: { processorId: compensator.id } },
        { ...base(), processorId: processor.id, configuration: null },
      ],
      Workflow: [
        { ...base(), stepIds: [other.id, last.id] },
        { ...base(), stepIds: [last.id] },
      ],
      OrchestratedFlow: [
        {
          ...base(),
          workflowId: workflow.id,
          assignmentIds: [second.id, assignment.id],
          cronExpression: '*/5 * * * *',
          timezone: 'Europe/Berlin',
          isScheduleEnabled: false,
          overlapPolicy: 'BufferOne',
          catchupWindowMs: 120_000,
          maxConcurrentSteps: 7,
        },
        { ...base(), workflowId: workflow.id },
      ],
      Assignment: [
        { ...base(), stepId: last.id, entityIds: [delivery.id, address.id] },
        { ...base(), stepId: other.id, entityIds: [address.id] },
      ],
      Address: [
        {
          ...base(),
          connectionString: `postgres://reader:hunter2@db.example.test/${unique()}`,
          configuration: { region: 'eu', apiKey: 'secret' },
          schemaId: schema.id,
        },
        { ...base(), connectionString: `https://example.test/${unique()}` },
      ],
      Delivery: [
        { ...base(), connectionString: `file:///out/${unique()}.json` },
        {
          ...base(),
          connectionString: `https://example.test/${unique()}`,
          configuration: { method: 'PUT' },
          schemaId: schema.id,
        },
      ],
    };
  });

  after(() => api.close());

  /** The input of `body` for `def`, as the CRUD parses it. */
  const input = (def: AnyEntityDefinition, body: Record<string, unknown>) =>
    def.input.parse({ ...body, name: `written-${unique()}` });

  for (const def of ENTITIES)
    it(`creates ${def.name} as the ORM does`, async () => {
      const cases = bodies[def.name];
      assert.ok(cases.length > 0, `no bodies for ${def.name}`);
      for (const body of cases) {
        const created = await transaction(api.prisma, async (tx) => {
          const sql = await insertEntity(
            def,
            tx,
            (await def.createData(input(def, body), 'writer', tx)) as Record<string, unknown>,
          );
          const orm = await def
            .model(tx)
            .create({ data: await def.createData(input(def, body), 'writer', tx), include: def.include });
          return { sql, orm: orm as Record<string, unknown> };
        });
        assert.deepEqual(
          shared(def.toDto(created.sql)),
          shared(def.toDto(created.orm)),
          JSON.stringify(body),
        );
        const sqlDto = def.toDto(created.sql) as Record<string, unknown>;
        assert.equal(sqlDto.createdAt, sqlDto.updatedAt);
        // What is stored, read back by the ORM, is what the create answered.
        const model = def.model(api.prisma);
        const [storedSql, storedOrm] = await Promise.all(
          [created.sql.id, created.orm.id].map((id) =>
            model.findUnique({ where: { id }, include: def.include }),
          ),
        );
        assert.deepEqual(def.toDto(storedSql), sqlDto);
        assert.deepEqual(shared(def.toDto(storedSql)), shared(def.toDto(storedOrm)));
      }
    });

  for (const def of ENTITIES)
    it(`replaces ${def.name} as the ORM does`, async () => {
      const cases = bodies[def.name];
      assert.ok(cases.length > 1, `fewer than two bodies for ${def.name}`);
      // Each body replaced by the next (the last by the first): columns and lists set, changed and cleared.
      for (const [index, from] of cases.entries()) {
        const to = cases[(index + 1) % cases.length]!;
        const ids = await transaction(api.prisma, async (tx) => {
          const created = await Promise.all(
            [0, 1].map(async () =>
              insertEntity(
                def,
                tx,
                (await def.createData(input(def, from), 'creator', tx)) as Record<string, unknown>,
              ),
            ),
          );
          const [sqlId, ormId] = created.map((row) => row.id as string) as [string, string];
          await updateEntity(
            def,
            tx,
            sqlId,
            (await def.updateData(input(def, to), 'writer', tx)) as Record<string, unknown>,
          );
          await def
            .model(tx)
            .update({ where: { id: ormId }, data: await def.updateData(input(def, to), 'writer', tx) });
          return [sqlId, ormId];
        });
        const model = def.model(api.prisma);
        const [sql, orm] = await Promise.all(
          ids.map(async (id) => def.toDto(await model.findUnique({ where: { id }, include: def.include }))),
        );
        assert.deepEqual(shared(sql), shared(orm), `${JSON.stringify(from)} → ${JSON.stringify(to)}`);
        const dto = sql as Record<string, string>;
        assert.equal(dto.createdBy, 'creator');
        assert.equal(dto.updatedBy, 'writer');
      }
    });

  it('runs on the transaction’s own connection and rolls back with it', async () => {
    const step = ENTITIES.find((def) => def.name === 'Step')!;
    const body = { version: '1.0', processorId };
    let id = '';
    await assert.rejects(
      transaction(api.prisma, async (tx) => {
        const [prisma] = await tx.$queryRawUnsafe<Array<{ pid: number }>>('SELECT pg_backend_pid() AS pid');
        const [prepared] = await queryPrepared<{ pid: number }>(
          tx,
          'test-backend-pid',
          'SELECT pg_backend_pid() AS pid',
          [],
        );
        assert.equal(prepared!.pid, prisma!.pid);
        // A named prepared statement on this connection: not Prisma's $queryRawUnsafe, which prepares none.
        const statements = await tx.$queryRawUnsafe<Array<{ statement: string }>>(
          "SELECT statement FROM pg_prepared_statements WHERE name = 'test-backend-pid'",
        );
        assert.deepEqual(statements, [{ statement: 'SELECT pg_backend_pid() AS pid' }]);
        const row = await insertEntity(
          step,
          tx,
          (await step.createData(input(step, body), 'writer', tx)) as Record<string, unknown>,
        );
        id = row.id as string;
        // Seen inside the transaction by Prisma's own queries …
        assert.ok(await tx.step.findUnique({ where: { id } }));
        throw new Error('roll back');
      }),
      /roll back/,
    );
    // … and gone after its rollback.
    assert.ok(id);
    assert.equal(await api.prisma.step.findUnique({ where: { id } }), null);
  });

  it('refuses a statement on a transaction that is over', async () => {
    let closed: Parameters<Parameters<typeof transaction>[1]>[0] | undefined;
    await transaction(api.prisma, (tx) => {
      closed = tx;
      return Promise.resolve();
    });
    await assert.rejects(
      queryPrepared(closed!, 'test-closed', 'SELECT 1', []),
      /The transaction is over: the statement was not run/,
    );
  });

  it('refuses a statement name that already stands for other SQL, whichever connection would run it', async () => {
    const [first] = await queryPrepared<{ n: number }>(api.prisma, 'test-one-name', 'SELECT 1 AS n', []);
    assert.deepEqual(first, { n: 1 });
    await assert.rejects(
      queryPrepared(api.prisma, 'test-one-name', 'SELECT 2 AS n', []),
      /Prepared statement "test-one-name" already stands for other SQL/,
    );
    const [again] = await queryPrepared<{ n: number }>(api.prisma, 'test-one-name', 'SELECT 1 AS n', []);
    assert.deepEqual(again, { n: 1 });
  });
});
