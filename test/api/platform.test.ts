import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PROJECT_ROOT } from '../../infra/config';
import { findFreePort } from '../../infra/ports';
import { startTestApi, type TestApi } from '../support/api';
import { assertError, UUID } from '../support/assertions';
import { ENTITY_NAMES, objectSchema, unique } from '../support/fixtures';
import { sample } from '../support/prometheus';

const healthyCheck = { status: 'Healthy', durationMs: 0 };

/** A check with its duration zeroed, so the rest can be compared exactly. */
function check(value: Record<string, unknown>): Record<string, unknown> {
  assert.equal(typeof value.durationMs, 'number');
  assert.ok((value.durationMs as number) >= 0);
  return { ...value, durationMs: 0 };
}

describe('platform', () => {
  let api: TestApi;
  before(async () => {
    api = await startTestApi();
  });
  after(() => api.close());

  describe('GET /health and /health/ready', () => {
    it('answers liveness with 200 Healthy and no dependency checks', async () => {
      const response = await api.request('GET', '/health');
      assert.equal(response.status, 200, JSON.stringify(response.body));
      assert.deepEqual(response.body, { status: 'Healthy' });
    });

    it('answers readiness 200 Healthy when Postgres answers, migrations are applied and Temporal answers', async () => {
      const response = await api.request('GET', '/health/ready');
      assert.equal(response.status, 200, JSON.stringify(response.body));
      assert.deepEqual(Object.keys(response.body), ['status', 'checks']);
      assert.equal(response.body.status, 'Healthy');
      assert.deepEqual(Object.keys(response.body.checks), ['postgres', 'migrations', 'temporal']);
      assert.deepEqual(check(response.body.checks.postgres), healthyCheck);
      assert.deepEqual(check(response.body.checks.migrations), healthyCheck);
      assert.deepEqual(check(response.body.checks.temporal), healthyCheck);
    });

    it('answers readiness 503 naming the migrations a database lacks', async () => {
      const migrations = await api.prisma.$queryRawUnsafe<Array<{ migration_name: string }>>(
        'SELECT migration_name FROM _prisma_migrations ORDER BY migration_name DESC LIMIT 1',
      );
      const latest = migrations[0]!.migration_name;
      await api.prisma.$executeRawUnsafe(
        'UPDATE _prisma_migrations SET finished_at = NULL WHERE migration_name = $1',
        latest,
      );
      try {
        const response = await api.request('GET', '/health/ready');
        assert.equal(response.status, 503, JSON.stringify(response.body));
        assert.equal(response.body.status, 'Unhealthy');
        assert.deepEqual(check(response.body.checks.postgres), healthyCheck);
        assert.deepEqual(check(response.body.checks.migrations), {
          status: 'Unhealthy',
          durationMs: 0,
          error: `1 migration(s) not applied: ${latest} (run npm run migrate)`,
        });
      } finally {
        await api.prisma.$executeRawUnsafe(
          'UPDATE _prisma_migrations SET finished_at = started_at WHERE migration_name = $1',
          latest,
        );
      }
    });

    it('answers 503 naming Postgres when the database cannot be reached, and CRUD answers 503', async () => {
      const port = await findFreePort();
      const down = await startTestApi({
        databaseUrl: `postgresql://postgres:postgres@127.0.0.1:${port}/nothing`,
      });
      try {
        const live = await down.request('GET', '/health');
        assert.deepEqual([live.status, live.body], [200, { status: 'Healthy' }]);
        const health = await down.request('GET', '/health/ready');
        assert.equal(health.status, 503, JSON.stringify(health.body));
        assert.equal(health.body.status, 'Unhealthy');
        assert.deepEqual(check(health.body.checks.temporal), healthyCheck);
        const unreachable = {
          status: 'Unhealthy',
          durationMs: 0,
          error: `Can't reach database server at 127.0.0.1:${port}`,
        };
        assert.deepEqual(check(health.body.checks.postgres), unreachable);
        assert.deepEqual(check(health.body.checks.migrations), unreachable);

        const unavailable = {
          error: 'ServiceUnavailable',
          message: 'Postgres is unavailable: the database cannot be reached',
        };
        const requests: Array<[string, string, unknown?]> = [
          ['GET', '/api/Schema'],
          ['POST', '/api/Schema', { version: '1.0', name: `schema-${unique()}`, definition: objectSchema }],
          ['GET', `/api/Schema/${randomUUID()}`],
          ['PUT', `/api/Schema/${randomUUID()}`, { version: '1.0', name: 'x', definition: objectSchema }],
          ['DELETE', `/api/Schema/${randomUUID()}`],
          ['GET', '/api/Schema/composite/1.0/x'],
          ['GET', `/api/Step/processor/${randomUUID()}`],
        ];
        for (const [method, path, body] of requests) {
          const response = await down.request(method, path, body);
          assert.equal(response.status, 503, `${method} ${path}: ${JSON.stringify(response.body)}`);
          assert.deepEqual(response.body, unavailable);
        }
        // A credential cannot be checked without Postgres: even bad input answers 503 (never 401 or 500).
        const bad = await down.request('POST', '/api/Schema', {});
        assert.equal(bad.status, 503);
        assert.deepEqual(bad.body, unavailable);
      } finally {
        await down.close();
      }
    });

    it('answers 503 naming Temporal when Temporal cannot be reached; CRUD still works', async () => {
      const port = await findFreePort();
      const down = await startTestApi({ temporalAddress: `127.0.0.1:${port}` });
      try {
        const health = await down.request('GET', '/health/ready');
        assert.equal(health.status, 503, JSON.stringify(health.body));
        assert.equal(health.body.status, 'Unhealthy');
        assert.deepEqual(check(health.body.checks.postgres), healthyCheck);
        assert.deepEqual(check(health.body.checks.migrations), healthyCheck);
        const temporal = health.body.checks.temporal;
        assert.deepEqual(Object.keys(temporal), ['status', 'durationMs', 'error']);
        assert.equal(temporal.status, 'Unhealthy');
        assert.match(temporal.error, new RegExp(`^14 UNAVAILABLE: .*ECONNREFUSED 127\\.0\\.0\\.1:${port}`));
        // Retries stop at the check's deadline (2 s) instead of outliving the answer.
        assert.ok(temporal.durationMs < 2_500, String(temporal.durationMs));

        const created = await down.request('POST', '/api/Schema', {
          version: '1.0',
          name: `schema-${unique()}`,
          definition: objectSchema,
        });
        assert.equal(created.status, 201, JSON.stringify(created.body));
      } finally {
        await down.close();
      }
    });
  });

  it('GET /metrics counts requests by method, route template and status, with the pool and process figures', async () => {
    const stepId = randomUUID();
    assert.equal((await api.request('GET', `/api/Step/${stepId}`)).status, 404);
    assert.equal((await api.request('GET', `/api/Step/${randomUUID()}`)).status, 404);
    assertError(await api.request('POST', '/api/Step', {}), 400, 'ValidationFailed');
    assert.equal((await api.request('GET', `/nothing/here/${stepId}`)).status, 404);
    const response = await fetch(`${api.url}/metrics`, {
      headers: { authorization: `Bearer ${await api.keyOf('viewer')}` },
    });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const metrics = await response.text();
    const count = (labels: Record<string, string>) =>
      sample(metrics, 'http_request_duration_seconds_count', labels);
    // Both lookups share one series: the template, never the IDs.
    assert.equal(count({ method: 'GET', route: '/api/Step/:id', status: '404' }), 2);
    assert.equal(count({ method: 'POST', route: '/api/Step', status: '400' }), 1);
    assert.equal(count({ method: 'GET', route: '(unmatched)', status: '404' }), 1);
    assert.doesNotMatch(metrics, new RegExp(stepId), 'no raw path reaches a label');
    assert.equal(sample(metrics, 'db_pool_max_connections'), 10);
    assert.equal(typeof sample(metrics, 'db_pool_connections', { state: 'used' }), 'number');
    // A key's lastUsedAt write may be queued at this moment: the figure is there, its value varies.
    assert.equal(typeof sample(metrics, 'db_pool_waiting_requests'), 'number');
    assert.ok((sample(metrics, 'process_resident_memory_bytes') ?? 0) > 0);
  });

  describe('GET /openapi.json', () => {
    let doc: any;
    before(async () => {
      const response = await api.request('GET', '/openapi.json');
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
      doc = response.body;
    });

    it('is committed as schemas/openapi.json (what the console is typed from), and that copy is fresh', async () => {
      const committed: unknown = JSON.parse(
        await readFile(path.join(PROJECT_ROOT, 'schemas/openapi.json'), 'utf8'),
      );
      assert.deepEqual(committed, doc, 'schemas/openapi.json is stale: run npm run schemas');
    });

    it('is OpenAPI 3.1 with a path for every route', () => {
      assert.equal(doc.openapi, '3.1.0');
      assert.equal(doc.info.title, 'FlowOrchestrator API');
      const lookups: Record<string, string[]> = {
        Step: ['/processor/{processorId}', '/nextstep/{stepId}'],
        Assignment: ['/step/{stepId}', '/entity/{entityId}'],
        OrchestratedFlow: ['/workflow/{workflowId}', '/assignment/{assignmentId}'],
      };
      const expected: Record<string, string[]> = {
        '/health': ['get'],
        '/health/ready': ['get'],
        '/metrics': ['get'],
        '/openapi.json': ['get'],
        '/swagger/': ['get'],
        '/ui/': ['get'],
        '/api/Session': ['delete', 'get', 'post'],
        '/api/Session/providers': ['get'],
        '/api/Orchestration/start/{orchestratedFlowId}': ['post'],
        '/api/Orchestration/stop/{orchestratedFlowId}': ['post'],
        '/api/Orchestration/pause/{orchestratedFlowId}': ['post'],
        '/api/Orchestration/resume/{orchestratedFlowId}': ['post'],
        '/api/Orchestration/rerun/{orchestratedFlowId}/{runId}': ['post'],
        '/api/Orchestration/status/{orchestratedFlowId}': ['get'],
        '/api/Orchestration/runs/{orchestratedFlowId}': ['get'],
        '/api/Orchestration/runs/{orchestratedFlowId}/{runId}': ['get'],
        '/api/Orchestration/runs/{orchestratedFlowId}/{runId}/steps/{stepId}/output': ['get'],
        '/api/Orchestration/runs/{orchestratedFlowId}/{runId}/input': ['get'],
        '/api/ApiKey': ['post', 'get'],
        '/api/ApiKey/{id}': ['delete'],
        '/api/Audit': ['get'],
        '/codec/encode': ['post'],
        '/codec/decode': ['post'],
        '/api/Bundle/plan': ['post'],
        '/api/Bundle/apply': ['post'],
        '/api/Bundle/export': ['get'],
        '/api/Workflow/{id}/graph': ['get'],
        '/schemas/bundle.json': ['get'],
      };
      for (const entity of ENTITY_NAMES) {
        expected[`/api/${entity}`] = ['get', 'post'];
        expected[`/api/${entity}/composite/{version}/{name}`] = ['get'];
        expected[`/api/${entity}/{id}`] = ['get', 'put', 'delete'];
        for (const lookup of lookups[entity] ?? []) expected[`/api/${entity}${lookup}`] = ['get'];
      }
      expected['/api/OrchestratedFlow/{id}/schedule'] = ['get'];
      for (const action of ['trigger', 'backfill', 'pause', 'resume'])
        expected[`/api/OrchestratedFlow/{id}/schedule/${action}`] = ['post'];
      const actual = Object.fromEntries(
        Object.entries(doc.paths as Record<string, object>).map(([path, item]) => [
          path,
          Object.keys(item).filter((key) => key !== 'parameters'),
        ]),
      );
      const sorted = (paths: Record<string, string[]>) =>
        Object.fromEntries(
          Object.entries(paths)
            .map(([path, methods]) => [path, [...methods].sort()] as const)
            .sort(([a], [b]) => a.localeCompare(b)),
        );
      assert.deepEqual(sorted(actual), sorted(expected));
    });

    it('has component schemas for each entity input and output', () => {
      const names = Object.keys(doc.components.schemas).sort();
      const scheduleSchemas = [
        'FlowSchedule',
        'ScheduleBackfill',
        'ScheduleBackfillRequest',
        'ScheduleTriggered',
        'Run',
        'RunListItem',
      ];
      assert.deepEqual(
        names,
        ['Error', ...ENTITY_NAMES.flatMap((e) => [e, `${e}Input`]), ...scheduleSchemas].sort(),
      );
      const stepInput = doc.components.schemas.StepInput;
      assert.deepEqual(stepInput.required, ['version', 'name', 'processorId']);
      assert.deepEqual(stepInput.properties.entryCondition.anyOf, [
        { type: 'string', enum: ['PreviousSuccess', 'PreviousFailure', 'Always', 'Never'] },
        { type: 'number', enum: [0, 1, 2, 3] },
      ]);
      assert.equal(stepInput.properties.id.readOnly, true);
      assert.deepEqual(doc.components.schemas.Step.properties.entryCondition, {
        type: 'string',
        enum: ['PreviousSuccess', 'PreviousFailure', 'Always', 'Never'],
      });
      assert.deepEqual(doc.components.schemas.WorkflowInput.required, ['version', 'name', 'stepIds']);
      assert.equal(
        doc.components.schemas.ProcessorInput.properties.implementationHash.pattern,
        '^[0-9a-fA-F]{64}$',
      );
      assert.equal(doc.components.schemas.Processor.properties.taskQueue.type, 'string');
      assert.deepEqual(doc.components.schemas.AddressInput.required, ['version', 'name', 'connectionString']);
    });

    it('every $ref names a component, and the create route answers 201 with the entity', () => {
      const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
      assert.ok(refs.length > 0);
      for (const ref of refs) {
        // The whole name up to the closing quote: `Step entities` must not pass as `Step`.
        const name = /#\/components\/schemas\/([^"]+)"$/.exec(ref)?.[1];
        assert.ok(name && doc.components.schemas[name], ref);
      }
      const post = doc.paths['/api/Step'].post;
      assert.deepEqual(post.requestBody.content['application/json'].schema, {
        $ref: '#/components/schemas/StepInput',
      });
      assert.deepEqual(post.responses['201'].content['application/json'].schema, {
        $ref: '#/components/schemas/Step',
      });
      assert.deepEqual(Object.keys(doc.paths['/api/Step/{id}'].delete.responses), [
        '204',
        '400',
        '401',
        '403',
        '404',
        '409',
        '429',
        '503',
      ]);
      assert.equal(doc.paths['/api/Step/{id}'].delete['x-required-role'], 'editor');
      assert.deepEqual(doc.paths['/api/Step/{id}'].delete.security, [
        { bearerAuth: [] },
        { apiKeyHeader: [] },
      ]);
      assert.deepEqual(doc.paths['/health'].get.security, []);
    });
  });

  it('GET /swagger/ answers the Swagger UI page, which loads the document', async () => {
    const page = await fetch(`${api.url}/swagger/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    const html = await page.text();
    assert.match(html, /<title>FlowOrchestrator API<\/title>/);
    assert.match(html, /swagger-ui-init\.js/);
    const init = await fetch(`${api.url}/swagger/swagger-ui-init.js`);
    assert.equal(init.status, 200);
    assert.ok((await init.text()).includes('/api/Step/processor/{processorId}'));
  });

  it('an unknown route answers a JSON 404', async () => {
    for (const [method, path] of [
      ['GET', '/nope'],
      ['GET', '/api/Unknown'],
      ['POST', '/api/Unknown/123'],
      ['PATCH', `/api/Step/${randomUUID()}`],
      ['GET', '/api/Step/composite/1.0'],
    ]) {
      const response = await api.request(method!, path!);
      assert.equal(response.status, 404, `${method} ${path}`);
      assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
      assert.deepEqual(response.body, { error: 'NotFound', message: `No route ${method} ${path}` });
    }
  });

  describe('X-Correlation-ID', () => {
    it('is echoed when given, on success and on error', async () => {
      const id = `req-${unique()}`;
      const ok = await api.request('GET', '/health', undefined, { 'X-Correlation-ID': id });
      assert.equal(ok.headers.get('x-correlation-id'), id);
      const bad = await api.request('GET', '/api/Step/not-a-guid', undefined, { 'X-Correlation-ID': id });
      assertError(bad, 400, 'ValidationFailed');
      assert.equal(bad.headers.get('x-correlation-id'), id);
      const missing = await api.request('GET', '/nope', undefined, { 'X-Correlation-ID': id });
      assert.equal(missing.headers.get('x-correlation-id'), id);
    });

    it('is generated when absent, or when the given one is not acceptable', async () => {
      const first = await api.request('GET', '/health');
      const second = await api.request('GET', '/health');
      assert.match(first.headers.get('x-correlation-id') ?? '', UUID);
      assert.match(second.headers.get('x-correlation-id') ?? '', UUID);
      assert.notEqual(first.headers.get('x-correlation-id'), second.headers.get('x-correlation-id'));
      for (const offered of ['has spaces', 'x'.repeat(129), '<script>']) {
        const response = await api.request('GET', '/health', undefined, { 'X-Correlation-ID': offered });
        assert.match(response.headers.get('x-correlation-id') ?? '', UUID, offered);
      }
    });
  });
});
