/**
 * Console sessions (`/api/Session`): an API key or an OIDC authorization code (with PKCE, against a real issuer the
 * test serves) is exchanged for an httpOnly, SameSite=Strict cookie; the cookie authenticates like the key it came
 * from (same role, revoked with it); state changes it authenticates need the CSRF header; logout ends it.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestApi, type TestApi } from '../support/api';
import { assertError, ISO_TIMESTAMP } from '../support/assertions';
import { eventually } from '../support/flows';
import { startTestIssuer, type TestIssuer } from '../support/oidc-issuer';

interface Answer {
  status: number;
  headers: Headers;
  body: any;
  cookie: string | undefined;
  setCookie: string | undefined;
}

const CONSOLE = { 'x-flow-console': '1' };

describe('console sessions', () => {
  let api: TestApi;
  let issuer: TestIssuer;
  const audience = 'flow-api';

  before(async () => {
    issuer = await startTestIssuer();
    api = await startTestApi({
      security: {
        jwt: { issuer: issuer.issuer, audience, rolesClaim: 'roles', clockSkewSec: 30 },
        oidcLogin: { clientId: 'flow-console', scope: 'openid profile' },
        temporalUiUrl: 'http://temporal-ui.test:8080',
      },
    });
  });
  after(async () => {
    await api?.close();
    await issuer?.close();
  });

  /** One request as a browser would send it: the cookie (if any), JSON in and out. */
  const send = async (
    method: string,
    path: string,
    options: { cookie?: string; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<Answer> => {
    const response = await fetch(`${api.url}${path}`, {
      method,
      headers: {
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(options.cookie ? { cookie: options.cookie } : {}),
        ...options.headers,
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
    const text = await response.text();
    const setCookie = response.headers.get('set-cookie') ?? undefined;
    return {
      status: response.status,
      headers: response.headers,
      body: text ? JSON.parse(text) : undefined,
      setCookie,
      cookie: setCookie?.split(';')[0],
    };
  };
  const loginWithKey = async (role: 'viewer' | 'operator') => {
    const answer = await send('POST', '/api/Session', {
      body: { apiKey: await api.keyOf(role) },
      headers: CONSOLE,
    });
    assert.equal(answer.status, 201, JSON.stringify(answer.body));
    return answer;
  };

  it('tells the console how to log in: a key, single sign-on at the issuer, and where the Temporal UI is', async () => {
    const answer = await send('GET', '/api/Session/providers');
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body, {
      apiKey: true,
      oidc: {
        issuer: issuer.issuer,
        authorizationEndpoint: `${issuer.issuer}/authorize`,
        clientId: 'flow-console',
        scope: 'openid profile',
      },
      temporalUi: {
        url: 'http://temporal-ui.test:8080',
        namespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
      },
    });
  });

  it('exchanges an API key for an httpOnly, SameSite=Strict cookie holding only a random token', async () => {
    const key = await api.keyOf('operator');
    const answer = await loginWithKey('operator');
    assert.deepEqual(Object.keys(answer.body).sort(), ['expiresAt', 'kind', 'name', 'role']);
    assert.equal(answer.body.name, 'test-operator');
    assert.equal(answer.body.role, 'operator');
    assert.equal(answer.body.kind, 'apiKey');
    assert.match(answer.body.expiresAt, ISO_TIMESTAMP);
    const hours = (Date.parse(answer.body.expiresAt) - Date.now()) / 3_600_000;
    assert.ok(hours > 7.9 && hours <= 8, `the default session lasts 8 hours, not ${hours}`);
    const attributes = answer.setCookie!.split(';').map((part) => part.trim().toLowerCase());
    assert.match(answer.cookie!, /^flow_session=[A-Za-z0-9_-]{43}$/);
    for (const attribute of ['httponly', 'samesite=strict', 'path=/'])
      assert.ok(attributes.includes(attribute), `${attribute} in ${answer.setCookie}`);
    assert.ok(!answer.setCookie!.includes(key), 'the cookie is not the key');
    const token = answer.cookie!.split('=')[1]!;
    const stored = await api.prisma.session.findMany({ where: { principal: 'test-operator' } });
    assert.ok(stored.length >= 1);
    assert.ok(
      stored.every((row) => row.tokenHash !== token),
      'only the hash is stored',
    );
    assert.ok(stored.some((row) => row.tokenHash === createHash('sha256').update(token).digest('hex')));

    const me = await send('GET', '/api/Session', { cookie: answer.cookie });
    assert.equal(me.status, 200);
    assert.deepEqual(me.body, answer.body);
    const audit = await api.prisma.auditEvent.findFirst({
      where: { action: 'Session.create', principal: 'test-operator', outcome: 201 },
    });
    assert.equal(audit?.role, 'operator');
  });

  it('refuses a login without the CSRF header, with a bad key, or with a malformed body', async () => {
    const key = await api.keyOf('viewer');
    assertError(await send('POST', '/api/Session', { body: { apiKey: key } }), 403, 'CsrfRejected', [
      { field: 'X-Flow-Console', rule: 'csrf' },
    ]);
    const bad = await send('POST', '/api/Session', { body: { apiKey: `${key}x` }, headers: CONSOLE });
    assertError(bad, 401, 'Unauthorized');
    assert.equal(bad.setCookie, undefined, 'no cookie for a refused login');
    assertError(
      await send('POST', '/api/Session', { body: { apiKey: '' }, headers: CONSOLE }),
      400,
      'ValidationFailed',
    );
    const malformed = await send('POST', '/api/Session', {
      body: { code: 'c', codeVerifier: 'short', redirectUri: 'http://x/ui/callback' },
      headers: CONSOLE,
    });
    assertError(malformed, 400, 'ValidationFailed', [{ field: 'codeVerifier', rule: 'regex' }]);
    assert.match(malformed.body.message, /codeVerifier must be 43-128 characters/);
    const refused = await api.prisma.auditEvent.count({ where: { action: 'Session.create', outcome: 401 } });
    assert.ok(refused >= 1, 'a refused login is audited');
  });

  it('authenticates with the role of the key; state changes need the CSRF header', async () => {
    const operator = await loginWithKey('operator');
    const flowId = randomUUID();
    // Reads need no header.
    const read = await send('GET', '/api/Step', { cookie: operator.cookie });
    assert.equal(read.status, 200, JSON.stringify(read.body));
    assertError(
      await send('POST', `/api/Orchestration/start/${flowId}`, { cookie: operator.cookie, body: {} }),
      403,
      'CsrfRejected',
      [{ field: 'X-Flow-Console', rule: 'csrf' }],
    );
    // With the header the request goes through to the route (no such flow).
    const started = await send('POST', `/api/Orchestration/start/${flowId}`, {
      cookie: operator.cookie,
      body: {},
      headers: CONSOLE,
    });
    assertError(started, 404, 'NotFound');

    const viewer = await loginWithKey('viewer');
    const forbidden = await send('POST', `/api/Orchestration/start/${flowId}`, {
      cookie: viewer.cookie,
      body: {},
      headers: CONSOLE,
    });
    assertError(forbidden, 403, 'Forbidden');
    assert.match(forbidden.body.message, /requires the operator role; the caller is viewer/);
  });

  it('ends the session at logout, and with the key it came from', async () => {
    const session = await loginWithKey('operator');
    const logout = await send('DELETE', '/api/Session', { cookie: session.cookie, headers: CONSOLE });
    assert.equal(logout.status, 204);
    assert.match(logout.setCookie ?? '', /^flow_session=;/, 'the cookie is cleared');
    assertError(await send('GET', '/api/Session', { cookie: session.cookie }), 401, 'Unauthorized');

    // A key made for this test, revoked by an admin: its session stops working within the 5 s revoke bound.
    const admin = api.as('admin');
    const created = await admin.request<{ id: string; key: string }>('POST', '/api/ApiKey', {
      name: 'revoked-later',
      role: 'viewer',
    });
    const login = await send('POST', '/api/Session', {
      body: { apiKey: created.body.key },
      headers: CONSOLE,
    });
    assert.equal(login.status, 201);
    assert.equal((await send('GET', '/api/Session', { cookie: login.cookie })).status, 200);
    assert.equal((await admin.request('DELETE', `/api/ApiKey/${created.body.id}`)).status, 204);
    await eventually('the session to be refused', async () =>
      (await send('GET', '/api/Session', { cookie: login.cookie })).status === 401 ? true : undefined,
    );
    assertError(await send('GET', '/api/Step', { cookie: 'flow_session=not-a-token' }), 401, 'Unauthorized');
  });

  describe('single sign-on: authorization code with PKCE', () => {
    const redirectUri = 'http://console.test/ui/callback';
    /** What the console does: a verifier and its S256 challenge; the browser's trip through /authorize. */
    const authorize = async (claims: Record<string, unknown>) => {
      const verifier = randomBytes(32).toString('base64url');
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      issuer.signInAs(claims);
      const url = new URL(`${issuer.issuer}/authorize`);
      for (const [name, value] of Object.entries({
        response_type: 'code',
        client_id: 'flow-console',
        redirect_uri: redirectUri,
        scope: 'openid profile',
        state: 'state-1',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      }))
        url.searchParams.set(name, value);
      const response = await fetch(url, { redirect: 'manual' });
      assert.equal(response.status, 302);
      const back = new URL(response.headers.get('location')!);
      assert.equal(back.searchParams.get('state'), 'state-1');
      return { code: back.searchParams.get('code')!, verifier };
    };

    it('redeems the code at the issuer and logs in with the role its token names', async () => {
      const { code, verifier } = await authorize({ sub: 'alice', aud: audience, roles: ['operator'] });
      const login = await send('POST', '/api/Session', {
        body: { code, codeVerifier: verifier, redirectUri },
        headers: CONSOLE,
      });
      assert.equal(login.status, 201, JSON.stringify(login.body));
      assert.equal(login.body.name, 'alice');
      assert.equal(login.body.role, 'operator');
      assert.equal(login.body.kind, 'jwt');
      const minutes = (Date.parse(login.body.expiresAt) - Date.now()) / 60_000;
      assert.ok(minutes <= 5, `the session ends with the 5-minute token, not after ${minutes} minutes`);
      const redeemed = issuer.tokenRequests.at(-1)!;
      assert.equal(redeemed.status, 200);
      assert.deepEqual(
        { ...redeemed.form, code: undefined },
        {
          grant_type: 'authorization_code',
          code: undefined,
          code_verifier: verifier,
          redirect_uri: redirectUri,
          client_id: 'flow-console',
        },
      );
      const me = await send('GET', '/api/Session', { cookie: login.cookie });
      assert.equal(me.body.name, 'alice');

      // A code redeems once.
      const again = await send('POST', '/api/Session', {
        body: { code, codeVerifier: verifier, redirectUri },
        headers: CONSOLE,
      });
      assertError(again, 401, 'Unauthorized');
    });

    it('refuses a code with the wrong verifier, and a token that maps to none of our roles', async () => {
      const wrong = await authorize({ sub: 'mallory', aud: audience, roles: ['admin'] });
      const refused = await send('POST', '/api/Session', {
        body: { code: wrong.code, codeVerifier: randomBytes(32).toString('base64url'), redirectUri },
        headers: CONSOLE,
      });
      assertError(refused, 401, 'Unauthorized');
      assert.equal(issuer.tokenRequests.at(-1)?.status, 400, 'the issuer refused it (invalid_grant)');

      const roleless = await authorize({ sub: 'bob', aud: audience, roles: ['guest'] });
      const forbidden = await send('POST', '/api/Session', {
        body: { code: roleless.code, codeVerifier: roleless.verifier, redirectUri },
        headers: CONSOLE,
      });
      assertError(forbidden, 403, 'Forbidden');
      assert.equal(forbidden.setCookie, undefined);
    });
  });
});
