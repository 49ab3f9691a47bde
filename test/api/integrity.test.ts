import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestApi, type TestApi } from '../support/api';
import { assertError } from '../support/assertions';
import {
  create,
  createAddress,
  createAssignment,
  createDelivery,
  createFlow,
  createProcessor,
  createReferences,
  createSchema,
  createStep,
  createWorkflow,
  ENTITY_NAMES,
  type ReferenceIds,
  unique,
  validBody,
} from '../support/fixtures';

const DUPLICATE_KEY = [{ field: 'compositeKey', rule: 'unique' }];

describe('integrity', () => {
  let api: TestApi;
  let ids: ReferenceIds;

  before(async () => {
    api = await startTestApi();
    ids = await createReferences(api);
  });
  after(() => api.close());

  const get = async (entity: string, id: string) => {
    const response = await api.request('GET', `/api/${entity}/${id}`);
    assert.equal(response.status, 200, JSON.stringify(response.body));
    return response.body as Record<string, unknown>;
  };

  describe('unique composite keys', () => {
    for (const entity of ENTITY_NAMES)
      it(`${entity}: a duplicate key answers 409 DuplicateKey on create and on update`, async () => {
        const first = await create(api, entity, validBody(entity, ids));
        const again: Record<string, unknown> = {
          ...validBody(entity, ids),
          version: first.version,
          name: first.name,
        };
        if ('connectionString' in first) again.connectionString = first.connectionString;
        assertError(await api.request('POST', `/api/${entity}`, again), 409, 'DuplicateKey', DUPLICATE_KEY);

        const second = await create(api, entity, validBody(entity, ids));
        const put = await api.request('PUT', `/api/${entity}/${second.id}`, again);
        assertError(put, 409, 'DuplicateKey', DUPLICATE_KEY);
        assert.deepEqual(await get(entity, second.id), second);
      });

    it('the same name under another version is another key', async () => {
      const schema = await createSchema(api);
      const other = await createSchema(api, { name: schema.name, version: '2.0' });
      assert.notEqual(other.id, schema.id);
    });

    for (const entity of ['Address', 'Delivery'] as const)
      it(`${entity}: the same version and name with another connectionString is allowed`, async () => {
        const first = await create(api, entity, validBody(entity, ids));
        const second = await create(api, entity, {
          version: first.version,
          name: first.name,
          connectionString: `${first.connectionString}/other`,
        });
        assert.notEqual(second.id, first.id);
        const byKey = await api.request(
          'GET',
          `/api/${entity}/composite/${first.version}/${first.name}?connectionString=${encodeURIComponent(second.connectionString)}`,
        );
        assert.deepEqual(byKey.body, second);
      });

    it('an Address and a Delivery may share a key: each entity has its own keys', async () => {
      const address = await createAddress(api);
      const delivery = await createDelivery(api, {
        version: address.version,
        name: address.name,
        connectionString: address.connectionString,
      });
      assert.equal(delivery.name, address.name);
    });

    for (const entity of ['Schema', 'Workflow', 'Address'] as const)
      it(`${entity}: 10 concurrent creates of one key give exactly one 201, the rest 409`, async () => {
        const body = validBody(entity, ids);
        const responses = await Promise.all(
          Array.from({ length: 10 }, () => api.request('POST', `/api/${entity}`, body)),
        );
        const created = responses.filter((r) => r.status === 201);
        const conflicts = responses.filter((r) => r.status !== 201);
        assert.equal(created.length, 1, responses.map((r) => r.status).join(','));
        assert.equal(conflicts.length, 9);
        for (const conflict of conflicts) assertError(conflict, 409, 'DuplicateKey', DUPLICATE_KEY);
        const list = await api.request<Array<{ name: string }>>('GET', `/api/${entity}?limit=1000`);
        assert.deepEqual(
          list.body.filter((e) => e.name === body.name),
          [created[0]!.body],
        );
      });
  });

  describe('references to missing entities answer 409 ReferentialIntegrity', () => {
    const missing = randomUUID();
    /** [entity, field as named in the details, the target named in the message, body with the missing id]. */
    const cases: Array<[string, string, string, () => Record<string, unknown>]> = [
      [
        'Processor',
        'inputSchemaId',
        'Schema',
        () => ({ ...validBody('Processor', ids), inputSchemaId: missing }),
      ],
      [
        'Processor',
        'outputSchemaId',
        'Schema',
        () => ({ ...validBody('Processor', ids), outputSchemaId: missing }),
      ],
      ['Step', 'processorId', 'Processor', () => ({ ...validBody('Step', ids), processorId: missing })],
      [
        'Step',
        'nextStepIds[1]',
        'Step',
        () => ({ ...validBody('Step', ids), nextStepIds: [ids.step, missing] }),
      ],
      [
        'Workflow',
        'stepIds[1]',
        'Step',
        () => ({ ...validBody('Workflow', ids), stepIds: [ids.step, missing] }),
      ],
      ['Assignment', 'stepId', 'Step', () => ({ ...validBody('Assignment', ids), stepId: missing })],
      [
        'Assignment',
        'entityIds[1]',
        'Address or Delivery',
        () => ({ ...validBody('Assignment', ids), entityIds: [ids.address, missing] }),
      ],
      [
        'OrchestratedFlow',
        'workflowId',
        'Workflow',
        () => ({ ...validBody('OrchestratedFlow', ids), workflowId: missing }),
      ],
      [
        'OrchestratedFlow',
        'assignmentIds[0]',
        'Assignment',
        () => ({ ...validBody('OrchestratedFlow', ids), assignmentIds: [missing] }),
      ],
      ['Address', 'schemaId', 'Schema', () => ({ ...validBody('Address', ids), schemaId: missing })],
      ['Delivery', 'schemaId', 'Schema', () => ({ ...validBody('Delivery', ids), schemaId: missing })],
    ];
    const expected = (field: string, target: string) => [
      { field, rule: 'exists', message: `${target} ${missing} does not exist` },
    ];

    for (const [entity, field, target, body] of cases) {
      it(`${entity}.${field} on create`, async () => {
        const invalid = body();
        const response = await api.request('POST', `/api/${entity}`, invalid);
        assertError(response, 409, 'ReferentialIntegrity', expected(field, target));
        assert.equal(response.body.details[0].missingId, missing);
        const byKey = await api.request(
          'GET',
          `/api/${entity}/composite/${String(invalid.version)}/${String(invalid.name)}?connectionString=${encodeURIComponent(String(invalid.connectionString))}`,
        );
        assertError(byKey, 404, 'NotFound');
      });

      it(`${entity}.${field} on update, which changes nothing`, async () => {
        const existing = await create(api, entity, validBody(entity as never, ids));
        const { version, name } = existing;
        const put = await api.request('PUT', `/api/${entity}/${existing.id}`, { ...body(), version, name });
        assertError(put, 409, 'ReferentialIntegrity', expected(field, target));
        assert.deepEqual(await get(entity, existing.id), existing);
      });
    }

    it('every missing reference of a body is named at once', async () => {
      const [a, b] = [randomUUID(), randomUUID()];
      const response = await api.request('POST', '/api/Processor', {
        ...validBody('Processor', ids),
        inputSchemaId: a,
        outputSchemaId: b,
      });
      assertError(response, 409, 'ReferentialIntegrity', [
        { field: 'inputSchemaId', rule: 'exists', message: `Schema ${a} does not exist` },
        { field: 'outputSchemaId', rule: 'exists', message: `Schema ${b} does not exist` },
      ]);
    });

    it('an id of the wrong kind is missing too (a Step is not a Schema)', async () => {
      const response = await api.request('POST', '/api/Address', {
        ...validBody('Address', ids),
        schemaId: ids.step,
      });
      assertError(response, 409, 'ReferentialIntegrity', [
        { field: 'schemaId', rule: 'exists', message: `Schema ${ids.step} does not exist` },
      ]);
    });

    it("an Assignment's entityIds may mix Addresses and Deliveries, in order", async () => {
      const [delivery, address] = [await createDelivery(api), await createAddress(api)];
      const assignment = await createAssignment(api, ids.step, [delivery.id, address.id, ids.address]);
      assert.deepEqual(assignment.entityIds, [delivery.id, address.id, ids.address]);
      assert.deepEqual((await get('Assignment', assignment.id)).entityIds, [
        delivery.id,
        address.id,
        ids.address,
      ]);
    });
  });

  describe('deleting a referenced entity answers 409 naming every referrer', () => {
    interface Referrer {
      entity: string;
      id: string;
      name: string;
      version: string;
      field: string;
    }
    const referrer = (entity: string, e: Record<string, any>, field: string): Referrer => ({
      entity,
      id: e.id,
      name: e.name,
      version: e.version,
      field,
    });
    const byId = (a: Referrer, b: Referrer) => `${a.id}${a.field}`.localeCompare(`${b.id}${b.field}`);

    /** DELETE answers 409 ReferentialIntegrity whose details name exactly `referrers`; the entity stays. */
    async function deleteRefused(entity: string, id: string, referrers: Referrer[]): Promise<void> {
      const response = await api.request('DELETE', `/api/${entity}/${id}`);
      assertError(
        response,
        409,
        'ReferentialIntegrity',
        referrers.map(() => ({ field: 'id', rule: 'notReferenced' })),
      );
      const details = response.body.details as Array<{ message: string; referrer: Referrer }>;
      assert.deepEqual(details.map((d) => d.referrer).sort(byId), [...referrers].sort(byId));
      for (const { message, referrer: r } of details)
        assert.equal(message, `referenced by ${r.entity} "${r.name}" (${r.id}) through ${r.field}`);
      for (const r of referrers) assert.ok(response.body.message.includes(`${r.entity} "${r.name}"`));
      await get(entity, id);
    }

    const deleted = async (entity: string, id: string) => {
      const response = await api.request('DELETE', `/api/${entity}/${id}`);
      assert.equal(response.status, 204, JSON.stringify(response.body));
      assertError(await api.request('GET', `/api/${entity}/${id}`), 404, 'NotFound');
    };

    it('a Schema used by processors (input and output), an Address and a Delivery', async () => {
      const schema = await createSchema(api);
      const other = await createSchema(api);
      const both = await createProcessor(api, { inputSchemaId: schema.id, outputSchemaId: schema.id });
      const output = await createProcessor(api, { inputSchemaId: other.id, outputSchemaId: schema.id });
      const address = await createAddress(api, { schemaId: schema.id });
      const delivery = await createDelivery(api, { schemaId: schema.id });
      await deleteRefused('Schema', schema.id, [
        referrer('Processor', both, 'inputSchemaId'),
        referrer('Processor', both, 'outputSchemaId'),
        referrer('Processor', output, 'outputSchemaId'),
        referrer('Address', address, 'schemaId'),
        referrer('Delivery', delivery, 'schemaId'),
      ]);

      await deleted('Processor', both.id);
      await deleted('Processor', output.id);
      await deleted('Address', address.id);
      await deleteRefused('Schema', schema.id, [referrer('Delivery', delivery, 'schemaId')]);
      const { id: _id, createdAt: _c, updatedAt: _u, createdBy: _cb, updatedBy: _ub, ...rest } = delivery;
      const put = await api.request('PUT', `/api/Delivery/${delivery.id}`, { ...rest, schemaId: null });
      assert.equal(put.status, 204, JSON.stringify(put.body));
      await deleted('Schema', schema.id);
    });

    it('a Processor used by a Step', async () => {
      const processor = await createProcessor(api);
      const step = await createStep(api, processor.id);
      await deleteRefused('Processor', processor.id, [referrer('Step', step, 'processorId')]);
      await deleted('Step', step.id);
      await deleted('Processor', processor.id);
    });

    it('a Step used as a next step, in a workflow and by an assignment', async () => {
      const processor = await createProcessor(api);
      const step = await createStep(api, processor.id);
      const previous = await createStep(api, processor.id, { nextStepIds: [step.id] });
      const workflow = await createWorkflow(api, [previous.id, step.id]);
      const assignment = await createAssignment(api, step.id, [ids.address]);
      await deleteRefused('Step', step.id, [
        referrer('Step', previous, 'nextStepIds'),
        referrer('Workflow', workflow, 'stepIds'),
        referrer('Assignment', assignment, 'stepId'),
      ]);
      await deleted('Workflow', workflow.id);
      await deleted('Assignment', assignment.id);
      await deleteRefused('Step', step.id, [referrer('Step', previous, 'nextStepIds')]);
      // A step that lists others can itself be deleted: its own edges go with it.
      await deleted('Step', previous.id);
      await deleted('Step', step.id);
    });

    it('a Workflow and an Assignment used by an OrchestratedFlow', async () => {
      const step = await createStep(api, ids.processor);
      const workflow = await createWorkflow(api, [step.id]);
      const assignment = await createAssignment(api, step.id, [ids.address]);
      const flow = await createFlow(api, workflow.id, { assignmentIds: [assignment.id] });
      await deleteRefused('Workflow', workflow.id, [referrer('OrchestratedFlow', flow, 'workflowId')]);
      await deleteRefused('Assignment', assignment.id, [referrer('OrchestratedFlow', flow, 'assignmentIds')]);
      await deleted('OrchestratedFlow', flow.id);
      await deleted('Workflow', workflow.id);
      await deleted('Assignment', assignment.id);
    });

    it('an Address and a Delivery used by assignments', async () => {
      const [address, delivery] = [await createAddress(api), await createDelivery(api)];
      const one = await createAssignment(api, ids.step, [address.id, delivery.id]);
      const two = await createAssignment(api, ids.step, [delivery.id]);
      await deleteRefused('Address', address.id, [referrer('Assignment', one, 'entityIds')]);
      await deleteRefused('Delivery', delivery.id, [
        referrer('Assignment', one, 'entityIds'),
        referrer('Assignment', two, 'entityIds'),
      ]);
      await deleted('Assignment', one.id);
      await deleted('Address', address.id);
      await deleted('Assignment', two.id);
      await deleted('Delivery', delivery.id);
    });

    it('a delete racing a create that refers to it: never both succeed, never a 500', async () => {
      for (let round = 0; round < 10; round++) {
        const schema = await createSchema(api);
        const remove = () => api.request('DELETE', `/api/Schema/${schema.id}`);
        const refer = () =>
          api.request('POST', '/api/Address', { ...validBody('Address', ids), schemaId: schema.id });
        let deletion, creation;
        if (round % 2 === 0) [deletion, creation] = await Promise.all([remove(), refer()]);
        else [creation, deletion] = await Promise.all([refer(), remove()]);
        const outcome = `${deletion.status}/${creation.status}`;
        assert.ok(outcome === '204/409' || outcome === '409/201', outcome);
        if (deletion.status === 204) {
          assertError(creation, 409, 'ReferentialIntegrity');
          assertError(await api.request('GET', `/api/Schema/${schema.id}`), 404, 'NotFound');
        } else {
          assertError(deletion, 409, 'ReferentialIntegrity');
          assert.equal(creation.body.schemaId, schema.id);
          await get('Schema', schema.id);
        }
      }
    });
  });

  it('a replace racing a delete of the same entity: 204 or 404, never a 500', async () => {
    for (let round = 0; round < 10; round++) {
      const schema = await createSchema(api);
      const { id, createdAt: _c, updatedAt: _u, createdBy: _cb, updatedBy: _ub, ...body } = schema;
      const [put, deletion] = await Promise.all([
        api.request('PUT', `/api/Schema/${id}`, { ...body, description: 'replaced' }),
        api.request('DELETE', `/api/Schema/${id}`),
      ]);
      assert.equal(deletion.status, 204, JSON.stringify(deletion.body));
      if (put.status !== 204) assertError(put, 404, 'NotFound');
      assertError(await api.request('GET', `/api/Schema/${id}`), 404, 'NotFound');
    }
  });

  it('concurrent step replaces and workflow creates over the same step all succeed', async () => {
    const processor = await createProcessor(api);
    const next = await createStep(api, processor.id);
    const step = await createStep(api, processor.id, { nextStepIds: [next.id] });
    const writes = Array.from({ length: 6 }, (_, i) =>
      i % 2 === 0
        ? api.request('PUT', `/api/Step/${step.id}`, {
            version: step.version,
            name: step.name,
            processorId: processor.id,
            nextStepIds: [next.id],
            description: `round ${i}`,
          })
        : api.request('POST', '/api/Workflow', {
            version: '1.0',
            name: `workflow-${unique()}`,
            stepIds: [step.id, next.id],
          }),
    );
    const responses = await Promise.all(writes);
    assert.deepEqual(
      responses.map((r) => r.status),
      [204, 201, 204, 201, 204, 201],
      JSON.stringify(responses.map((r) => r.body)),
    );
  });

  describe('a failed write leaves nothing half-written', () => {
    it('a Workflow PUT that fails validation keeps the old stepIds', async () => {
      const processor = await createProcessor(api);
      const last = await createStep(api, processor.id);
      const first = await createStep(api, processor.id, { nextStepIds: [last.id] });
      const workflow = await createWorkflow(api, [first.id, last.id]);
      const other = await createStep(api, processor.id);
      // Valid as a body, but `first` then lists a next step outside the workflow.
      const put = await api.request('PUT', `/api/Workflow/${workflow.id}`, {
        version: workflow.version,
        name: workflow.name,
        description: 'changed',
        stepIds: [first.id, other.id],
      });
      assertError(put, 400, 'ValidationFailed', [{ field: 'stepIds', rule: 'danglingNextStep' }]);
      assert.deepEqual(await get('Workflow', workflow.id), workflow);
      // The step list was not partly replaced: the old steps are still referenced, the new one is not.
      const referrers = await api.request('DELETE', `/api/Step/${other.id}`);
      assert.equal(referrers.status, 204, JSON.stringify(referrers.body));
      assertError(await api.request('DELETE', `/api/Step/${last.id}`), 409, 'ReferentialIntegrity');
    });

    it('a Step PUT refused for a workflow keeps its old nextStepIds and fields', async () => {
      const processor = await createProcessor(api);
      const last = await createStep(api, processor.id);
      const first = await createStep(api, processor.id, { nextStepIds: [last.id] });
      await createWorkflow(api, [first.id, last.id]);
      const put = await api.request('PUT', `/api/Step/${last.id}`, {
        version: last.version,
        name: last.name,
        processorId: processor.id,
        entryCondition: 'Never',
        nextStepIds: [first.id],
      });
      assertError(put, 409, 'WorkflowGraphConflict', [{ field: 'nextStepIds', rule: 'cycle' }]);
      assert.deepEqual(await get('Step', last.id), last);
      const lookup = await api.request('GET', `/api/Step/nextstep/${first.id}`);
      assert.deepEqual(lookup.body, []);
    });

    it('an Assignment whose last entity is missing stores no assignment and no links', async () => {
      const address = await createAddress(api);
      const name = `assignment-${unique()}`;
      const response = await api.request('POST', '/api/Assignment', {
        version: '1.0',
        name,
        stepId: ids.step,
        entityIds: [address.id, randomUUID()],
      });
      assertError(response, 409, 'ReferentialIntegrity', [{ field: 'entityIds[1]', rule: 'exists' }]);
      assertError(await api.request('GET', `/api/Assignment/composite/1.0/${name}`), 404, 'NotFound');
      const lookup = await api.request('GET', `/api/Assignment/entity/${address.id}`);
      assert.deepEqual(lookup.body, []);
      assert.equal(lookup.headers.get('x-total-count'), '0');
      await api.request('DELETE', `/api/Address/${address.id}`).then((r) => assert.equal(r.status, 204));
    });

    it('an OrchestratedFlow PUT with a duplicate key keeps its old assignments', async () => {
      const assignment = await createAssignment(api, ids.step, [ids.address]);
      const taken = await createFlow(api, ids.workflow);
      const flow = await createFlow(api, ids.workflow, { assignmentIds: [assignment.id] });
      const put = await api.request('PUT', `/api/OrchestratedFlow/${flow.id}`, {
        version: taken.version,
        name: taken.name,
        workflowId: ids.workflow,
        assignmentIds: [],
      });
      assertError(put, 409, 'DuplicateKey', DUPLICATE_KEY);
      assert.deepEqual(await get('OrchestratedFlow', flow.id), flow);
      const lookup = await api.request('GET', `/api/OrchestratedFlow/assignment/${assignment.id}`);
      assert.deepEqual(lookup.body, [flow]);
    });
  });
});
