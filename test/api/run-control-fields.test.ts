/**
 * The run-control fields of the definitions API through HTTP (issue 13): a Step's `forEach` and `compensation`, a
 * Processor's `maxActivitiesPerSecond` and `maxConcurrentActivities`, an OrchestratedFlow's `maxConcurrentSteps` —
 * created, replaced, cleared and read back; every rule they break answered 400 naming the field and the rule; a
 * compensation naming a missing processor answered as any missing reference (409), and a processor used as a
 * compensation refusing deletion while a step uses it; and the definition snapshot a run records, which carries the
 * fields only where they are set (so the snapshots, and hashes, of definitions without them are what they were).
 */
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { loadFlowSnapshot } from '../../activities/snapshot';
import { startTestApi, type TestApi } from '../support/api';
import { assertError, type ExpectedDetail } from '../support/assertions';
import { create, createFlow, createProcessor, createStep, createWorkflow, unique } from '../support/fixtures';

type Body = Record<string, any>;

describe('run-control fields', () => {
  let api: TestApi;
  let processorId: string;
  let refundId: string;

  before(async () => {
    api = await startTestApi();
    processorId = (await createProcessor(api)).id;
    refundId = (await createProcessor(api, { name: `refund-${unique()}` })).id;
  });
  after(() => api?.close());

  const get = async (entity: string, id: string): Promise<Body> => {
    const response = await api.request<Body>('GET', `/api/${entity}/${id}`);
    assert.equal(response.status, 200, JSON.stringify(response.body));
    return response.body;
  };
  const put = async (entity: string, id: string, body: Body) => {
    const response = await api.request('PUT', `/api/${entity}/${id}`, body);
    assert.equal(response.status, 204, JSON.stringify(response.body));
    assert.equal(response.body, undefined, 'a 204 has no body');
  };
  /** Writable fields of an entity as read (what a PUT sends back). */
  const writable = ({
    id: _id,
    createdAt: _c,
    updatedAt: _u,
    createdBy: _cb,
    updatedBy: _ub,
    ...rest
  }: Body) => rest;
  const rejects = async (entity: string, body: Body, details: ExpectedDetail[]) => {
    const created = await api.request('POST', `/api/${entity}`, body);
    assertError(created, 400, 'ValidationFailed', details);
    return created.body as { message: string; details: Body[] };
  };

  describe('Step.forEach', () => {
    const step = (forEach: unknown) => ({
      version: '1.0',
      name: `for-each-${unique()}`,
      processorId,
      forEach,
    });

    it('is stored with its defaults, replaced, cleared, and null when absent', async () => {
      const created = await create(api, 'Step', step({ items: '$.orders' }));
      assert.deepEqual(created.forEach, { items: '$.orders', maxParallel: 10, failurePolicy: 'failFast' });
      assert.equal(created.compensation, null);
      assert.deepEqual((await get('Step', created.id)).forEach, created.forEach);

      const replaced = { items: 'assignments', maxParallel: 3, failurePolicy: 'collect' };
      await put('Step', created.id, { ...writable(created), forEach: replaced });
      assert.deepEqual((await get('Step', created.id)).forEach, replaced);

      await put('Step', created.id, { ...writable(created), forEach: null });
      assert.equal((await get('Step', created.id)).forEach, null);

      const plain = await createStep(api, processorId);
      assert.equal(plain.forEach, null);
      assert.equal(plain.compensation, null);
    });

    it('takes items of up to 2000 characters, maxParallel 1 and 100', async () => {
      const long = `$.a${' '.repeat(1995)}.b`;
      assert.equal(long.length, 2000);
      for (const forEach of [
        { items: long, maxParallel: 1 },
        { items: 'orders[status = "open"].lines', maxParallel: 100 },
      ])
        assert.equal((await create(api, 'Step', step(forEach))).forEach.maxParallel, forEach.maxParallel);
    });

    it('refuses items that are not JSONata, naming the parser’s problem', async () => {
      const refused = await rejects('Step', step({ items: 'orders[' }), [
        { field: 'forEach.items', rule: 'jsonata', message: /Expected "]" before end of expression/ },
      ]);
      assert.match(refused.details[0]!.message, /^is not a JSONata expression: .* \(at character 7\)$/);
      await rejects('Step', step({ items: '"unterminated' }), [
        { field: 'forEach.items', rule: 'jsonata', message: /String literal must be terminated/ },
      ]);
    });

    it('refuses every out-of-range or unknown part at once', async () => {
      const refused = await api.request(
        'POST',
        '/api/Step',
        step({ items: '', maxParallel: 0, failurePolicy: 'sometimes', every: 2 }),
      );
      assertError(refused, 400, 'ValidationFailed');
      const details = (refused.body as { details: Body[] }).details
        .map((d) => `${String(d.field)} ${String(d.rule)}`)
        .sort();
      assert.deepEqual(details, [
        'forEach.every unknownField',
        'forEach.failurePolicy oneOf',
        'forEach.items required',
        'forEach.maxParallel min',
      ]);
      await rejects('Step', step({ items: 'x'.repeat(2001) }), [
        { field: 'forEach.items', rule: 'max', message: 'must be at most 2000 characters' },
      ]);
      await rejects('Step', step({ items: '$', maxParallel: 101 }), [
        { field: 'forEach.maxParallel', rule: 'max', message: 'must be at most 100' },
      ]);
      await rejects('Step', step({ items: '$', maxParallel: 2.5 }), [
        { field: 'forEach.maxParallel', rule: 'type', message: 'must be an integer' },
      ]);
      await rejects('Step', step({ maxParallel: 2 }), [
        { field: 'forEach.items', rule: 'required', message: 'is required' },
      ]);
      await rejects('Step', step('$.orders'), [{ field: 'forEach', rule: 'type' }]);
    });
  });

  describe('Step.compensation', () => {
    const step = (compensation: unknown) => ({
      version: '1.0',
      name: `compensated-${unique()}`,
      processorId,
      compensation,
    });

    it('is stored, replaced and cleared; its configuration is null when absent', async () => {
      const created = await create(
        api,
        'Step',
        step({ processorId: refundId, configuration: { reason: 'order failed' } }),
      );
      assert.deepEqual(created.compensation, {
        processorId: refundId,
        configuration: { reason: 'order failed' },
      });
      assert.equal(created.forEach, null);
      assert.deepEqual((await get('Step', created.id)).compensation, created.compensation);

      await put('Step', created.id, { ...writable(created), compensation: { processorId } });
      assert.deepEqual((await get('Step', created.id)).compensation, { processorId, configuration: null });

      await put('Step', created.id, { ...writable(created), compensation: null });
      assert.equal((await get('Step', created.id)).compensation, null);
    });

    it('refuses a malformed compensation, naming the field', async () => {
      await rejects('Step', step({ processorId: 'not-a-guid' }), [
        { field: 'compensation.processorId', rule: 'guid' },
      ]);
      await rejects('Step', step({ configuration: {} }), [
        { field: 'compensation.processorId', rule: 'required', message: 'is required' },
      ]);
      await rejects('Step', step({ processorId: refundId, configuration: 'refund' }), [
        { field: 'compensation.configuration', rule: 'type' },
      ]);
      await rejects('Step', step({ processorId: refundId, retries: 3 }), [
        { field: 'compensation.retries', rule: 'unknownField' },
      ]);
      await rejects('Step', step('refund'), [{ field: 'compensation', rule: 'type' }]);
    });

    it('must name an existing processor, on create and on replace', async () => {
      const missing = randomUUID();
      const refused = await api.request('POST', '/api/Step', step({ processorId: missing }));
      assertError(refused, 409, 'ReferentialIntegrity', [
        { field: 'compensation.processorId', rule: 'exists', message: `Processor ${missing} does not exist` },
      ]);
      assert.equal((refused.body as { details: Body[] }).details[0]!.missingId, missing);

      const created = await createStep(api, processorId);
      const replaced = await api.request('PUT', `/api/Step/${created.id}`, {
        ...writable(created),
        compensation: { processorId: missing },
      });
      assertError(replaced, 409, 'ReferentialIntegrity', [
        { field: 'compensation.processorId', rule: 'exists' },
      ]);
      assert.equal((await get('Step', created.id)).compensation, null, 'nothing was written');
    });

    it('keeps its processor from being deleted while a step uses it, naming the step', async () => {
      const refund = await createProcessor(api, { name: `refund-${unique()}` });
      const compensated = await create(api, 'Step', step({ processorId: refund.id }));
      const refused = await api.request('DELETE', `/api/Processor/${refund.id}`);
      assertError(refused, 409, 'ReferentialIntegrity', [{ field: 'id', rule: 'notReferenced' }]);
      const detail = (refused.body as { details: Body[] }).details[0]!;
      assert.equal(
        detail.message,
        `referenced by Step "${compensated.name}" (${compensated.id}) through compensation.processorId`,
      );
      assert.deepEqual(detail.referrer, {
        entity: 'Step',
        id: compensated.id,
        name: compensated.name,
        version: '1.0',
        field: 'compensation.processorId',
      });
      assert.match((refused.body as { message: string }).message, new RegExp(`Step "${compensated.name}"`));
      assert.equal((await get('Processor', refund.id)).id, refund.id, 'still there');

      await put('Step', compensated.id, { ...writable(compensated), compensation: null });
      const deleted = await api.request('DELETE', `/api/Processor/${refund.id}`);
      assert.equal(deleted.status, 204, JSON.stringify(deleted.body));
      assertError(await api.request('GET', `/api/Processor/${refund.id}`), 404, 'NotFound');
    });
  });

  describe('Processor limits', () => {
    const processor = async (limits: Body) => {
      const base = await createProcessor(api);
      return { ...writable(base), name: `limited-${unique()}`, ...limits };
    };

    it('are stored, replaced and cleared; null when absent', async () => {
      const body = await processor({ maxActivitiesPerSecond: 2.5, maxConcurrentActivities: 4 });
      const created = await create(api, 'Processor', body);
      assert.equal(created.maxActivitiesPerSecond, 2.5);
      assert.equal(created.maxConcurrentActivities, 4);
      assert.deepEqual(await get('Processor', created.id), created);

      await put('Processor', created.id, {
        ...writable(created),
        maxActivitiesPerSecond: 100_000,
        maxConcurrentActivities: 10_000,
      });
      const replaced = await get('Processor', created.id);
      assert.equal(replaced.maxActivitiesPerSecond, 100_000);
      assert.equal(replaced.maxConcurrentActivities, 10_000);

      await put('Processor', created.id, {
        ...writable(created),
        maxActivitiesPerSecond: null,
        maxConcurrentActivities: null,
      });
      const cleared = await get('Processor', created.id);
      assert.equal(cleared.maxActivitiesPerSecond, null);
      assert.equal(cleared.maxConcurrentActivities, null);

      const plain = await createProcessor(api);
      assert.equal(plain.maxActivitiesPerSecond, null);
      assert.equal(plain.maxConcurrentActivities, null);
    });

    it('refuses rates and concurrencies out of range, naming the field and the rule', async () => {
      await rejects('Processor', await processor({ maxActivitiesPerSecond: 0, maxConcurrentActivities: 0 }), [
        { field: 'maxActivitiesPerSecond', rule: 'min', message: 'must be greater than 0' },
        { field: 'maxConcurrentActivities', rule: 'min', message: 'must be at least 1' },
      ]);
      await rejects(
        'Processor',
        await processor({ maxActivitiesPerSecond: 100_001, maxConcurrentActivities: 10_001 }),
        [
          { field: 'maxActivitiesPerSecond', rule: 'max', message: 'must be at most 100000' },
          { field: 'maxConcurrentActivities', rule: 'max', message: 'must be at most 10000' },
        ],
      );
      await rejects(
        'Processor',
        await processor({ maxActivitiesPerSecond: 'fast', maxConcurrentActivities: 1.5 }),
        [
          { field: 'maxActivitiesPerSecond', rule: 'type', message: 'must be a number' },
          { field: 'maxConcurrentActivities', rule: 'type', message: 'must be an integer' },
        ],
      );
      await rejects('Processor', await processor({ maxActivitiesPerSecond: -5 }), [
        { field: 'maxActivitiesPerSecond', rule: 'min' },
      ]);
    });
  });

  describe('OrchestratedFlow.maxConcurrentSteps', () => {
    let workflowId: string;
    before(async () => {
      workflowId = (await createWorkflow(api, [(await createStep(api, processorId)).id])).id;
    });

    it('is stored, replaced and cleared; null (the engine default) when absent', async () => {
      const created = await createFlow(api, workflowId, { maxConcurrentSteps: 2 });
      assert.equal(created.maxConcurrentSteps, 2);
      assert.deepEqual(await get('OrchestratedFlow', created.id), created);

      await put('OrchestratedFlow', created.id, { ...writable(created), maxConcurrentSteps: 1000 });
      assert.equal((await get('OrchestratedFlow', created.id)).maxConcurrentSteps, 1000);
      await put('OrchestratedFlow', created.id, { ...writable(created), maxConcurrentSteps: null });
      assert.equal((await get('OrchestratedFlow', created.id)).maxConcurrentSteps, null);

      assert.equal((await createFlow(api, workflowId)).maxConcurrentSteps, null);
    });

    it('refuses anything but an integer from 1 to 1000', async () => {
      const flow = (maxConcurrentSteps: unknown) => ({
        version: '1.0',
        name: `flow-${unique()}`,
        workflowId,
        maxConcurrentSteps,
      });
      await rejects('OrchestratedFlow', flow(0), [
        { field: 'maxConcurrentSteps', rule: 'min', message: 'must be at least 1' },
      ]);
      await rejects('OrchestratedFlow', flow(1001), [
        { field: 'maxConcurrentSteps', rule: 'max', message: 'must be at most 1000' },
      ]);
      await rejects('OrchestratedFlow', flow(2.5), [
        { field: 'maxConcurrentSteps', rule: 'type', message: 'must be an integer' },
      ]);
      await rejects('OrchestratedFlow', flow('many'), [
        { field: 'maxConcurrentSteps', rule: 'type', message: 'must be an integer' },
      ]);
    });
  });
  describe('the definition snapshot', () => {
    /** The snapshot's hash as it was always computed: SHA-256 of JSON with object keys sorted. */
    const hashOf = (value: unknown) =>
      createHash('sha256')
        .update(
          JSON.stringify(value, (_key, v: unknown) =>
            v && typeof v === 'object' && !Array.isArray(v)
              ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)))
              : v,
          ),
        )
        .digest('hex');
    const snapshotProcessor = (p: Body) => ({
      id: p.id,
      name: p.name,
      version: p.version,
      taskQueue: p.taskQueue,
      implementationHash: p.implementationHash,
      inputSchemaId: p.inputSchemaId,
      outputSchemaId: p.outputSchemaId,
      retryPolicy: p.retryPolicy,
      timeouts: p.timeouts,
    });
    const snapshotStep = (step: Body, processor: Body) => ({
      id: step.id,
      version: step.version,
      name: step.name,
      entryCondition: step.entryCondition,
      nextStepIds: step.nextStepIds,
      configuration: step.configuration,
      retryPolicy: step.retryPolicy,
      timeouts: step.timeouts,
      processor: snapshotProcessor(processor),
      assignments: [],
    });

    it('of a definition without the fields is the one it always was, hash included', async () => {
      const processor = await get('Processor', processorId);
      const last = await createStep(api, processorId, { configuration: { expression: '$' } });
      const first = await createStep(api, processorId, { nextStepIds: [last.id] });
      const workflow = await createWorkflow(api, [first.id, last.id]);
      const flow = await createFlow(api, workflow.id);

      const snapshot = await loadFlowSnapshot(api.prisma, flow.id);
      assert.ok(snapshot);
      const { hash, ...unhashed } = snapshot;
      const expected = {
        orchestratedFlow: { id: flow.id, version: flow.version, name: flow.name },
        workflow: { id: workflow.id, version: workflow.version, name: workflow.name },
        stepIds: [first.id, last.id],
        steps: {
          [first.id]: snapshotStep(first, processor),
          [last.id]: snapshotStep(last, processor),
        },
      };
      // Exactly these keys: no forEach, compensation or maxConcurrentSteps, not even undefined ones.
      assert.deepEqual(unhashed, expected);
      assert.deepEqual(
        Object.keys(unhashed).sort(),
        ['orchestratedFlow', 'steps', 'stepIds', 'workflow'].sort(),
      );
      for (const step of Object.values(unhashed.steps))
        assert.ok(!('forEach' in step) && !('compensation' in step), JSON.stringify(step));
      assert.equal(hash, hashOf(expected));
    });

    it('carries forEach, compensation (with its processor) and maxConcurrentSteps where they are set', async () => {
      const processor = await get('Processor', processorId);
      const refund = await get('Processor', refundId);
      const fanOut = await create(api, 'Step', {
        version: '1.0',
        name: `fan-out-${unique()}`,
        processorId,
        forEach: { items: '$.orders', maxParallel: 5, failurePolicy: 'collect' },
        compensation: { processorId: refundId, configuration: { mode: 'full' } },
      });
      const plain = await createStep(api, processorId);
      const workflow = await createWorkflow(api, [fanOut.id, plain.id]);
      const flow = await createFlow(api, workflow.id, { maxConcurrentSteps: 7 });

      const snapshot = await loadFlowSnapshot(api.prisma, flow.id);
      assert.ok(snapshot);
      const { hash, ...unhashed } = snapshot;
      const expected = {
        orchestratedFlow: { id: flow.id, version: flow.version, name: flow.name },
        workflow: { id: workflow.id, version: workflow.version, name: workflow.name },
        stepIds: [fanOut.id, plain.id],
        steps: {
          [fanOut.id]: {
            ...snapshotStep(fanOut, processor),
            forEach: { items: '$.orders', maxParallel: 5, failurePolicy: 'collect' },
            compensation: { processor: snapshotProcessor(refund), configuration: { mode: 'full' } },
          },
          [plain.id]: snapshotStep(plain, processor),
        },
        maxConcurrentSteps: 7,
      };
      assert.deepEqual(unhashed, expected);
      assert.equal(hash, hashOf(expected));

      // A compensation without configuration carries null; the definition is another, so is the hash.
      await put('Step', fanOut.id, { ...writable(fanOut), compensation: { processorId: refundId } });
      const changed = await loadFlowSnapshot(api.prisma, flow.id);
      assert.deepEqual(changed?.steps[fanOut.id]?.compensation, {
        processor: snapshotProcessor(refund),
        configuration: null,
      });
      assert.notEqual(changed?.hash, hash);
    });
  });
});
