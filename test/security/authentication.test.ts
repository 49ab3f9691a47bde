/**
 * OWASP API2 (broken authentication): every credential that is missing, malformed, unknown, revoked (here or through
 * another API replica), expired, or a JWT that fails verification answers the same 401; repeated failures from one
 * address are slowed down; valid API keys (both headers) and OIDC tokens from a real JWKS are accepted.
 */
import { testCodec } from '../support/codec';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { API_KEY_CACHE_MS, generateApiKey, insertApiKey } from '../../api/auth/api-keys';
import { startApi } from '../../api/server';
import { lazyTemporalConnection } from '../../api/temporal-connection';
import { loadTestConfig } from '../../infra/config';
import { createPrismaClient } from '../../prisma/client';
import { apiClient, startTestApi, TEST_RATE_LIMITS, type JsonResponse, type TestApi } from '../support/api';
import { sleep } from '../support/assertions';
import { startTestIssuer, type TestIssuer } from '../support/oidc-issuer';

const UNAUTHORIZED = {
  error: 'Unauthorized',
  message: 'A valid API key or bearer token is required',
  details: [
    {
      field: 'Authorization',
      rule: 'authentication',
      message: 'send Authorization: Bearer <API key or token>, or X-API-Key: <API key>',
    },
  ],
};

/** The one 401 every bad credential gets: same body, so it never tells which check failed. */
function assertUnauthorized(response: JsonResponse, what: string): void {
  assert.equal(response.status, 401, `${what}: ${JSON.stringify(response.body)}`);
  assert.deepEqual(response.body, UNAUTHORIZED, what);
  assert.equal(response.headers.get('www-authenticate'), 'Bearer realm="flow-orchestrator"', what);
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('authentication (API2)', () => {
  let api: TestApi;
  let issuer: TestIssuer;
  const audience = 'flow-api';

  before(async () => {
    issuer = await startTestIssuer();
    api = await startTestApi({
      security: { jwt: { issuer: issuer.issuer, audience, rolesClaim: 'roles', clockSkewSec: 30 } },
    });
  });
  after(async () => {
    await api?.close();
    await issuer?.close();
  });

  it('answers 401 with WWW-Authenticate for a missing, garbage or unknown credential', async () => {
    const cases: Array<[string, Record<string, string>]> = [
      ['no header', {}],
      ['a non-bearer scheme', { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` }],
      ['an empty bearer', { authorization: 'Bearer ' }],
      ['garbage', bearer('not a key')],
      ['an unknown key with our prefix', bearer(generateApiKey())],
      ['an unknown key in X-API-Key', { 'x-api-key': generateApiKey() }],
      [
        'a known key prefix with a wrong secret',
        bearer(`${(await api.keyOf('viewer')).slice(0, 12)}${'A'.repeat(31)}`),
      ],
      ['an oversized header', bearer('a'.repeat(10_000))],
    ];
    for (const [what, headers] of cases)
      assertUnauthorized(await api.anonymous.request('GET', '/api/Step', undefined, headers), what);
  });

  it('accepts a valid key as a bearer token and in X-API-Key', async () => {
    const key = await api.keyOf('viewer');
    for (const headers of [bearer(key), { 'x-api-key': key }]) {
      const response = await api.anonymous.request('GET', '/api/Step', undefined, headers);
      assert.equal(response.status, 200, JSON.stringify(response.body));
      assert.deepEqual(response.body, []);
    }
  });

  it('refuses a revoked key at once on this replica and within the cache bound on another', async () => {
    const env = loadTestConfig();
    const prisma = createPrismaClient(api.database.url);
    const temporal = lazyTemporalConnection(env.TEMPORAL_ADDRESS);
    const peer = await startApi({
      prisma,
      temporal,
      logger: pino({ level: 'silent' }),
      port: 0,
      security: { rateLimits: TEST_RATE_LIMITS },
      codec: testCodec(),
    });
    try {
      const admin = api.as('admin');
      const created = await admin.request('POST', '/api/ApiKey', { name: 'soon-revoked', role: 'viewer' });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const key = created.body.key as string;
      const here = apiClient(api.url, key);
      const there = apiClient(peer.url, key);
      assert.equal((await here.request('GET', '/api/Step')).status, 200);
      assert.equal((await there.request('GET', '/api/Step')).status, 200, 'the peer now caches the key');

      const revoked = await admin.request('DELETE', `/api/ApiKey/${created.body.id}`);
      assert.equal(revoked.status, 204, JSON.stringify(revoked.body));
      assertUnauthorized(await here.request('GET', '/api/Step'), 'revoked, same replica');

      const deadline = Date.now() + API_KEY_CACHE_MS + 1_000;
      let last = await there.request('GET', '/api/Step');
      while (last.status === 200 && Date.now() < deadline) {
        await sleep(250);
        last = await there.request('GET', '/api/Step');
      }
      assertUnauthorized(last, `revoked, other replica, within ${API_KEY_CACHE_MS} ms`);

      const listed = await admin.request('GET', '/api/ApiKey');
      const view = (listed.body as Array<Record<string, unknown>>).find((k) => k.id === created.body.id);
      assert.ok(view && typeof view.revokedAt === 'string', JSON.stringify(view));
    } finally {
      await peer.close();
      await prisma.$disconnect();
      await temporal.close();
    }
  });

  it('refuses a key once it has expired, even while it is cached', async () => {
    const secret = generateApiKey();
    await insertApiKey(api.prisma, {
      secret,
      name: 'short-lived',
      role: 'viewer',
      createdBy: 'test',
      expiresAt: new Date(Date.now() + 1_500),
    });
    const client = apiClient(api.url, secret);
    assert.equal((await client.request('GET', '/api/Step')).status, 200);
    await sleep(1_600);
    assertUnauthorized(await client.request('GET', '/api/Step'), 'expired');

    const past = generateApiKey();
    await insertApiKey(api.prisma, {
      secret: past,
      name: 'long-expired',
      role: 'admin',
      createdBy: 'test',
      expiresAt: new Date(Date.now() - 60_000),
    });
    assertUnauthorized(await apiClient(api.url, past).request('GET', '/api/Step'), 'expired long ago');
  });

  describe('OIDC bearer tokens (verified against the issuer JWKS the test serves)', () => {
    const claims = (extra: Record<string, unknown> = {}) => ({
      sub: 'alice@example.com',
      aud: audience,
      roles: ['operator'],
      ...extra,
    });

    it('accepts a valid token: its sub is the principal and its role applies', async () => {
      const token = await issuer.sign(claims());
      const read = await api.anonymous.request('GET', '/api/Step', undefined, bearer(token));
      assert.equal(read.status, 200, JSON.stringify(read.body));
      const write = await api.anonymous.request(
        'POST',
        '/api/Schema',
        { version: '1', name: 'x', definition: {} },
        bearer(token),
      );
      assert.equal(write.status, 403, JSON.stringify(write.body));
      assert.deepEqual(write.body.details, [
        { field: 'role', rule: 'role', message: 'requires editor', required: 'editor', actual: 'operator' },
      ]);
      const editor = await issuer.sign(claims({ sub: 'bob@example.com', roles: ['editor'] }));
      const created = await api.anonymous.request(
        'POST',
        '/api/Schema',
        { version: '1', name: 'by-jwt', definition: {} },
        bearer(editor),
      );
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.body.createdBy, 'bob@example.com');
    });

    it('answers 403 naming no role for a valid token that carries none of ours', async () => {
      const token = await issuer.sign(claims({ roles: ['accounting'] }));
      const response = await api.anonymous.request('GET', '/api/Step', undefined, bearer(token));
      assert.equal(response.status, 403, JSON.stringify(response.body));
      assert.equal(response.body.error, 'Forbidden');
      assert.deepEqual(response.body.details, [
        { field: 'role', rule: 'role', message: 'requires viewer', required: 'viewer', actual: 'none' },
      ]);
    });

    it('refuses a bad signature, wrong iss or aud, expiry, alg none, HS/RS confusion and an unknown kid', async () => {
      const cases: Array<[string, Promise<string> | string]> = [
        ['signed by a key the JWKS does not have', issuer.sign(claims(), { key: 'other' })],
        ['wrong issuer', issuer.sign(claims({ iss: 'https://evil.example.com' }))],
        ['wrong audience', issuer.sign(claims({ aud: 'someone-else' }))],
        ['expired beyond the clock skew', issuer.sign(claims(), { expiresIn: -120 })],
        ['not yet valid', issuer.sign(claims(), { notBefore: 600 })],
        ['alg none', issuer.unsigned(claims())],
        ['HS256 keyed with the public key', issuer.hmacWithPublicKey(claims())],
        ['an unknown kid', issuer.sign(claims(), { kid: 'no-such-key' })],
      ];
      for (const [what, token] of cases)
        assertUnauthorized(
          await api.anonymous.request('GET', '/api/Step', undefined, bearer(await token)),
          what,
        );
    });
  });
});

describe('brute force (API2)', () => {
  let api: TestApi;
  const failures = 5;

  before(async () => {
    api = await startTestApi({ security: { rateLimits: { authFailuresPerMinute: failures } } });
  });
  after(() => api?.close());

  it('refuses an address after repeated failed authentications, whatever the key prefix, and then its valid keys too', async () => {
    const valid = await api.keyOf('viewer');
    for (let i = 0; i < failures; i++) {
      const guess = i % 2 === 0 ? generateApiKey() : `${valid.slice(0, 12)}${generateApiKey().slice(12)}`;
      assertUnauthorized(
        await api.anonymous.request('GET', '/api/Step', undefined, bearer(guess)),
        `guess ${i}`,
      );
    }
    const refused = await api.anonymous.request('GET', '/api/Step', undefined, bearer(generateApiKey()));
    assert.equal(refused.status, 429, JSON.stringify(refused.body));
    assert.equal(refused.body.error, 'TooManyRequests');
    assert.equal(refused.body.message, 'Too many failed authentications from this address');
    const retryAfter = Number(refused.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);

    const blocked = await api.anonymous.request('GET', '/api/Step', undefined, bearer(valid));
    assert.equal(blocked.status, 429, 'the address stays refused for the rest of the window');
    assert.deepEqual(blocked.body, refused.body);
  });
});
