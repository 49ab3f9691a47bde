import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestApi, type TestApi } from '../support/api';
import { assertError, ISO_TIMESTAMP, sleep, UUID } from '../support/assertions';
import {
  createAddress,
  createAssignment,
  createDelivery,
  createProcessor,
  createSchema,
  createStep,
  createWorkflow,
  HASH,
  objectSchema,
  unique,
} from '../support/fixtures';

type Body = Record<string, unknown>;

/** What one entity needs for the CRUD cycle: a valid body, a replacement, and the entity each should yield. */
interface Prepared {
  input: Body;
  /** The created entity without id, timestamps, createdBy and updatedBy. */
  expected: Body;
  replacement: Body;
  replaced: Body;
}

interface Case {
  entity: string;
  /** Address and Delivery: the composite key includes the connection string. */
  keyHasConnectionString?: boolean;
  /** Creates what the entity refers to, and returns bodies naming it. */
  prepare(api: TestApi): Promise<Prepared>;
}

const CASES: Case[] = [
  {
    entity: 'Schema',
    prepare: () => {
      const input = {
        version: '1.0',
        name: `schema-${unique()}`,
        description: 'orders',
        definition: objectSchema,
      };
      const replacement = {
        ...input,
        description: 'orders, v2',
        definition: { type: 'array', items: { type: 'string' } },
      };
      return Promise.resolve({ input, expected: input, replacement, replaced: replacement });
    },
  },
  {
    entity: 'Processor',
    prepare: async (api) => {
      const [inputSchema, outputSchema] = [await createSchema(api), await createSchema(api)];
      const name = `processor-${unique()}`;
      const input = {
        version: '1.0.0',
        name,
        inputSchemaId: inputSchema.id,
        outputSchemaId: outputSchema.id,
        implementationHash: HASH,
      };
      const replacement = {
        ...input,
        version: '1.1.0',
        outputSchemaId: inputSchema.id,
        implementationHash: 'b'.repeat(64),
        retryPolicy: { maximumAttempts: 5, initialIntervalMs: 200 },
        timeouts: { startToCloseMs: 60_000 },
      };
      return {
        input,
        expected: {
          ...input,
          description: '',
          retryPolicy: null,
          timeouts: null,
          maxActivitiesPerSecond: null,
          maxConcurrentActivities: null,
          taskQueue: `processor/${name}/1.0.0`,
        },
        replacement,
        replaced: {
          ...replacement,
          description: '',
          maxActivitiesPerSecond: null,
          maxConcurrentActivities: null,
          taskQueue: `processor/${name}/1.1.0`,
        },
      };
    },
  },
  {
    entity: 'Step',
    prepare: async (api) => {
      const processor = await createProcessor(api);
      const next = await createStep(api, processor.id);
      const input = {
        version: '1.0',
        name: `step-${unique()}`,
        description: 'Step to process uploaded files',
        processorId: processor.id,
        nextStepIds: [next.id],
        entryCondition: 'PreviousSuccess',
      };
      const replacement = {
        version: '1.0',
        name: input.name,
        processorId: processor.id,
        nextStepIds: [],
        entryCondition: 'Always',
        configuration: { expression: '$.order' },
        retryPolicy: { maximumAttempts: 3, initialIntervalMs: 500 },
        timeouts: { startToCloseMs: 30_000 },
      };
      return {
        input,
        expected: {
          ...input,
          configuration: null,
          retryPolicy: null,
          timeouts: null,
          forEach: null,
          compensation: null,
        },
        replacement,
        replaced: { ...replacement, description: '', forEach: null, compensation: null },
      };
    },
  },
  {
    entity: 'Workflow',
    prepare: async (api) => {
      const processor = await createProcessor(api);
      const last = await createStep(api, processor.id);
      const first = await createStep(api, processor.id, { nextStepIds: [last.id] });
      const input = { version: '1.0', name: `workflow-${unique()}`, stepIds: [first.id, last.id] };
      const replacement = { ...input, description: 'only the last step', stepIds: [last.id] };
      return {
        input,
        expected: { ...input, description: '' },
        replacement,
        replaced: replacement,
      };
    },
  },
  {
    entity: 'OrchestratedFlow',
    prepare: async (api) => {
      const processor = await createProcessor(api);
      const step = await createStep(api, processor.id);
      const workflow = await createWorkflow(api, [step.id]);
      const assignment = await createAssignment(api, step.id, [(await createAddress(api)).id]);
      const input = {
        version: '1.0',
        name: `flow-${unique()}`,
        workflowId: workflow.id,
        assignmentIds: [assignment.id],
        cronExpression: '0 */6 * * *',
        isScheduleEnabled: true,
        timezone: 'Europe/Paris',
        overlapPolicy: 'BufferOne',
        catchupWindowMs: 120_000,
      };
      const replacement = { version: '1.0', name: input.name, workflowId: workflow.id };
      return {
        input,
        expected: { ...input, description: '', maxConcurrentSteps: null },
        replacement,
        replaced: {
          ...replacement,
          description: '',
          maxConcurrentSteps: null,
          assignmentIds: [],
          cronExpression: null,
          isScheduleEnabled: false,
          timezone: null,
          overlapPolicy: 'Skip',
          catchupWindowMs: 60_000,
        },
      };
    },
  },
  {
    entity: 'Assignment',
    prepare: async (api) => {
      const step = await createStep(api, (await createProcessor(api)).id);
      const [address, delivery] = [await createAddress(api), await createDelivery(api)];
      const input = {
        version: '1.0',
        name: `assignment-${unique()}`,
        stepId: step.id,
        entityIds: [address.id, delivery.id],
      };
      const replacement = { ...input, entityIds: [delivery.id] };
      return {
        input,
        expected: { ...input, description: '' },
        replacement,
        replaced: { ...replacement, description: '' },
      };
    },
  },
  ...(['Address', 'Delivery'] as const).map((entity): Case => ({
    entity,
    keyHasConnectionString: true,
    prepare: async (api) => {
      const schema = await createSchema(api);
      const input = {
        version: '1.0',
        name: `${entity.toLowerCase()}-${unique()}`,
        description: 'the order feed',
        connectionString: `https://example.test/orders?page=1&tag=${unique()}`,
        configuration: { method: 'GET', accept: 'application/json' },
        schemaId: schema.id,
      };
      const replacement = {
        version: '1.0',
        name: input.name,
        connectionString: `file:///out/${unique()}.json`,
      };
      return {
        input,
        expected: input,
        replacement,
        replaced: { ...replacement, description: '', configuration: {}, schemaId: null },
      };
    },
  })),
];

/** The server-owned fields of an entity, and the rest. */
function split(entity: Body) {
  const { id, createdAt, updatedAt, createdBy, updatedBy, ...rest } = entity;
  return { id, createdAt, updatedAt, createdBy, updatedBy, rest };
}

/** Asserts a freshly created entity: the expected fields plus id, equal ISO timestamps, and the calling key's name. */
function assertCreated(entity: Body, expected: Body, since: number): void {
  const { id, createdAt, updatedAt, createdBy, updatedBy, rest } = split(entity);
  assert.match(String(id), UUID);
  assert.match(String(createdAt), ISO_TIMESTAMP);
  assert.equal(updatedAt, createdAt);
  const created = Date.parse(String(createdAt));
  assert.ok(created >= since - 2_000 && created <= Date.now() + 2_000, `createdAt ${String(createdAt)}`);
  assert.equal(createdBy, 'test-editor');
  assert.equal(updatedBy, 'test-editor');
  assert.deepEqual(rest, expected);
}

function compositePath(c: Case, entity: Body, connectionString = entity.connectionString as string): string {
  const path = `/api/${c.entity}/composite/${encodeURIComponent(String(entity.version))}/${encodeURIComponent(String(entity.name))}`;
  return c.keyHasConnectionString ? `${path}?connectionString=${encodeURIComponent(connectionString)}` : path;
}

describe('CRUD of every entity', () => {
  let api: TestApi;
  before(async () => {
    api = await startTestApi();
  });
  after(() => api.close());

  /** Prepares and creates one entity of the case. */
  async function createOne(c: Case) {
    const prepared = await c.prepare(api);
    const response = await api.request('POST', `/api/${c.entity}`, prepared.input);
    assert.equal(response.status, 201, JSON.stringify(response.body));
    return { ...prepared, created: response.body as Body };
  }

  for (const c of CASES) {
    describe(c.entity, () => {
      it('POST answers 201 with Location and the created entity', async () => {
        const { input, expected } = await c.prepare(api);
        const since = Date.now();
        const response = await api.request('POST', `/api/${c.entity}`, input);
        assert.equal(response.status, 201, JSON.stringify(response.body));
        assert.equal(response.headers.get('location'), `/api/${c.entity}/${response.body.id}`);
        assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
        assertCreated(response.body, expected, since);
      });

      it('GET by id answers 200 with the entity', async () => {
        const { created } = await createOne(c);
        const response = await api.request('GET', `/api/${c.entity}/${String(created.id)}`);
        assert.equal(response.status, 200);
        assert.deepEqual(response.body, created);
      });

      it('GET by composite key answers 200 with the entity', async () => {
        const { created } = await createOne(c);
        const response = await api.request('GET', compositePath(c, created));
        assert.equal(response.status, 200, JSON.stringify(response.body));
        assert.deepEqual(response.body, created);

        const missing = await api.request(
          'GET',
          compositePath(c, { ...created, name: `missing-${unique()}` }),
        );
        assertError(missing, 404, 'NotFound');
      });

      if (c.keyHasConnectionString)
        it('GET by composite key needs the connectionString query parameter', async () => {
          const { created } = await createOne(c);
          const base = `/api/${c.entity}/composite/${String(created.version)}/${String(created.name)}`;
          assertError(await api.request('GET', base), 400, 'ValidationFailed', [
            { field: 'query.connectionString', rule: 'required', message: 'is required' },
          ]);
          assertError(await api.request('GET', `${base}?connectionString=`), 400, 'ValidationFailed', [
            { field: 'query.connectionString', rule: 'required' },
          ]);
          const other = await api.request('GET', compositePath(c, created, 'https://elsewhere.test/'));
          assertError(other, 404, 'NotFound');
        });

      it('GET list answers the entities with X-Total-Count', async () => {
        const { created } = await createOne(c);
        const response = await api.request<Body[]>('GET', `/api/${c.entity}?limit=1000`);
        assert.equal(response.status, 200);
        assert.ok(Array.isArray(response.body));
        assert.equal(response.headers.get('x-total-count'), String(response.body.length));
        assert.deepEqual(
          response.body.find((entity) => entity.id === created.id),
          created,
        );
      });

      it('PUT answers 204; the change is stored, updatedAt moves, createdAt and createdBy stay', async () => {
        const { created, replacement, replaced } = await createOne(c);
        await sleep(5); // timestamps have millisecond precision
        const put = await api.request('PUT', `/api/${c.entity}/${String(created.id)}`, replacement);
        assert.equal(put.status, 204, JSON.stringify(put.body));
        assert.equal(put.body, undefined);

        const got = await api.request<Body>('GET', `/api/${c.entity}/${String(created.id)}`);
        assert.equal(got.status, 200);
        const after = split(got.body);
        assert.equal(after.id, created.id);
        assert.equal(after.createdAt, created.createdAt);
        assert.equal(after.createdBy, 'test-editor');
        assert.equal(after.updatedBy, 'test-editor');
        assert.match(String(after.updatedAt), ISO_TIMESTAMP);
        assert.ok(
          Date.parse(String(after.updatedAt)) > Date.parse(String(created.updatedAt)),
          `updatedAt ${String(after.updatedAt)} did not move past ${String(created.updatedAt)}`,
        );
        assert.deepEqual(after.rest, replaced);
      });

      it('DELETE answers 204, then the entity is gone', async () => {
        const { created } = await createOne(c);
        const path = `/api/${c.entity}/${String(created.id)}`;
        const deleted = await api.request('DELETE', path);
        assert.equal(deleted.status, 204);
        assert.equal(deleted.body, undefined);
        const got = await api.request('GET', path);
        assert.deepEqual(got.body, {
          error: 'NotFound',
          message: `${c.entity} ${String(created.id)} was not found`,
        });
        assert.equal(got.status, 404);
        assertError(await api.request('DELETE', path), 404, 'NotFound');
        assertError(await api.request('GET', compositePath(c, created)), 404, 'NotFound');
      });

      it('GET, PUT and DELETE of an unknown id answer 404 NotFound', async () => {
        const { input } = await c.prepare(api);
        const id = randomUUID();
        const notFound = { error: 'NotFound', message: `${c.entity} ${id} was not found` };
        for (const [method, body] of [['GET'], ['PUT', input], ['DELETE']] as const) {
          const response = await api.request(method, `/api/${c.entity}/${id}`, body);
          assert.equal(response.status, 404, `${method}: ${JSON.stringify(response.body)}`);
          assert.deepEqual(response.body, notFound, method);
        }
      });

      it('a malformed GUID in the path answers 400 naming the parameter', async () => {
        const { input } = await c.prepare(api);
        for (const bad of ['not-a-guid', '12345', `${randomUUID()}0`]) {
          for (const [method, body] of [['GET'], ['PUT', input], ['DELETE']] as const) {
            const response = await api.request(method, `/api/${c.entity}/${bad}`, body);
            assertError(response, 400, 'ValidationFailed', [
              { field: 'id', rule: 'guid', message: 'must be a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)' },
            ]);
          }
        }
      });

      it('server-owned fields in a body are ignored, not stored', async () => {
        const { input, expected, replacement, replaced } = await c.prepare(api);
        const forgedId = randomUUID();
        const forged = {
          id: forgedId,
          createdAt: '2001-01-01T00:00:00.000Z',
          updatedAt: '2001-01-01T00:00:00.000Z',
          createdBy: 'mallory',
          updatedBy: 'mallory',
          ...(c.entity === 'Processor' ? { taskQueue: 'forged-queue' } : {}),
        };
        const since = Date.now();
        const created = await api.request<Body>('POST', `/api/${c.entity}`, { ...input, ...forged });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        assert.notEqual(created.body.id, forgedId);
        assertCreated(created.body, expected, since);
        assertError(await api.request('GET', `/api/${c.entity}/${forgedId}`), 404, 'NotFound');

        const path = `/api/${c.entity}/${String(created.body.id)}`;
        const put = await api.request('PUT', path, { ...replacement, ...forged });
        assert.equal(put.status, 204, JSON.stringify(put.body));
        const got = split((await api.request<Body>('GET', path)).body);
        assert.equal(got.id, created.body.id);
        assert.equal(got.createdAt, created.body.createdAt);
        assert.equal(got.createdBy, 'test-editor');
        assert.equal(got.updatedBy, 'test-editor');
        assert.notEqual(got.updatedAt, forged.updatedAt);
        assert.deepEqual(got.rest, replaced);
      });

      it('an unknown field answers 400 unknownField, on POST and PUT', async () => {
        const { created, input } = await createOne(c);
        const body = { ...input, name: `other-${unique()}`, colour: 'blue', Name: 'x' };
        const expected = [
          { field: 'colour', rule: 'unknownField', message: 'is not a field of this entity' },
          { field: 'Name', rule: 'unknownField', message: 'is not a field of this entity' },
        ];
        assertError(await api.request('POST', `/api/${c.entity}`, body), 400, 'ValidationFailed', expected);
        const put = await api.request('PUT', `/api/${c.entity}/${String(created.id)}`, body);
        assertError(put, 400, 'ValidationFailed', expected);
        assertError(await api.request('GET', compositePath(c, body)), 404, 'NotFound');
      });
    });
  }

  describe('Step.entryCondition', () => {
    let processorId: string;
    before(async () => {
      processorId = (await createProcessor(api)).id as string;
    });

    const accepted: Array<[unknown, string]> = [
      [0, 'PreviousSuccess'],
      [1, 'PreviousFailure'],
      [2, 'Always'],
      [3, 'Never'],
      ['PreviousSuccess', 'PreviousSuccess'],
      ['PreviousFailure', 'PreviousFailure'],
      ['Always', 'Always'],
      ['Never', 'Never'],
    ];
    for (const [given, answered] of accepted)
      it(`accepts ${JSON.stringify(given)} and answers "${answered}"`, async () => {
        const created = await createStep(api, processorId, { entryCondition: given });
        assert.equal(created.entryCondition, answered);
        const got = await api.request('GET', `/api/Step/${String(created.id)}`);
        assert.equal(got.body.entryCondition, answered);
        const put = await api.request('PUT', `/api/Step/${String(created.id)}`, {
          version: created.version,
          name: created.name,
          processorId,
          entryCondition: given === 3 ? 0 : 3,
        });
        assert.equal(put.status, 204, JSON.stringify(put.body));
        const updated = await api.request('GET', `/api/Step/${String(created.id)}`);
        assert.equal(updated.body.entryCondition, given === 3 ? 'PreviousSuccess' : 'Never');
      });

    it('defaults to PreviousSuccess', async () => {
      const created = await createStep(api, processorId);
      assert.equal(created.entryCondition, 'PreviousSuccess');
    });

    for (const invalid of [4, -1, 1.5, '2', 'always', 'Sometimes', null, true, [0]])
      it(`rejects ${JSON.stringify(invalid)} with 400`, async () => {
        const name = `step-${unique()}`;
        const response = await api.request('POST', '/api/Step', {
          version: '1.0',
          name,
          processorId,
          entryCondition: invalid,
        });
        assertError(response, 400, 'ValidationFailed', [
          {
            field: 'entryCondition',
            rule: 'oneOf',
            message: 'must be one of PreviousSuccess, PreviousFailure, Always, Never or 0-3',
          },
        ]);
        assertError(await api.request('GET', `/api/Step/composite/1.0/${name}`), 404, 'NotFound');
      });
  });

  describe("the spec's Step example", () => {
    const example = {
      version: '1.0',
      name: 'ProcessFileStep',
      description: 'Step to process uploaded files',
      processorId: '12345678-1234-1234-1234-123456789012',
      nextStepIds: ['87654321-4321-4321-4321-210987654321'],
      entryCondition: 'PreviousSuccess',
    };

    it('verbatim, its processor and next step do not exist: 409 naming both', async () => {
      const response = await api.request('POST', '/api/Step', example);
      assertError(response, 409, 'ReferentialIntegrity', [
        { field: 'processorId', rule: 'exists', message: `Processor ${example.processorId} does not exist` },
        { field: 'nextStepIds[0]', rule: 'exists', message: `Step ${example.nextStepIds[0]} does not exist` },
      ]);
    });

    it('with existing processor and next step: 201 with the response the spec shows', async () => {
      const processor = await createProcessor(api);
      const next = await createStep(api, processor.id);
      const body = { ...example, processorId: processor.id, nextStepIds: [next.id] };
      const since = Date.now();
      const response = await api.request('POST', '/api/Step', body);
      assert.equal(response.status, 201, JSON.stringify(response.body));
      assert.equal(response.headers.get('location'), `/api/Step/${response.body.id}`);
      assertCreated(
        response.body,
        {
          ...body,
          configuration: null,
          retryPolicy: null,
          timeouts: null,
          forEach: null,
          compensation: null,
        },
        since,
      );
      const byKey = await api.request('GET', '/api/Step/composite/1.0/ProcessFileStep');
      assert.deepEqual(byKey.body, response.body);
    });
  });

  it('a composite key with reserved URL characters round-trips', async () => {
    const schema = await createSchema(api, {
      version: '2.0-beta+1',
      name: `reports/daily ${unique()} & co?`,
    });
    const response = await api.request(
      'GET',
      `/api/Schema/composite/${encodeURIComponent(schema.version)}/${encodeURIComponent(schema.name)}`,
    );
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.deepEqual(response.body, schema);
  });

  it('names and versions are trimmed before they are stored', async () => {
    const name = `padded-${unique()}`;
    const created = await createSchema(api, { version: ' 1.0 ', name: `  ${name}\t` });
    assert.equal(created.version, '1.0');
    assert.equal(created.name, name);
  });
});
