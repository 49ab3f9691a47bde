/**
 * OWASP API8 (security misconfiguration): security headers on every answer, no X-Powered-By, CORS closed unless an
 * origin is listed, HTTPS with a certificate, no stack traces; AUTH_MODE=off refused in production.
 */
import { testCodec } from '../support/codec';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import express from 'express';
import pino from 'pino';
import { createTestKey, startTestApi, TEST_RATE_LIMITS, type TestApi } from '../support/api';
import { requestContext } from '../../api/middleware/correlation';
import { errorHandler } from '../../api/middleware/errors';
import { startApi } from '../../api/server';
import { lazyTemporalConnection } from '../../api/temporal-connection';
import { ConfigError, loadConfig, loadTestConfig } from '../../infra/config';

describe('security misconfiguration (API8)', () => {
  let api: TestApi;
  const origin = 'https://console.example.com';

  before(async () => {
    api = await startTestApi({ security: { corsOrigins: [origin] } });
  });
  after(() => api?.close());

  it('sends security headers and no X-Powered-By, on success, on errors and on public routes', async () => {
    for (const [client, path, status] of [
      [api, '/api/Step', 200],
      [api.anonymous, '/api/Step', 401],
      [api.anonymous, '/health', 200],
      [api, `/api/Step/not-a-guid`, 400],
    ] as const) {
      const response = await client.request('GET', path);
      assert.equal(response.status, status, path);
      const h = response.headers;
      assert.equal(h.get('x-powered-by'), null, path);
      assert.equal(h.get('x-content-type-options'), 'nosniff', path);
      assert.equal(h.get('x-frame-options'), 'SAMEORIGIN', path);
      assert.match(h.get('content-security-policy') ?? '', /default-src 'self'/, path);
      assert.match(h.get('strict-transport-security') ?? '', /max-age=\d+/, path);
      assert.equal(h.get('referrer-policy'), 'no-referrer', path);
    }
  });

  it('keeps CORS closed to unlisted origins and open to listed ones', async () => {
    const stranger = await api.request('GET', '/api/Step', undefined, { origin: 'https://evil.example.com' });
    assert.equal(stranger.headers.get('access-control-allow-origin'), null);
    const preflight = await api.anonymous.request('OPTIONS', '/api/Step', undefined, {
      origin: 'https://evil.example.com',
      'access-control-request-method': 'POST',
    });
    assert.equal(preflight.headers.get('access-control-allow-origin'), null);
    assert.equal(preflight.status, 401, 'an unlisted preflight is just an unauthenticated request');

    const listed = await api.request('GET', '/api/Step', undefined, { origin });
    assert.equal(listed.headers.get('access-control-allow-origin'), origin);
    assert.match(listed.headers.get('vary') ?? '', /Origin/);
    const allowed = await api.anonymous.request('OPTIONS', '/api/Step', undefined, {
      origin,
      'access-control-request-method': 'POST',
    });
    assert.equal(allowed.status, 204);
    assert.equal(allowed.headers.get('access-control-allow-origin'), origin);
    assert.match(allowed.headers.get('access-control-allow-headers') ?? '', /Authorization/);
  });

  it('answers an unexpected failure with a generic 500 that leaks nothing', async () => {
    // The API's own error middleware behind a route that fails the way a bug would.
    const app = express();
    app.use(requestContext(pino({ level: 'silent' })));
    app.get('/boom', () => {
      throw new Error('password=hunter2 at /srv/api/secret.ts:12:3');
    });
    app.use(errorHandler(pino({ level: 'silent' })));
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as AddressInfo;
      const response = await fetch(`http://127.0.0.1:${port}/boom`, {
        headers: { 'x-correlation-id': 'c-500' },
      });
      assert.equal(response.status, 500);
      const text = await response.text();
      assert.deepEqual(JSON.parse(text), {
        error: 'InternalError',
        message: 'An unexpected error occurred',
        correlationId: 'c-500',
      });
      assert.doesNotMatch(text, /hunter2|secret\.ts|\bat /);
    } finally {
      server.close();
      server.closeAllConnections();
    }
  });

  it('serves HTTPS with the configured certificate', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'flow-tls-'));
    const env = loadTestConfig();
    const temporal = lazyTemporalConnection(env.TEMPORAL_ADDRESS);
    const certPath = path.join(dir, 'cert.pem');
    const keyPath = path.join(dir, 'key.pem');
    await promisify(execFile)('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      keyPath,
      '-out',
      certPath,
    ]);
    const secure = await startApi({
      prisma: api.prisma,
      temporal,
      logger: pino({ level: 'silent' }),
      port: 0,
      tls: { certPath, keyPath },
      security: { rateLimits: TEST_RATE_LIMITS },
      codec: testCodec(),
    });
    try {
      assert.match(secure.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      const key = await createTestKey(api.prisma, 'viewer', 'tls-viewer');
      // Node's fetch cannot take a CA per request; https.get can.
      const { get } = await import('node:https');
      const { readFile } = await import('node:fs/promises');
      const ca = await readFile(certPath);
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        get(
          `${secure.url}/api/Step`,
          { ca, agent: false, headers: { authorization: `Bearer ${key}` } },
          (res) => {
            let body = '';
            res.on('data', (chunk: Buffer) => (body += chunk.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        ).on('error', reject);
      });
      assert.equal(answer.status, 200, answer.body);
      assert.equal(answer.body, '[]');
      await assert.rejects(fetch(`${secure.url}/health`), 'an untrusted certificate is refused by clients');
    } finally {
      await secure.close();
      await temporal.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses AUTH_MODE=off in production, a short bootstrap key, half a TLS pair, and JWT without audience', () => {
    const attempt = (env: NodeJS.ProcessEnv) => () => loadConfig(env);
    assert.throws(attempt({ AUTH_MODE: 'off', NODE_ENV: 'production' }), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /AUTH_MODE: off is refused when NODE_ENV=production/);
      return true;
    });
    assert.equal(loadConfig({ AUTH_MODE: 'off', NODE_ENV: 'development' }).AUTH_MODE, 'off');
    assert.equal(loadConfig({}).AUTH_MODE, 'on', 'on by default');
    assert.throws(
      attempt({ FLOW_ADMIN_API_KEY: 'too-short' }),
      /FLOW_ADMIN_API_KEY: must be at least 32 characters/,
    );
    assert.throws(
      attempt({ TLS_CERT_PATH: '/tmp/cert.pem' }),
      /TLS_KEY_PATH: TLS_CERT_PATH and TLS_KEY_PATH go together/,
    );
    assert.throws(
      attempt({ AUTH_JWT_ISSUER: 'https://id.example.com' }),
      /AUTH_JWT_AUDIENCE: is required with AUTH_JWT_ISSUER/,
    );
  });
});
