/**
 * The audit log: one event per write, start, stop and key change, written in the transaction of the change (a write
 * that fails leaves none); refused requests (401, 403) recorded too; never a secret value; append-only in the
 * database itself; readable by admins, newest first, with filters.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestApi, type TestApi } from '../support/api';
import { assertError } from '../support/assertions';
import {
  createFlow,
  createProcessor,
  createSchema,
  createStep,
  createWorkflow,
  unique,
} from '../support/fixtures';

interface AuditEvent {
  id: string;
  time: string;
  principal: string;
  role: string | null;
  action: string;
  entityType: string | null;
  entityId: string | null;
  correlationId: string | null;
  outcome: number;
  changedFields: string[];
}

describe('audit log', () => {
  let api: TestApi;

  before(async () => {
    // Runs started here go to a task queue nobody polls: they stay open until the test stops them.
    api = await startTestApi({ orchestratorTaskQueue: `audit-${randomUUID()}` });
  });
  after(() => api?.close());

  const events = async (query: string): Promise<AuditEvent[]> => {
    const response = await api.as('admin').request<AuditEvent[]>('GET', `/api/Audit?${query}`);
    assert.equal(response.status, 200, JSON.stringify(response.body));
    return response.body;
  };

  it('records each write with its principal, role, action, entity, correlation ID, outcome and changed fields', async () => {
    const correlationId = `audit-${unique()}`;
    const created = await api.request(
      'POST',
      '/api/Schema',
      { version: '1.0', name: `audited-${unique()}`, definition: { type: 'object' } },
      { 'x-correlation-id': correlationId },
    );
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = created.body.id as string;
    const replaced = await api.request('PUT', `/api/Schema/${id}`, {
      ...created.body,
      description: 'now described',
    });
    assert.equal(replaced.status, 204);
    const deleted = await api.request('DELETE', `/api/Schema/${id}`);
    assert.equal(deleted.status, 204);

    const trail = await events(`entityId=${id}`);
    assert.deepEqual(
      trail.map((e) => [e.action, e.outcome, e.principal, e.role, e.entityType, e.changedFields]),
      [
        ['Schema.delete', 204, 'test-editor', 'editor', 'Schema', []],
        ['Schema.replace', 204, 'test-editor', 'editor', 'Schema', ['description']],
        [
          'Schema.create',
          201,
          'test-editor',
          'editor',
          'Schema',
          ['version', 'name', 'description', 'definition'],
        ],
      ],
    );
    assert.equal(trail[2]!.correlationId, correlationId);
    assert.ok(trail.every((e) => !Number.isNaN(Date.parse(e.time))));
  });

  it('leaves no event when the write fails inside its transaction', async () => {
    const missingProcessor = randomUUID();
    const name = `orphan-${unique()}`;
    const refused = await api.request('POST', '/api/Step', {
      version: '1.0',
      name,
      processorId: missingProcessor,
    });
    assertError(refused, 409, 'ReferentialIntegrity');
    const stored = await api.prisma.auditEvent.findMany({ where: { action: 'Step.create' } });
    assert.deepEqual(stored, [], 'the rolled-back create left no event');
  });

  it('records starts and stops of runs as the operator who asked', async () => {
    const processor = await createProcessor(api);
    const step = await createStep(api, processor.id);
    const workflow = await createWorkflow(api, [step.id]);
    const flow = await createFlow(api, workflow.id);
    const operator = api.as('operator');
    const started = await operator.request('POST', `/api/Orchestration/start/${flow.id}`, {
      input: { n: 1 },
    });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    const stopped = await operator.request('POST', `/api/Orchestration/stop/${flow.id}`);
    assert.equal(stopped.status, 200, JSON.stringify(stopped.body));

    const trail = await events(`entityId=${flow.id}`);
    assert.deepEqual(
      trail.map((e) => [e.action, e.outcome, e.principal, e.role]),
      [
        ['Orchestration.stop', 200, 'test-operator', 'operator'],
        ['Orchestration.start', 202, 'test-operator', 'operator'],
        ['OrchestratedFlow.create', 201, 'test-editor', 'editor'],
      ],
    );
    assert.equal(trail[1]!.correlationId, started.body.correlationId);
  });

  it('records refused requests: 401 as anonymous, 403 as the caller', async () => {
    const target = randomUUID();
    assert.equal((await api.anonymous.request('DELETE', `/api/Step/${target}`)).status, 401);
    assert.equal((await api.as('viewer').request('DELETE', `/api/Step/${target}`)).status, 403);
    const trail = await events(`entityId=${target}`);
    assert.deepEqual(
      trail.map((e) => [e.action, e.outcome, e.principal, e.role]),
      [
        ['Step.delete', 403, 'test-viewer', 'viewer'],
        ['Step.delete', 401, 'anonymous', null],
      ],
    );
    assert.ok(
      trail.every((e) => e.entityType === 'Step'),
      JSON.stringify(trail),
    );
  });

  it('records key creation and revocation, and never a secret value', async () => {
    const admin = api.as('admin');
    const key = await admin.request('POST', '/api/ApiKey', { name: 'audited-key', role: 'viewer' });
    assert.equal(key.status, 201);
    assert.equal((await admin.request('DELETE', `/api/ApiKey/${key.body.id}`)).status, 204);
    const address = await api.request('POST', '/api/Address', {
      version: '1.0',
      name: `vault-${unique()}`,
      connectionString: 'https://user:hunter2@vault.example.com',
      configuration: { password: 'hunter2', token: 'tok-secret' },
    });
    assert.equal(address.status, 201);

    const keyTrail = await events(`entityId=${key.body.id}`);
    assert.deepEqual(
      keyTrail.map((e) => [e.action, e.outcome, e.principal, e.changedFields]),
      [
        ['ApiKey.revoke', 204, 'test-admin', ['revokedAt']],
        ['ApiKey.create', 201, 'test-admin', ['name', 'role']],
      ],
    );
    const addressTrail = await events(`entityId=${address.body.id}`);
    assert.deepEqual(addressTrail[0]!.changedFields.sort(), [
      'configuration',
      'connectionString',
      'description',
      'name',
      'version',
    ]);
    const everything = JSON.stringify(await api.prisma.auditEvent.findMany(), (_key, value: unknown) =>
      typeof value === 'bigint' ? value.toString() : value,
    );
    for (const secret of ['hunter2', 'tok-secret', key.body.key as string])
      assert.ok(!everything.includes(secret), `${secret} reached the audit log`);
  });

  it('filters by principal, action and time, newest first, and pages', async () => {
    const since = new Date().toISOString();
    for (let i = 0; i < 3; i++) await createSchema(api);
    const trail = await events(`principal=test-editor&action=Schema.create&since=${since}&limit=2`);
    assert.equal(trail.length, 2);
    assert.ok(trail[0]!.time >= trail[1]!.time && Number(trail[0]!.id) > Number(trail[1]!.id));
    const response = await api.as('admin').request('GET', `/api/Audit?action=Schema.create&since=${since}`);
    assert.equal(response.headers.get('x-total-count'), '3');
    assertError(await api.as('admin').request('GET', '/api/Audit?since=yesterday'), 400, 'ValidationFailed', [
      { field: 'query.since', rule: 'datetime' },
    ]);
    const none = await events(`until=2000-01-01T00:00:00Z`);
    assert.deepEqual(none, []);
  });

  it('is append-only: the database refuses UPDATE, DELETE and TRUNCATE', async () => {
    await createSchema(api);
    for (const sql of [
      `UPDATE audit_event SET principal = 'someone-else'`,
      `DELETE FROM audit_event`,
      `TRUNCATE audit_event`,
    ])
      await assert.rejects(api.prisma.$executeRawUnsafe(sql), /audit_event is append-only/, sql);
    assert.ok((await api.prisma.auditEvent.count()) > 0);
  });
});
