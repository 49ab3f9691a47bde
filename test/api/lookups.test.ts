import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestApi, type TestApi } from '../support/api';
import { assertError, sleep } from '../support/assertions';
import {
  createAddress,
  createAssignment,
  createDelivery,
  createFlow,
  createProcessor,
  createSchema,
  createStep,
  createWorkflow,
} from '../support/fixtures';

type Entity = Record<string, any>;

/** The API's list order: by createdAt, then id (two creates can share a millisecond). */
const listed = (...entities: Entity[]) =>
  [...entities].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));

describe('lookups and pagination', () => {
  let api: TestApi;
  before(async () => {
    api = await startTestApi();
  });
  after(() => api.close());

  /** GETs a list route and asserts 200, the exact entities in order, and X-Total-Count. */
  async function assertList(path: string, expected: unknown[], total = expected.length): Promise<void> {
    const response = await api.request('GET', path);
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.deepEqual(response.body, expected, path);
    assert.equal(response.headers.get('x-total-count'), String(total), path);
  }

  describe('specialized routes', () => {
    it('GET /api/Step/processor/{processorId}: the steps a processor executes', async () => {
      const [p1, p2, idle] = [
        await createProcessor(api),
        await createProcessor(api),
        await createProcessor(api),
      ];
      const s1 = await createStep(api, p1.id);
      const s2 = await createStep(api, p1.id);
      const s3 = await createStep(api, p2.id);
      await assertList(`/api/Step/processor/${p1.id}`, listed(s1, s2));
      await assertList(`/api/Step/processor/${p2.id}`, [s3]);
      await assertList(`/api/Step/processor/${idle.id}`, []);
      await assertList(`/api/Step/processor/${randomUUID()}`, []);
      await assertList(`/api/Step/processor/${p1.id}?limit=1&offset=1`, listed(s1, s2).slice(1), 2);
    });

    it('GET /api/Step/nextstep/{stepId}: the steps that list a step as next', async () => {
      const processor = await createProcessor(api);
      const target = await createStep(api, processor.id);
      const other = await createStep(api, processor.id);
      const x = await createStep(api, processor.id, { nextStepIds: [target.id] });
      const y = await createStep(api, processor.id, { nextStepIds: [other.id, target.id] });
      await assertList(`/api/Step/nextstep/${target.id}`, listed(x, y));
      await assertList(`/api/Step/nextstep/${other.id}`, [y]);
      await assertList(`/api/Step/nextstep/${x.id}`, []);
    });

    it('GET /api/Assignment/step/{stepId}: the assignments of a step', async () => {
      const processor = await createProcessor(api);
      const [step, other, idle] = [
        await createStep(api, processor.id),
        await createStep(api, processor.id),
        await createStep(api, processor.id),
      ];
      const address = await createAddress(api);
      const a1 = await createAssignment(api, step.id, [address.id]);
      const a2 = await createAssignment(api, other.id, [address.id]);
      const a3 = await createAssignment(api, step.id, [address.id]);
      await assertList(`/api/Assignment/step/${step.id}`, listed(a1, a3));
      await assertList(`/api/Assignment/step/${other.id}`, [a2]);
      await assertList(`/api/Assignment/step/${idle.id}`, []);
    });

    it('GET /api/Assignment/entity/{entityId}: the assignments of an Address or a Delivery', async () => {
      const step = await createStep(api, (await createProcessor(api)).id);
      const [address, delivery, unused] = [
        await createAddress(api),
        await createDelivery(api),
        await createDelivery(api),
      ];
      const a1 = await createAssignment(api, step.id, [address.id]);
      const a2 = await createAssignment(api, step.id, [delivery.id, address.id]);
      await assertList(`/api/Assignment/entity/${address.id}`, listed(a1, a2));
      await assertList(`/api/Assignment/entity/${delivery.id}`, [a2]);
      await assertList(`/api/Assignment/entity/${unused.id}`, []);
    });

    it('GET /api/OrchestratedFlow/workflow/{workflowId} and /assignment/{assignmentId}', async () => {
      const step = await createStep(api, (await createProcessor(api)).id);
      const [w1, w2, idle] = [
        await createWorkflow(api, [step.id]),
        await createWorkflow(api, [step.id]),
        await createWorkflow(api, [step.id]),
      ];
      const address = await createAddress(api);
      const [a1, a2, unused] = [
        await createAssignment(api, step.id, [address.id]),
        await createAssignment(api, step.id, [address.id]),
        await createAssignment(api, step.id, [address.id]),
      ];
      const f1 = await createFlow(api, w1.id, { assignmentIds: [a1.id, a2.id] });
      const f2 = await createFlow(api, w2.id, { assignmentIds: [a2.id] });
      const f3 = await createFlow(api, w1.id);
      await assertList(`/api/OrchestratedFlow/workflow/${w1.id}`, listed(f1, f3));
      await assertList(`/api/OrchestratedFlow/workflow/${w2.id}`, [f2]);
      await assertList(`/api/OrchestratedFlow/workflow/${idle.id}`, []);
      await assertList(`/api/OrchestratedFlow/assignment/${a1.id}`, [f1]);
      await assertList(`/api/OrchestratedFlow/assignment/${a2.id}`, listed(f1, f2));
      await assertList(`/api/OrchestratedFlow/assignment/${unused.id}`, []);
    });

    for (const [route, param] of [
      ['Step/processor', 'processorId'],
      ['Step/nextstep', 'stepId'],
      ['Assignment/step', 'stepId'],
      ['Assignment/entity', 'entityId'],
      ['OrchestratedFlow/workflow', 'workflowId'],
      ['OrchestratedFlow/assignment', 'assignmentId'],
    ])
      it(`GET /api/${route}/{${param}} with a malformed or empty GUID answers 400 naming ${param}`, async () => {
        assertError(await api.request('GET', `/api/${route}/not-a-guid`), 400, 'ValidationFailed', [
          { field: param!, rule: 'guid', message: 'must be a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)' },
        ]);
        const empty = '00000000-0000-0000-0000-000000000000';
        assertError(await api.request('GET', `/api/${route}/${empty}`), 400, 'ValidationFailed', [
          { field: param!, rule: 'NotEmptyGuid' },
        ]);
        assertError(
          await api.request('GET', `/api/${route}/${randomUUID()}?limit=0`),
          400,
          'ValidationFailed',
          [{ field: 'query.limit', rule: 'min' }],
        );
      });
  });

  describe('pagination of GET /api/{Entity}', () => {
    /** At least 101 schemas, so the default page is full. */
    let all: Entity[];
    before(async () => {
      for (let i = 0; i < 101; i++) await createSchema(api);
      all = (await api.request('GET', '/api/Schema?limit=1000')).body;
    });

    it('answers 100 entities by default, with the total in X-Total-Count', async () => {
      assert.ok(all.length >= 101);
      await assertList('/api/Schema', all.slice(0, 100), all.length);
    });

    it('limit and offset page through the list in a stable order', async () => {
      const pages: unknown[] = [];
      for (let offset = 0; offset < all.length; offset += 7) {
        const response = await api.request('GET', `/api/Schema?limit=7&offset=${offset}`);
        assert.equal(response.status, 200);
        assert.equal(response.headers.get('x-total-count'), String(all.length));
        pages.push(...response.body);
      }
      assert.deepEqual(pages, all);
      await assertList('/api/Schema?limit=1000', all);
      await assertList('/api/Schema?offset=3', all.slice(3, 103), all.length);
    });

    it('the order is creation order', async () => {
      await sleep(5);
      const first = await createSchema(api);
      await sleep(5);
      const second = await createSchema(api);
      const tail = await api.request('GET', `/api/Schema?offset=${all.length}`);
      assert.deepEqual(tail.body, [first, second]);
      all.push(first, second);
    });

    it('an offset past the end answers [] with the total', async () => {
      await assertList(`/api/Schema?offset=${all.length}`, [], all.length);
      await assertList('/api/Schema?offset=100000&limit=1', [], all.length);
    });

    for (const [query, field, rule] of [
      ['limit=1001', 'query.limit', 'max'],
      ['limit=0', 'query.limit', 'min'],
      ['limit=-5', 'query.limit', 'min'],
      ['limit=abc', 'query.limit', 'type'],
      ['limit=2.5', 'query.limit', 'type'],
      ['limit=', 'query.limit', 'min'],
      ['limit=1&limit=2', 'query.limit', 'type'],
      ['offset=-1', 'query.offset', 'min'],
      ['offset=x', 'query.offset', 'type'],
    ])
      it(`?${query} answers 400 naming ${field}`, async () => {
        const message =
          field === 'query.limit' ? 'must be an integer from 1 to 1000' : 'must be an integer of 0 or more';
        assertError(await api.request('GET', `/api/Schema?${query}`), 400, 'ValidationFailed', [
          { field: field!, rule: rule!, message },
        ]);
      });

    it('both bad answer two details; limit=1000 is the maximum accepted', async () => {
      assertError(await api.request('GET', '/api/Schema?limit=5000&offset=-2'), 400, 'ValidationFailed', [
        { field: 'query.limit', rule: 'max' },
        { field: 'query.offset', rule: 'min' },
      ]);
      await assertList('/api/Schema?limit=1000', all);
    });
  });
});
