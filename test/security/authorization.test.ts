/**
 * OWASP API5 (function-level authorization) and API9 (inventory), generated from the route table: every route the
 * app registers is in OpenAPI with its role, and every route answers every role as that role allows — 401 without a
 * credential, 403 naming the required role below it, and past the guard (any answer but 401/403) at or above it.
 */
import { testCodec } from '../support/codec';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Express } from 'express';
import pino from 'pino';
import { createApp } from '../../api/app';
import { hasRole, ROLES, type Role } from '../../api/auth/roles';
import { lazyTemporalConnection } from '../../api/temporal-connection';
import { loadTestConfig } from '../../infra/config';
import { startTestApi, type TestApi } from '../support/api';

interface DocumentedRoute {
  method: string;
  path: string;
  role: Role | 'public';
}

/** `/api/Step/{id}` with harmless values: random GUIDs, a composite key that does not exist. */
function concrete(path: string): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) =>
    name === 'version' ? '0.0.0' : name === 'name' ? 'nothing' : '7f3c1f5e-4a0b-4c8e-9a43-1b2c3d4e5f60',
  );
}

/** The express app's own route layers, as `METHOD /path` with OpenAPI-style parameters. */
function registeredRoutes(app: Express): string[] {
  const stack = (
    app as unknown as {
      router: { stack: Array<{ route?: { path: string; methods: Record<string, boolean> } }> };
    }
  ).router.stack;
  return stack
    .filter((layer) => layer.route)
    .flatMap((layer) =>
      Object.keys(layer.route!.methods)
        .filter((method) => method !== '_all')
        .map((method) => `${method.toUpperCase()} ${layer.route!.path.replace(/:(\w+)/g, '{$1}')}`),
    );
}

describe('function-level authorization (API5) and inventory (API9)', () => {
  let api: TestApi;
  let routes: DocumentedRoute[];

  before(async () => {
    api = await startTestApi();
    const doc = (await api.anonymous.request('GET', '/openapi.json')).body as {
      paths: Record<string, Record<string, { 'x-required-role': Role | 'public'; security: unknown[] }>>;
    };
    routes = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, op]) => ({
        method: method.toUpperCase(),
        path,
        role: op['x-required-role'],
      })),
    );
  });
  after(() => api?.close());

  it('documents every route the app registers, and registers every documented route', () => {
    const env = loadTestConfig();
    const temporal = lazyTemporalConnection(env.TEMPORAL_ADDRESS);
    const app = createApp({
      prisma: api.prisma,
      temporal,
      logger: pino({ level: 'silent' }),
      codec: testCodec(),
    });
    const registered = registeredRoutes(app).sort();
    const documented = routes
      .filter((route) => route.path !== '/swagger/' && route.path !== '/ui/') // static pages, served by middleware
      .map((route) => `${route.method} ${route.path}`)
      .sort();
    assert.deepEqual(registered, documented);
    assert.ok(documented.includes('POST /api/Orchestration/start/{orchestratedFlowId}'));
    assert.ok(documented.includes('DELETE /api/ApiKey/{id}'));
    assert.ok(documented.includes('GET /api/Audit'));
    void temporal.close();
  });

  it('states a role for every operation; only health, the API documents, the bundle schema and the console (page, login) are public', () => {
    for (const route of routes)
      assert.ok(
        route.role === 'public' || (ROLES as readonly string[]).includes(route.role),
        JSON.stringify(route),
      );
    assert.deepEqual(
      routes
        .filter((route) => route.role === 'public')
        .map((route) => `${route.method} ${route.path}`)
        .sort(),
      [
        'GET /api/Session/providers',
        'GET /health',
        'GET /health/ready',
        'GET /openapi.json',
        'GET /schemas/bundle.json',
        'GET /swagger/',
        'GET /ui/',
        'POST /api/Session',
      ],
    );
    const role = (method: string, path: string) =>
      routes.find((r) => r.method === method && r.path === path)?.role;
    assert.equal(role('GET', '/metrics'), 'viewer');
    assert.equal(role('POST', '/api/Step'), 'editor');
    assert.equal(role('POST', '/api/Orchestration/start/{orchestratedFlowId}'), 'operator');
    assert.equal(role('POST', '/api/OrchestratedFlow/{id}/schedule/pause'), 'operator');
    assert.equal(role('POST', '/api/ApiKey'), 'admin');
    assert.equal(role('POST', '/api/Bundle/apply'), 'editor');
  });

  it('answers every guarded route × every role as the role table says', async () => {
    const checked: string[] = [];
    for (const route of routes) {
      if (route.role === 'public') continue;
      const path = concrete(route.path);
      const body = route.method === 'GET' || route.method === 'DELETE' ? undefined : {};
      const what = `${route.method} ${route.path}`;

      const anonymous = await api.anonymous.request(route.method, path, body);
      assert.equal(anonymous.status, 401, `${what} without a credential: ${JSON.stringify(anonymous.body)}`);
      assert.equal(anonymous.body.error, 'Unauthorized', what);

      for (const role of ROLES) {
        const response = await api.as(role).request(route.method, path, body);
        const shown = `${what} as ${role}: ${response.status} ${JSON.stringify(response.body)}`;
        if (hasRole(role, route.role)) {
          assert.notEqual(response.status, 401, shown);
          assert.notEqual(response.status, 403, shown);
          assert.ok(response.status < 500 || response.status === 503, shown);
        } else {
          assert.equal(response.status, 403, shown);
          assert.equal(response.body.error, 'Forbidden', shown);
          assert.deepEqual(
            response.body.details,
            [
              {
                field: 'role',
                rule: 'role',
                message: `requires ${route.role}`,
                required: route.role,
                actual: role,
              },
            ],
            shown,
          );
        }
        checked.push(`${what} ${role}`);
      }
    }
    // 8 entities × 5 CRUD routes + lookups + schedules + runs + keys + audit + metrics, each for 4 roles.
    assert.ok(checked.length >= 4 * 60, `only ${checked.length} route × role cases`);
  });

  it('answers an unknown path 401 to a stranger and 404 to a viewer', async () => {
    const stranger = await api.anonymous.request('GET', '/api/Nothing/here');
    assert.equal(stranger.status, 401);
    assert.equal(stranger.body.error, 'Unauthorized');
    const viewer = await api.as('viewer').request('GET', '/api/Nothing/here');
    assert.equal(viewer.status, 404);
    assert.deepEqual(viewer.body, { error: 'NotFound', message: 'No route GET /api/Nothing/here' });
  });
});
