/**
 * The CRUD's hot reads in one SQL statement on Prisma's pool (api/crud-reads.ts) read every entity exactly as Prisma's
 * ORM does with the entity's `include`: the same DTO for a get and for a page, with every kind of column set (JSON,
 * enums, arrays, floats, nulls) and ID lists in their order. Both paths run against the same rows, so a column or list
 * the SQL missed shows up as a difference.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SqlReads } from '../../api/crud-reads';
import { ENTITIES } from '../../api/entities';
import { poolOf } from '../../prisma/client';
import { startTestApi, type TestApi } from '../support/api';
import {
  createAddress,
  createAssignment,
  createDelivery,
  createFlow,
  createProcessor,
  createStep,
  createWorkflow,
} from '../support/fixtures';

describe('CRUD reads in one SQL statement', () => {
  let api: TestApi;
  let reads: SqlReads;

  before(async () => {
    api = await startTestApi();
    // The reads go through the pool under Prisma's driver adapter, as the API's do.
    assert.ok(poolOf(api.prisma), 'the test API has no known pool');
    reads = new SqlReads(api.prisma);
    const editor = api.as('editor');
    const processor = await createProcessor(editor, {
      retryPolicy: { maximumAttempts: 4, backoffCoefficient: 1.5 },
      timeouts: { startToCloseMs: 5000 },
      maxActivitiesPerSecond: 2.5,
      maxConcurrentActivities: 3,
    });
    const compensator = await createProcessor(editor);
    const last = await createStep(editor, processor.id, { entryCondition: 'Always' });
    const middle = await createStep(editor, processor.id, {
      nextStepIds: [last.id],
      forEach: { items: 'items', maxParallel: 4, failurePolicy: 'collect' },
      compensation: { processorId: compensator.id, configuration: { undo: true } },
    });
    const first = await createStep(editor, processor.id, {
      description: 'the first step',
      nextStepIds: [last.id, middle.id],
      entryCondition: 3,
      configuration: { expression: '$', nested: { list: [1, 'two', null] } },
      retryPolicy: { maximumAttempts: 2 },
      timeouts: { heartbeatMs: 1000 },
    });
    const workflow = await createWorkflow(editor, [first.id, middle.id, last.id]);
    const address = await createAddress(editor, {
      connectionString: 'postgres://reader:hunter2@db.example.test/app',
      configuration: { region: 'eu', apiKey: 'secret' },
    });
    const delivery = await createDelivery(editor);
    const assignment = await createAssignment(editor, first.id, [delivery.id, address.id]);
    await createFlow(editor, workflow.id, {
      assignmentIds: [assignment.id],
      cronExpression: '*/5 * * * *',
      timezone: 'Europe/Berlin',
      maxConcurrentSteps: 7,
    });
  });

  after(() => api.close());

  for (const def of ENTITIES)
    it(`reads ${def.name} as the ORM does`, async () => {
      const model = def.model(api.prisma);
      const ormRows = await model.findMany({
        include: def.include,
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      });
      assert.ok(ormRows.length > 0, `the test created no ${def.name}`);
      const page = await reads.page(def, { limit: 1000, offset: 0 });
      assert.equal(page.total, await model.count({}));
      assert.deepEqual(
        page.rows.map((row) => def.toDto(row)),
        ormRows.map((row) => def.toDto(row)),
      );
      for (const row of ormRows) {
        const id = (row as { id: string }).id;
        assert.deepEqual(def.toDto(await reads.byId(def, id)), def.toDto(row));
      }
      assert.equal(await reads.byId(def, '00000000-0000-4000-8000-000000000000'), undefined);
    });

  it('pages in creation order with the total of all rows', async () => {
    const step = ENTITIES.find((def) => def.name === 'Step')!;
    const all = await reads.page(step, { limit: 1000, offset: 0 });
    const second = await reads.page(step, { limit: 1, offset: 1 });
    assert.equal(second.total, all.total);
    assert.deepEqual(
      second.rows.map((row) => step.toDto(row)),
      [step.toDto(all.rows[1])],
    );
    const beyond = await reads.page(step, { limit: 10, offset: all.total });
    assert.deepEqual(beyond, { rows: [], total: all.total });
  });

  // A page without an index on the list order sorts the whole table on every request (24 ms a page at 50,000 steps,
  // against 0.3 ms with it). These tables are too small for the planner to prefer the index, so sorting is priced out
  // of the plan: with the index the page is an index scan, without one it would still be a sort.
  for (const def of ENTITIES)
    it(`pages ${def.name} from its creation-order index, not by sorting the table`, async () => {
      const connection = await poolOf(api.prisma)!.connect();
      try {
        await connection.query('BEGIN');
        await connection.query('SET LOCAL enable_sort = off');
        const { rows } = await connection.query<{ 'QUERY PLAN': unknown }>(
          `EXPLAIN (FORMAT JSON) ${reads.pageSql(def)}`,
          [100, 0],
        );
        const plan = JSON.stringify(rows[0]!['QUERY PLAN']);
        assert.match(plan, new RegExp(`"Index Name":"${def.table}_created_at_id_idx"`), plan);
        assert.doesNotMatch(plan, /"Node Type":"Sort"/, plan);
      } finally {
        await connection.query('ROLLBACK');
        connection.release();
      }
    });
});
