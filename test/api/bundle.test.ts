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
