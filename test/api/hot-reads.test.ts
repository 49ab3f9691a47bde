/**
 * The fast path of `GET /api/{Entity}/{id}` (api/hot-reads.ts) answers exactly what express answers: two APIs over one
 * database, one as shipped and one with the fast path off, get the same requests (same credential kinds, same
 * correlation IDs) and must give the same status, body and headers — for reads, masking, 404s, refusals, CORS,
 * conditional requests and rate limits. Requests the fast path must leave to express are checked to reach express.
 */
import assert from 'node:assert/strict';
import { createServer, IncomingMessage, request, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import helmet from 'helmet';
import type { Role } from '../../api/auth/roles';
import { expressMessages } from '../../api/hot-reads';
import { securityHeaders } from '../../api/middleware/security-headers';
import { createTestKey, startTestApi, type TestApi } from '../support/api';
import { createAddress, createProcessor, createStep, unique } from '../support/fixtures';

const ORIGIN = 'https://console.example.test';
const RATE_LIMIT = 5;

interface Answer {
  status: number;
  body: string;
  headers: Record<string, string>;
}

/** Headers that differ between two servers for reasons of time alone. */
const TIMELY = new Set(['date', 'keep-alive', 'connection']);

/** One request through node's client (fetch adds `Cache-Control: no-cache` to conditional requests). */
function call(url: string, path: string, headers: Record<string, string>, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const answer: Answer = {
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString('utf8'),
          headers: {},
        };
        for (const [name, value] of Object.entries(res.headers)) {
          if (TIMELY.has(name) || value === undefined) continue;
          const text = String(value);
          // Seconds until the rate window resets: the two servers' windows start moments apart.
          answer.headers[name] =
            name === 'ratelimit' ? text.replace(/t=\d+/, 't=*') : name === 'retry-after' ? '*' : text;
        }
        resolve(answer);
      });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the fast path of GET by id', () => {
  let hot: TestApi;
  let plain: TestApi;
  let stepId: string;
  let addressId: string;

  before(async () => {
    const security = { corsOrigins: [ORIGIN], rateLimits: { perMinute: RATE_LIMIT } };
    hot = await startTestApi({ security });
    plain = await startTestApi({ security, databaseUrl: hot.database.url, hotReads: false });
    const editor = hot.as('editor');
    const processor = await createProcessor(editor);
    stepId = (await createStep(editor, processor.id, { configuration: { expression: '$' } })).id;
    addressId = (
      await createAddress(editor, {
        connectionString: 'postgres://reader:hunter2@db.example.test/app',
        configuration: { region: 'eu', apiKey: 'secret' },
      })
    ).id;
  });

  after(async () => {
    await plain?.close();
    await hot?.close();
  });

  /** A fresh key of `role`, so each case starts with a full rate budget on both servers. */
  const keyOf = (role: Role) => createTestKey(hot.prisma, role, `hot-${role}-${unique()}`);

  /** Sends the same request to both servers; asserts equal answers and who served it; returns the hot answer. */
  async function same(path: string, headers: Record<string, string>, fast: boolean, method = 'GET') {
    const correlated = { ...headers, 'x-correlation-id': `hot-${unique()}` };
    const served = hot.hotReadsServed();
    const a = await call(hot.url, path, correlated, method);
    assert.equal(
      hot.hotReadsServed() - served,
      fast ? 1 : 0,
      `${method} ${path} fast path: expected ${fast}`,
    );
    const b = await call(plain.url, path, correlated, method);
    assert.equal(plain.hotReadsServed(), 0);
    assert.deepEqual(a, b, `${method} ${path}: the two paths answered differently`);
    return a;
  }

  it('reads every kind of answer as express does', async () => {
    const viewer = { authorization: `Bearer ${await keyOf('viewer')}` };
    const read = await same(`/api/Step/${stepId}`, viewer, true);
    assert.equal(read.status, 200);
    assert.equal((JSON.parse(read.body) as { id: string }).id, stepId);
    assert.match(read.headers['content-security-policy'] ?? '', /default-src 'self'/);
    assert.match(read.headers.etag ?? '', /^W\//);
    assert.equal(read.headers.vary, 'Origin');

    const masked = await same(`/api/Address/${addressId}`, { 'x-api-key': await keyOf('viewer') }, true);
    assert.equal(
      (JSON.parse(masked.body) as { configuration: { apiKey: string } }).configuration.apiKey,
      '***',
    );
    const admin = await same(
      `/api/Address/${addressId}`,
      { authorization: `Bearer ${await keyOf('admin')}` },
      true,
    );
    assert.equal(
      (JSON.parse(admin.body) as { configuration: { apiKey: string } }).configuration.apiKey,
      'secret',
    );

    const missing = await same('/api/Step/00000000-0000-4000-8000-000000000000', viewer, true);
    assert.equal(missing.status, 404);
    assert.equal((JSON.parse(missing.body) as { error: string }).error, 'NotFound');

    const fresh = await same(`/api/Step/${stepId}`, { ...viewer, 'if-none-match': read.headers.etag! }, true);
    assert.equal(fresh.status, 304);
    assert.equal(fresh.body, '');

    const cors = await same(`/api/Step/${stepId}`, { ...viewer, origin: ORIGIN }, true);
    assert.equal(cors.headers['access-control-allow-origin'], ORIGIN);
  });

  it('refuses as express does, and audits the refusals', async () => {
    const unknown = await same(`/api/Step/${stepId}`, { authorization: 'Bearer flo_not-a-key' }, true);
    assert.equal(unknown.status, 401);
    assert.equal((JSON.parse(unknown.body) as { error: string }).error, 'Unauthorized');
    assert.equal(unknown.headers['www-authenticate'], 'Bearer realm="flow-orchestrator"');
    const anonymous = await same(`/api/Step/${stepId}`, {}, true);
    assert.equal(anonymous.status, 401);
    const refusals = await hot.prisma.auditEvent.count({
      where: { action: 'Step.get', entityId: stepId, outcome: 401 },
    });
    assert.equal(refusals, 4, 'two refusals on each server');

    const key = { authorization: `Bearer ${await keyOf('viewer')}` };
    for (let i = 0; i < RATE_LIMIT; i++)
      assert.equal((await same(`/api/Step/${stepId}`, key, true)).status, 200);
    const limited = await same(`/api/Step/${stepId}`, key, true);
    assert.equal(limited.status, 429);
    assert.equal((JSON.parse(limited.body) as { error: string }).error, 'TooManyRequests');
    assert.match(limited.headers.ratelimit ?? '', /^"read";r=0;t=\*$/);
  });

  it('leaves to express whatever could route differently', async () => {
    const viewer = { authorization: `Bearer ${await keyOf('viewer')}` };
    const cases: [string, string][] = [
      ['GET', `/api/Step/${stepId}?x=1`],
      ['GET', `/api/Step/${stepId}/`],
      ['GET', `/api/step/${stepId}`],
      ['HEAD', `/api/Step/${stepId}`],
      ['GET', '/api/Step/not-a-uuid'],
      ['GET', `/api/Workflow/${stepId}/graph`],
    ];
    for (const [method, path] of cases) {
      const answer = await same(path, viewer, false, method);
      assert.notEqual(answer.status, 500, `${method} ${path}`);
    }
  });

  it('labels its requests in the metrics with the route, as express does', async () => {
    const metrics = await call(hot.url, '/metrics', { authorization: `Bearer ${await keyOf('viewer')}` });
    assert.match(
      metrics.body,
      /http_request_duration_seconds_count\{method="GET",route="\/api\/Step\/:id",status="200"\} \d+/,
    );
  });
});

describe('securityHeaders', () => {
  it('sets exactly the headers helmet sets', async () => {
    const headersOf = async (middleware: express.RequestHandler) => {
      const app = express();
      app.disable('x-powered-by');
      app.use(middleware);
      app.get('/', (_req, res) => res.end());
      const server = app.listen(0, '127.0.0.1');
      await new Promise((resolve) => server.once('listening', resolve));
      try {
        const { port } = server.address() as { port: number };
        const response = await fetch(`http://127.0.0.1:${port}/`);
        const headers: Record<string, string> = {};
        response.headers.forEach((value, name) => {
          if (!TIMELY.has(name)) headers[name] = value;
        });
        return headers;
      } finally {
        server.close();
      }
    };
    const ours = await headersOf(securityHeaders());
    assert.ok(Object.keys(ours).length >= 10, 'helmet sets a dozen headers');
    assert.deepEqual(ours, await headersOf(helmet()));
  });
});

const inherits = (object: object, prototype: object) =>
  Object.prototype.isPrototypeOf.call(prototype, object);

describe('expressMessages', () => {
  it("makes a server's requests and responses with express's prototypes", async () => {
    const app = express();
    const expressRequest = Object.getPrototypeOf(app.request) as object;
    const messages = expressMessages(app);
    assert.equal(
      Object.getPrototypeOf(app.request),
      expressRequest,
      "the app's request keeps express's chain",
    );
    assert.equal((app.request as { app?: unknown }).app, app);
    const req = new messages.IncomingMessage(new Socket());
    const res = new messages.ServerResponse(req);
    // Exactly the app's prototypes: express's `Object.setPrototypeOf(req, app.request)` changes nothing.
    assert.ok(req instanceof IncomingMessage && Object.getPrototypeOf(req) === app.request);
    assert.ok(res instanceof ServerResponse && Object.getPrototypeOf(res) === app.response);

    // A listener that is not express: what it is given comes from the server, as the fast path gets it.
    const server = createServer(messages, (request, response) => {
      const answer = {
        inherits: [inherits(request, app.request), inherits(response, app.response)],
        json: typeof (response as unknown as express.Response).json,
      };
      response.end(JSON.stringify(answer));
    }).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as { port: number };
      const response = await fetch(`http://127.0.0.1:${port}/`);
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), { inherits: [true, true], json: 'function' });
    } finally {
      server.close();
    }
  });
});
