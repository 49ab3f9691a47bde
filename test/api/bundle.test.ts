/**
 * Bundles through HTTP: plan and apply (create, re-apply unchanged, update with the changed fields), every problem
 * at once naming document and field, all or nothing, YAML bodies, ambiguous references, concurrent applies, audit,
 * the bundle JSON Schema, and the bundle routes' own body limit.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { bundleJsonSchema } from '../../api/bundle/json-schema';
import { PROJECT_ROOT } from '../../infra/config';
import { startTestApi, type TestApi } from '../support/api';
import { assertError } from '../support/assertions';
import { HASH, objectSchema, unique } from '../support/fixtures';

type Doc = Record<string, unknown>;

interface Change {
  kind: string;
  name: string;
  version: string;
  action: 'create' | 'update' | 'unchanged' | 'delete';
  fields?: string[];
  id?: string;
}
interface Result {
  changes: Change[];
  summary: Record<string, number>;
}

/** A greeting flow: a schema, a processor, three steps whose `next` points forward, a workflow and a flow. */
function greeting(prefix: string): Doc[] {
  return [
    { kind: 'Schema', name: `${prefix}-any`, version: '1.0', definition: objectSchema },
    {
      kind: 'Processor',
      name: `${prefix}-transform`,
      version: '1.0.0',
      inputSchema: `${prefix}-any@1.0`,
      outputSchema: `${prefix}-any@1.0`,
      implementationHash: HASH,
    },
    // Listed before the steps it points at: order inside a bundle does not matter.
    {
      kind: 'Step',
      name: `${prefix}-Shout`,
      version: '1.0',
      description: 'Upper-cases the greeting',
      processor: `${prefix}-transform@1.0.0`,
      next: [`${prefix}-Wait@1.0`, `${prefix}-Log@1.0`],
      configuration: { expression: '$uppercase(greeting)' },
    },
    { kind: 'Step', name: `${prefix}-Wait`, version: '1.0', processor: `${prefix}-transform@1.0.0` },
    {
      kind: 'Step',
      name: `${prefix}-Log`,
      version: '1.0',
      processor: `${prefix}-transform@1.0.0`,
      entryCondition: 'Always',
    },
    {
      kind: 'Workflow',
      name: `${prefix}-Greeting`,
      version: '1.0',
      steps: [`${prefix}-Shout@1.0`, `${prefix}-Wait@1.0`, `${prefix}-Log@1.0`],
    },
    {
      kind: 'OrchestratedFlow',
      name: `${prefix}-GreetingFlow`,
      version: '1.0',
      workflow: `${prefix}-Greeting@1.0`,
      cronExpression: '0 9 * * MON-FRI',
      timezone: 'Europe/Paris',
      isScheduleEnabled: false,
    },
  ];
}

describe('bundles', () => {
  let api: TestApi;
  before(async () => {
    api = await startTestApi();
  });
  after(() => api?.close());

  const apply = (documents: unknown, headers?: Record<string, string>) =>
    api.request<Result>('POST', '/api/Bundle/apply', { documents }, headers);
  const plan = (documents: unknown) => api.request<Result>('POST', '/api/Bundle/plan', { documents });
  const byKey = (entity: string, name: string, version: string) =>
    api.request('GET', `/api/${entity}/composite/${encodeURIComponent(version)}/${encodeURIComponent(name)}`);
  const actions = (result: Result) => result.changes.map((c) => `${c.kind} ${c.name} ${c.action}`);

  it('creates a flow from a bundle, references resolved by name@version in any order', async () => {
    const p = `g-${unique()}`;
    // A plan names no IDs for what it would create: they were rolled back with it.
    const planned = await plan(greeting(p));
    assert.equal(planned.status, 200, JSON.stringify(planned.body));
    assert.deepEqual(
      planned.body.changes.map((c) => [c.action, c.id]),
      planned.body.changes.map(() => ['create', undefined]),
    );
    const response = await apply(greeting(p));
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.deepEqual(response.body.summary, { create: 7, update: 0, unchanged: 0, delete: 0 });
    assert.deepEqual(actions(response.body), [
      `Schema ${p}-any create`,
      `Processor ${p}-transform create`,
      `Step ${p}-Shout create`,
      `Step ${p}-Wait create`,
      `Step ${p}-Log create`,
      `Workflow ${p}-Greeting create`,
      `OrchestratedFlow ${p}-GreetingFlow create`,
    ]);

    const shout = (await byKey('Step', `${p}-Shout`, '1.0')).body as Doc;
    const wait = (await byKey('Step', `${p}-Wait`, '1.0')).body as Doc;
    const log = (await byKey('Step', `${p}-Log`, '1.0')).body as Doc;
    const processor = (await byKey('Processor', `${p}-transform`, '1.0.0')).body as Doc;
    assert.deepEqual(shout.nextStepIds, [wait.id, log.id]);
    assert.equal(shout.processorId, processor.id);
    assert.equal(shout.description, 'Upper-cases the greeting');
    assert.equal(log.entryCondition, 'Always');
    const workflow = (await byKey('Workflow', `${p}-Greeting`, '1.0')).body as Doc;
    assert.deepEqual(workflow.stepIds, [shout.id, wait.id, log.id]);
    const flow = (await byKey('OrchestratedFlow', `${p}-GreetingFlow`, '1.0')).body as Doc;
    assert.equal(flow.workflowId, workflow.id);
    assert.equal(flow.timezone, 'Europe/Paris');
    assert.equal(shout.createdBy, 'test-editor');
    // The apply names the ID of everything it created.
    assert.deepEqual(
      response.body.changes.map((c) => c.id),
      [
        (await byKey('Schema', `${p}-any`, '1.0')).body.id,
        processor.id,
        shout.id,
        wait.id,
        log.id,
        workflow.id,
        flow.id,
      ],
    );

    // Every entity was audited, and the apply itself.
    const audit = await api.as('admin').request<Array<Doc>>('GET', `/api/Audit?entityId=${String(shout.id)}`);
    assert.equal(audit.status, 200, JSON.stringify(audit.body));
    assert.deepEqual(
      audit.body.map((e) => [e.action, e.principal]),
      [['Step.create', 'test-editor']],
    );
  });

  it('changes nothing when the same bundle is applied again', async () => {
    const p = `g-${unique()}`;
    assert.equal((await apply(greeting(p))).status, 200);
    const before = (await byKey('Step', `${p}-Shout`, '1.0')).body as Doc;
    const again = await apply(greeting(p));
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.deepEqual(again.body.summary, { create: 0, update: 0, unchanged: 7, delete: 0 });
    assert.ok(again.body.changes.every((c) => c.id && !c.fields));
    const after = (await byKey('Step', `${p}-Shout`, '1.0')).body as Doc;
    assert.equal(after.updatedAt, before.updatedAt, 'not even rewritten');
  });

  it('plans an update with only the changed fields, writing nothing; apply then changes exactly those', async () => {
    const p = `g-${unique()}`;
    assert.equal((await apply(greeting(p))).status, 200);
    const changed = greeting(p);
    changed[2] = {
      ...changed[2],
      configuration: { expression: '$lowercase(greeting)' },
      next: [`${p}-Log@1.0`],
    };
    changed[6] = { ...changed[6], timezone: 'UTC' };

    const planned = await plan(changed);
    assert.equal(planned.status, 200, JSON.stringify(planned.body));
    assert.deepEqual(planned.body.summary, { create: 0, update: 2, unchanged: 5, delete: 0 });
    const updates = planned.body.changes.filter((c) => c.action === 'update');
    assert.deepEqual(
      updates.map((c) => [c.kind, c.fields]),
      [
        ['Step', ['next', 'configuration']],
        ['OrchestratedFlow', ['timezone']],
      ],
    );
    const untouched = (await byKey('Step', `${p}-Shout`, '1.0')).body as Doc;
    assert.deepEqual(untouched.configuration, { expression: '$uppercase(greeting)' }, 'plan wrote nothing');

    const applied = await apply(changed);
    assert.equal(applied.status, 200, JSON.stringify(applied.body));
    assert.deepEqual(applied.body.changes, planned.body.changes);
    const shout = (await byKey('Step', `${p}-Shout`, '1.0')).body as Doc;
    const log = (await byKey('Step', `${p}-Log`, '1.0')).body as Doc;
    assert.deepEqual(shout.configuration, { expression: '$lowercase(greeting)' });
    assert.deepEqual(shout.nextStepIds, [log.id]);
    const audit = await api.as('admin').request<Array<Doc>>('GET', `/api/Audit?entityId=${String(shout.id)}`);
    // Newest first: the replace names exactly the changed fields.
    assert.deepEqual(
      audit.body.map((e) => e.action),
      ['Step.replace', 'Step.create'],
    );
    assert.deepEqual(audit.body[0]!.changedFields, ['next', 'configuration']);
  });

  it('answers every problem at once, naming document, kind, name@version and field; writes nothing', async () => {
    const p = `bad-${unique()}`;
    const documents = [
      ...greeting(p),
      { kind: 'Stage', name: 'x', version: '1' },
      {
        kind: 'Step',
        name: `${p}-Loop`,
        version: '1.0',
        processor: `${p}-transform@1.0.0`,
        next: [`${p}-Loop2@1.0`],
      },
      {
        kind: 'Step',
        name: `${p}-Loop2`,
        version: '1.0',
        processor: `${p}-transform@1.0.0`,
        next: [`${p}-Loop@1.0`],
      },
      { kind: 'Step', name: `${p}-Lost`, version: '1.0', processor: 'nowhere@9', processorId: HASH },
      { kind: 'Workflow', name: `${p}-W`, version: '1.0', steps: ['not a reference'] },
      { kind: 'Schema', name: `${p}-any`, version: '1.0', definition: objectSchema },
    ];
    const response = await apply(documents);
    assertError(response, 400, 'ValidationFailed');
    const details = (response.body as unknown as { details: Doc[] }).details.map((d) => ({
      document: d.document,
      kind: d.kind,
      ref: d.ref,
      field: d.field,
      rule: d.rule,
    }));
    assert.deepEqual(details, [
      { document: 7, kind: undefined, ref: undefined, field: 'kind', rule: 'oneOf' },
      { document: 8, kind: 'Step', ref: `${p}-Loop@1.0`, field: 'next', rule: 'acyclic' },
      { document: 10, kind: 'Step', ref: `${p}-Lost@1.0`, field: 'processorId', rule: 'unknownField' },
      { document: 10, kind: 'Step', ref: `${p}-Lost@1.0`, field: 'processor', rule: 'exists' },
      { document: 11, kind: 'Workflow', ref: `${p}-W@1.0`, field: 'steps[0]', rule: 'reference' },
      { document: 12, kind: 'Schema', ref: `${p}-any@1.0`, field: 'name', rule: 'unique' },
    ]);
    assert.equal((await byKey('Schema', `${p}-any`, '1.0')).status, 404, 'nothing was written');
  });

  it('rolls everything back when a rule the store checks fails', async () => {
    const p = `rb-${unique()}`;
    const documents = greeting(p);
    // Wait is missing from the workflow although Shout points at it: the workflow is not a valid DAG.
    documents[5] = { ...documents[5], steps: [`${p}-Shout@1.0`, `${p}-Log@1.0`] };
    const response = await apply(documents);
    assertError(response, 400, 'ValidationFailed');
    assert.match(String((response.body as unknown as Doc).message), /next|DAG|dangling/i);
    for (const [entity, name, version] of [
      ['Schema', `${p}-any`, '1.0'],
      ['Step', `${p}-Shout`, '1.0'],
      ['OrchestratedFlow', `${p}-GreetingFlow`, '1.0'],
    ] as const)
      assert.equal((await byKey(entity, name, version)).status, 404, `${entity} was not written`);
  });

  it('takes YAML, and points at the line of a YAML syntax error', async () => {
    const p = `y-${unique()}`;
    const text = greeting(p)
      .map((doc) => stringify(doc))
      .join('---\n');
    const response = await api.request<Result>('POST', '/api/Bundle/apply', text, {
      'content-type': 'application/yaml',
    });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.equal(response.body.summary.create, 7);

    const broken = await api.request('POST', '/api/Bundle/plan', 'kind: Step\nname: a\nname: b\n', {
      'content-type': 'application/yaml',
    });
    assertError(broken, 400, 'ValidationFailed', [{ field: 'body', rule: 'yaml' }]);
    assert.equal((broken.body as { details: Doc[] }).details[0]!.line, 3, 'the repeated key');
  });

  it('refuses an ambiguous Address reference, listing the candidates', async () => {
    const p = `amb-${unique()}`;
    const documents: Doc[] = [
      { kind: 'Address', name: `${p}-inbox`, version: '1', connectionString: 'file:///a' },
      { kind: 'Address', name: `${p}-inbox`, version: '1', connectionString: 'file:///b' },
      ...greeting(p).slice(0, 5),
      { kind: 'Assignment', name: `${p}-a`, version: '1', step: `${p}-Wait@1.0`, entities: [`${p}-inbox@1`] },
    ];
    const response = await apply(documents);
    assertError(response, 400, 'ValidationFailed', [{ field: 'entities[0]', rule: 'ambiguous' }]);
    assert.match(
      String((response.body as unknown as { details: Doc[] }).details[0]!.message),
      /Address with connectionString "file:\/\/\/a", Address with connectionString "file:\/\/\/b"/,
    );
  });

  it('lets one of two concurrent applies create; the other finds everything unchanged', async () => {
    const p = `c-${unique()}`;
    const [a, b] = await Promise.all([apply(greeting(p)), apply(greeting(p))]);
    assert.equal(a.status, 200, JSON.stringify(a.body));
    assert.equal(b.status, 200, JSON.stringify(b.body));
    assert.deepEqual(
      [a.body.summary, b.body.summary].sort((x, y) => y.create! - x.create!),
      [
        { create: 7, update: 0, unchanged: 0, delete: 0 },
        { create: 0, update: 0, unchanged: 7, delete: 0 },
      ],
    );
  });

  it('takes bodies above the entity routes’ 1 MB limit', async () => {
    const p = `big-${unique()}`;
    const documents = greeting(p);
    documents[3] = { ...documents[3], configuration: { blob: 'x'.repeat(1_500_000) } };
    const response = await apply(documents);
    assert.equal(response.status, 200, JSON.stringify(response.body).slice(0, 300));
    const entity = await api.request('POST', '/api/Schema', {
      name: `${p}-big`,
      version: '1',
      definition: { description: 'x'.repeat(1_500_000) },
    });
    assertError(entity, 413, 'PayloadTooLarge');
  });

  it('needs an editor: a viewer gets 403, no credential 401', async () => {
    const viewer = await api.as('viewer').request('POST', '/api/Bundle/apply', { documents: greeting('v') });
    assertError(viewer, 403, 'Forbidden');
    const anonymous = await api.anonymous.request('POST', '/api/Bundle/plan', { documents: greeting('v') });
    assertError(anonymous, 401, 'Unauthorized');
  });

  it('answers 400 for a body that is not a list of documents', async () => {
    assertError(await api.request('POST', '/api/Bundle/plan', { documents: 'x' }), 400, 'ValidationFailed', [
      { field: 'documents', rule: 'required' },
    ]);
    assertError(await api.request('POST', '/api/Bundle/plan', { documents: [] }), 400, 'ValidationFailed', [
      { field: 'documents', rule: 'NotEmptyCollection' },
    ]);
  });

  it('exports a flow that applies cleanly on an empty database and exports the same again', async () => {
    const p = `x-${unique()}`;
    const documents: Doc[] = [
      ...greeting(p),
      {
        kind: 'Address',
        name: `${p}-inbox`,
        version: '1',
        connectionString: 'https://reader:s3cret@files.example.com/inbox',
        schema: `${p}-any@1.0`,
      },
      { kind: 'Delivery', name: `${p}-outbox`, version: '1', connectionString: 'file:///outbox' },
      {
        kind: 'Assignment',
        name: `${p}-io`,
        version: '1',
        step: `${p}-Wait@1.0`,
        entities: [`${p}-inbox@1`, `${p}-outbox@1`],
      },
    ];
    documents[6] = { ...documents[6], assignments: [`${p}-io@1`] };
    assert.equal((await apply(documents)).status, 200);
    const exported = await api
      .as('admin')
      .request<{ documents: Doc[] }>(
        'GET',
        `/api/Bundle/export?flow=${encodeURIComponent(`${p}-GreetingFlow@1.0`)}`,
      );
    assert.equal(exported.status, 200, JSON.stringify(exported.body));
    assert.deepEqual(
      exported.body.documents.map((d) => `${String(d.kind)} ${String(d.name)}`),
      [
        `Schema ${p}-any`,
        `Processor ${p}-transform`,
        `Address ${p}-inbox`,
        `Delivery ${p}-outbox`,
        `Step ${p}-Shout`,
        `Step ${p}-Wait`,
        `Step ${p}-Log`,
        `Workflow ${p}-Greeting`,
        `Assignment ${p}-io`,
        `OrchestratedFlow ${p}-GreetingFlow`,
      ],
    );
    const shout = exported.body.documents[4]!;
    assert.deepEqual(shout.next, [`${p}-Wait@1.0`, `${p}-Log@1.0`]);
    assert.equal(shout.processor, `${p}-transform@1.0.0`);
    assert.equal(shout.processorId, undefined, 'no IDs in a bundle');

    const fresh = await startTestApi();
    try {
      const applied = await fresh.request<Result>('POST', '/api/Bundle/apply', exported.body);
      assert.equal(applied.status, 200, JSON.stringify(applied.body));
      assert.equal(applied.body.summary.create, 10);
      const again = await fresh
        .as('admin')
        .request('GET', `/api/Bundle/export?flow=${encodeURIComponent(`${p}-GreetingFlow@1.0`)}`);
      assert.deepEqual(again.body, exported.body);
    } finally {
      await fresh.close();
    }

    // An editor sees secrets masked, as every read shows them; an unknown flow is 404.
    const masked = await api.request<{ documents: Doc[] }>(
      'GET',
      `/api/Bundle/export?flow=${encodeURIComponent(`${p}-GreetingFlow@1.0`)}`,
    );
    assert.equal(masked.status, 200);
    assert.ok(JSON.stringify(exported.body).includes('s3cret'), 'an admin exports the real value');
    assert.ok(!JSON.stringify(masked.body).includes('s3cret'), JSON.stringify(masked.body.documents[2]));
    assertError(await api.request('GET', '/api/Bundle/export?flow=nothing@1'), 404, 'NotFound');
    assertError(await api.request('GET', '/api/Bundle/export?flow=nothing'), 400, 'ValidationFailed', [
      { field: 'query.flow', rule: 'reference' },
    ]);
  });

  describe('run-control fields', () => {
    /** The greeting flow with limits on its processor and flow, a fan-out step and a compensated step. */
    function controlled(prefix: string): Doc[] {
      const documents = greeting(prefix);
      documents[1] = { ...documents[1], maxActivitiesPerSecond: 20, maxConcurrentActivities: 4 };
      documents[3] = {
        ...documents[3],
        forEach: { items: '$.recipients', maxParallel: 5 },
        compensation: { processor: `${prefix}-refund@1.0.0`, configuration: { mode: 'full' } },
      };
      documents[4] = { ...documents[4], compensation: { processor: `${prefix}-refund@1.0.0` } };
      documents[6] = { ...documents[6], maxConcurrentSteps: 3 };
      return [
        ...documents,
        {
          kind: 'Processor',
          name: `${prefix}-refund`,
          version: '1.0.0',
          inputSchema: `${prefix}-any@1.0`,
          outputSchema: `${prefix}-any@1.0`,
          implementationHash: HASH,
        },
      ];
    }

    it('round-trips through apply, plan, export and apply on an empty database', async () => {
      const p = `rc-${unique()}`;
      const created = await apply(controlled(p));
      assert.equal(created.status, 200, JSON.stringify(created.body));
      assert.deepEqual(created.body.summary, { create: 8, update: 0, unchanged: 0, delete: 0 });

      const processor = (await byKey('Processor', `${p}-transform`, '1.0.0')).body as Doc;
      const refund = (await byKey('Processor', `${p}-refund`, '1.0.0')).body as Doc;
      const wait = (await byKey('Step', `${p}-Wait`, '1.0')).body as Doc;
      const log = (await byKey('Step', `${p}-Log`, '1.0')).body as Doc;
      const flow = (await byKey('OrchestratedFlow', `${p}-GreetingFlow`, '1.0')).body as Doc;
      assert.equal(processor.maxActivitiesPerSecond, 20);
      assert.equal(processor.maxConcurrentActivities, 4);
      assert.equal(refund.maxActivitiesPerSecond, null);
      assert.deepEqual(wait.forEach, { items: '$.recipients', maxParallel: 5, failurePolicy: 'failFast' });
      assert.deepEqual(wait.compensation, { processorId: refund.id, configuration: { mode: 'full' } });
      assert.equal(log.forEach, null);
      assert.deepEqual(log.compensation, { processorId: refund.id, configuration: null });
      assert.equal(flow.maxConcurrentSteps, 3);

      const again = await plan(controlled(p));
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.deepEqual(again.body.summary, { create: 0, update: 0, unchanged: 8, delete: 0 });

      const changed = controlled(p);
      changed[3] = {
        ...changed[3],
        forEach: { items: 'assignments', maxParallel: 5, failurePolicy: 'collect' },
        compensation: { processor: `${p}-refund@1.0.0`, configuration: { mode: 'partial' } },
      };
      changed[4] = { ...changed[4], compensation: null };
      changed[1] = { ...changed[1], maxActivitiesPerSecond: null };
      changed[6] = { ...changed[6], maxConcurrentSteps: 50 };
      const planned = await plan(changed);
      assert.equal(planned.status, 200, JSON.stringify(planned.body));
      assert.deepEqual(
        planned.body.changes.filter((c) => c.action === 'update').map((c) => [c.kind, c.name, c.fields]),
        [
          ['Processor', `${p}-transform`, ['maxActivitiesPerSecond']],
          ['Step', `${p}-Wait`, ['forEach', 'compensation']],
          ['Step', `${p}-Log`, ['compensation']],
          ['OrchestratedFlow', `${p}-GreetingFlow`, ['maxConcurrentSteps']],
        ],
      );
      const applied = await apply(changed);
      assert.equal(applied.status, 200, JSON.stringify(applied.body));
      assert.deepEqual(applied.body.changes, planned.body.changes);
      const waitAfter = (await byKey('Step', `${p}-Wait`, '1.0')).body as Doc;
      assert.deepEqual(waitAfter.forEach, { items: 'assignments', maxParallel: 5, failurePolicy: 'collect' });
      assert.deepEqual(waitAfter.compensation, {
        processorId: refund.id,
        configuration: { mode: 'partial' },
      });
      assert.equal(((await byKey('Step', `${p}-Log`, '1.0')).body as Doc).compensation, null);
      assert.equal(
        ((await byKey('Processor', `${p}-transform`, '1.0.0')).body as Doc).maxActivitiesPerSecond,
        null,
      );
      assert.equal(
        ((await byKey('OrchestratedFlow', `${p}-GreetingFlow`, '1.0')).body as Doc).maxConcurrentSteps,
        50,
      );

      // Export: the compensation names its processor by name@version, and the processor comes along.
      const exported = await api.request<{ documents: Doc[] }>(
        'GET',
        `/api/Bundle/export?flow=${encodeURIComponent(`${p}-GreetingFlow@1.0`)}`,
      );
      assert.equal(exported.status, 200, JSON.stringify(exported.body));
      const documents = exported.body.documents;
      assert.deepEqual(
        documents.filter((d) => d.kind === 'Processor').map((d) => d.name),
        [`${p}-refund`, `${p}-transform`],
      );
      const exportedWait = documents.find((d) => d.name === `${p}-Wait`)!;
      assert.deepEqual(exportedWait.compensation, {
        processor: `${p}-refund@1.0.0`,
        configuration: { mode: 'partial' },
      });
      assert.deepEqual(exportedWait.forEach, {
        items: 'assignments',
        maxParallel: 5,
        failurePolicy: 'collect',
      });
      assert.equal(documents.find((d) => d.kind === 'OrchestratedFlow')!.maxConcurrentSteps, 50);

      const fresh = await startTestApi();
      try {
        const recreated = await fresh.request<Result>('POST', '/api/Bundle/apply', exported.body);
        assert.equal(recreated.status, 200, JSON.stringify(recreated.body));
        assert.equal(recreated.body.summary.create, documents.length);
        const wait2 = (
          await fresh.request('GET', `/api/Step/composite/1.0/${encodeURIComponent(`${p}-Wait`)}`)
        ).body as Doc;
        const refund2 = (
          await fresh.request('GET', `/api/Processor/composite/1.0.0/${encodeURIComponent(`${p}-refund`)}`)
        ).body as Doc;
        assert.deepEqual(wait2.compensation, { processorId: refund2.id, configuration: { mode: 'partial' } });
        const again2 = await fresh.request(
          'GET',
          `/api/Bundle/export?flow=${encodeURIComponent(`${p}-GreetingFlow@1.0`)}`,
        );
        assert.deepEqual(again2.body, exported.body);
      } finally {
        await fresh.close();
      }
    });

    it('checks the fields as the REST routes do, naming document and bundle field', async () => {
      const p = `rcbad-${unique()}`;
      const documents = controlled(p);
      documents[1] = { ...documents[1], maxActivitiesPerSecond: 0, maxConcurrentActivities: 10_001 };
      documents[2] = { ...documents[2], forEach: { items: 'orders[', maxParallel: 101 } };
      documents[3] = { ...documents[3], compensation: { processor: `${p}-nowhere@1.0.0` } };
      documents[4] = { ...documents[4], compensation: { processorId: HASH } };
      documents[6] = { ...documents[6], maxConcurrentSteps: 1001 };
      const response = await apply(documents);
      assertError(response, 400, 'ValidationFailed');
      const details = (response.body as unknown as { details: Doc[] }).details;
      assert.deepEqual(
        details.map((d) => [d.document, d.field, d.rule]),
        [
          [1, 'maxActivitiesPerSecond', 'min'],
          [1, 'maxConcurrentActivities', 'max'],
          [2, 'forEach.items', 'jsonata'],
          [2, 'forEach.maxParallel', 'max'],
          [3, 'compensation.processor', 'exists'],
          [4, 'compensation.processorId', 'unknownField'],
          [4, 'compensation.processor', 'required'],
          [6, 'maxConcurrentSteps', 'max'],
        ],
      );
      assert.match(String(details[2]!.message), /Expected "]" before end of expression/);
      assert.equal(details[4]!.message, `no Processor ${p}-nowhere@1.0.0 in the bundle or stored`);
      assert.match(String(details[5]!.message), /use "compensation.processor"/);
      assert.equal((await byKey('Schema', `${p}-any`, '1.0')).status, 404, 'nothing was written');
    });
  });

  describe('prune', () => {
    const extra = (p: string) => ({
      kind: 'Step',
      name: `${p}-Extra`,
      version: '1.0',
      processor: `${p}-transform@1.0.0`,
    });
    const applyPruning = (documents: unknown, selector: string, route = 'apply') =>
      api.request<Result>(
        'POST',
        `/api/Bundle/${route}?prune=true&selector=${encodeURIComponent(selector)}`,
        {
          documents,
        },
      );

    it('deletes what the selector matches and the bundle no longer holds; plan shows it first', async () => {
      const p = `pr-${unique()}`;
      assert.equal((await apply([...greeting(p), extra(p)])).status, 200);
      const planned = await applyPruning(greeting(p), `${p}-*`, 'plan');
      assert.equal(planned.status, 200, JSON.stringify(planned.body));
      assert.deepEqual(planned.body.summary, { create: 0, update: 0, unchanged: 7, delete: 1 });
      assert.equal((await byKey('Step', `${p}-Extra`, '1.0')).status, 200, 'plan deleted nothing');

      const applied = await applyPruning(greeting(p), `${p}-*`);
      assert.equal(applied.status, 200, JSON.stringify(applied.body));
      assert.deepEqual(
        applied.body.changes.filter((c) => c.action === 'delete').map((c) => `${c.kind} ${c.name}`),
        [`Step ${p}-Extra`],
      );
      assertError(await byKey('Step', `${p}-Extra`, '1.0'), 404, 'NotFound');
      assert.equal((await byKey('Step', `${p}-Shout`, '1.0')).status, 200, 'what the bundle holds stays');
      const audit = await api
        .as('admin')
        .request<Array<Doc>>('GET', `/api/Audit?entityId=${String(applied.body.changes.at(-1)!.id)}`);
      assert.deepEqual(
        audit.body.map((e) => e.action),
        ['Step.delete', 'Step.create'],
      );
    });

    it('deletes a whole flow, steps pointing at each other included, when the bundle no longer holds it', async () => {
      const p = `prw-${unique()}`;
      assert.equal((await apply(greeting(p))).status, 200);
      const schemaOnly = greeting(p).slice(0, 2);
      const applied = await applyPruning(schemaOnly, `${p}-*`);
      assert.equal(applied.status, 200, JSON.stringify(applied.body));
      assert.deepEqual(
        applied.body.changes.filter((c) => c.action === 'delete').map((c) => c.kind),
        ['Step', 'Step', 'Step', 'Workflow', 'OrchestratedFlow'],
      );
      assertError(await byKey('OrchestratedFlow', `${p}-GreetingFlow`, '1.0'), 404, 'NotFound');
    });

    it('refuses, naming the referrer, when something outside the selection still refers to it', async () => {
      const p = `prr-${unique()}`;
      assert.equal((await apply([...greeting(p), extra(p)])).status, 200);
      const extraStep = (await byKey('Step', `${p}-Extra`, '1.0')).body as Doc;
      const outside = await api.request('POST', '/api/Workflow', {
        name: `outside-${p}`,
        version: '1',
        stepIds: [extraStep.id],
      });
      assert.equal(outside.status, 201, JSON.stringify(outside.body));
      const refused = await applyPruning(greeting(p), `${p}-*`);
      assertError(refused, 409, 'ReferentialIntegrity', [{ field: 'selector', rule: 'notReferenced' }]);
      assert.match(
        String((refused.body as unknown as { details: Doc[] }).details[0]!.message),
        new RegExp(`Step ${p}-Extra@1.0 would be pruned, but Workflow "outside-${p}@1"`),
      );
      assert.equal((await byKey('Step', `${p}-Extra`, '1.0')).status, 200, 'nothing was deleted');
    });

    it('needs a selector, and never one that matches everything', async () => {
      assertError(
        await api.request('POST', '/api/Bundle/plan?prune=true', { documents: greeting('s') }),
        400,
        'ValidationFailed',
        [{ field: 'query.selector', rule: 'required' }],
      );
      assertError(await applyPruning(greeting('s'), '*', 'plan'), 400, 'ValidationFailed', [
        { field: 'query.selector', rule: 'selector' },
      ]);
    });
  });

  it('serves the bundle JSON Schema to anyone, the same as the committed file', async () => {
    const response = await api.anonymous.request<Doc>('GET', '/schemas/bundle.json');
    assert.equal(response.status, 200);
    assert.deepEqual(response.body, bundleJsonSchema());
    const committed = JSON.parse(
      await readFile(path.join(PROJECT_ROOT, 'schemas/bundle.json'), 'utf8'),
    ) as Doc;
    assert.deepEqual(committed, response.body, 'schemas/bundle.json is stale: run npm run schemas');
    const step = (response.body.$defs as Record<string, Doc>).Step!;
    assert.deepEqual(step.required, ['kind', 'version', 'name', 'processor']);
  });
});
