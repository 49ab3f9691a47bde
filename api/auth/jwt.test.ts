import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  InvalidTokenError,
  JwksUnavailableError,
  JwtVerifier,
  looksLikeJwt,
  parseRoleMap,
  type JwtSettings,
  type JwtVerifierOptions,
} from './jwt';
import { startTestIssuer, type TestIssuer } from '../../test/support/oidc-issuer';

const AUDIENCE = 'flow-orchestrator';
/** Further than jose's 30 s cooldown between JWKS refetches. */
const PAST_COOLDOWN_MS = 60_000;

function verifierFor(
  idp: TestIssuer,
  settings: Partial<JwtSettings> = {},
  options?: JwtVerifierOptions,
): JwtVerifier {
  return new JwtVerifier(
    {
      issuer: idp.issuer,
      audience: AUDIENCE,
      jwksUrl: idp.jwksUrl,
      rolesClaim: 'roles',
      roleMap: 'flow-admins=admin,ops=operator',
      clockSkewSec: 30,
      ...settings,
    },
    options,
  );
}

async function refused(verification: Promise<unknown>, why: RegExp): Promise<void> {
  await assert.rejects(verification, (error: unknown) => {
    assert.ok(error instanceof InvalidTokenError, `expected an InvalidTokenError, got ${String(error)}`);
    assert.match(error.message, why);
    return true;
  });
}

async function unavailable(verification: Promise<unknown>, why: RegExp): Promise<void> {
  await assert.rejects(verification, (error: unknown) => {
    assert.ok(error instanceof JwksUnavailableError, `expected a JwksUnavailableError, got ${String(error)}`);
    assert.match(error.message, why);
    return true;
  });
}

describe('looksLikeJwt', () => {
  it('recognizes three base64url segments (an empty signature included) and nothing else', () => {
    assert.equal(looksLikeJwt('eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln-_'), true);
    assert.equal(looksLikeJwt('eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.'), true);
    for (const token of ['', 'fo_abcdef', 'a.b', 'a.b.c.d', '.b.c', 'a..c', 'a.b.c=', 'a.b+/.c', 'a.b.c '])
      assert.equal(looksLikeJwt(token), false, token);
  });
});

describe('parseRoleMap', () => {
  it('maps names to roles, and our own role names to themselves', () => {
    const map = parseRoleMap(' flow-admins = admin, ops=operator,,admin=admin, ');
    assert.deepEqual(Object.fromEntries(map), {
      viewer: 'viewer',
      operator: 'operator',
      editor: 'editor',
      admin: 'admin',
      'flow-admins': 'admin',
      ops: 'operator',
    });
    assert.deepEqual([...parseRoleMap(undefined).keys()], ['viewer', 'operator', 'editor', 'admin']);
  });

  it('names the bad entry', () => {
    assert.throws(() => parseRoleMap('ops'), /role map entry "ops" must look like name=role/);
    assert.throws(() => parseRoleMap('=admin'), /role map entry "=admin" must look like name=role/);
    assert.throws(() => parseRoleMap('a=b=admin'), /"a=b=admin" must look like name=role/);
    assert.throws(
      () => parseRoleMap('ops=superuser'),
      /"ops=superuser": "superuser" is not one of viewer, operator/,
    );
    assert.throws(() => parseRoleMap('ops=viewer,ops=admin'), /"ops=admin": "ops" is mapped twice/);
    assert.throws(() => parseRoleMap('viewer=admin'), /"viewer=admin": "viewer" is one of our roles/);
  });
});

describe('JwtVerifier', () => {
  let idp: TestIssuer;
  let verifier: JwtVerifier;
  before(async () => {
    idp = await startTestIssuer();
    verifier = verifierFor(idp);
  });
  after(() => idp.close());

  const sign: TestIssuer['sign'] = (claims, options) => idp.sign(claims, options);

  describe('accepts a valid token', () => {
    it('with principal = sub and the role of an array claim', async () => {
      const identity = await verifier.verify(await sign({ sub: 'alice', aud: AUDIENCE, roles: ['editor'] }));
      assert.equal(identity.principal, 'alice');
      assert.equal(identity.role, 'editor');
      assert.equal(identity.claims.iss, idp.issuer);
      assert.deepEqual(identity.claims.roles, ['editor']);
    });

    it('whose audience list contains ours, roles from a space or comma separated string', async () => {
      const aud = ['another-api', AUDIENCE];
      assert.equal((await verifier.verify(await sign({ sub: 'a', aud, roles: 'viewer' }))).role, 'viewer');
      assert.equal((await verifier.verify(await sign({ sub: 'a', aud, roles: 'x ops' }))).role, 'operator');
      assert.equal((await verifier.verify(await sign({ sub: 'a', aud, roles: 'x,editor' }))).role, 'editor');
    });

    it('through the role map, the highest role winning', async () => {
      const token = await sign({ sub: 'bob', aud: AUDIENCE, roles: ['viewer', 'flow-admins', 'ops'] });
      assert.equal((await verifier.verify(token)).role, 'admin');
    });

    it('with roles at a dotted path, or in a claim whose name has dots', async () => {
      const keycloak = verifierFor(idp, { rolesClaim: 'realm_access.roles' });
      const token = await sign({
        sub: 'kc',
        aud: AUDIENCE,
        realm_access: { roles: ['offline_access', 'ops'] },
      });
      assert.equal((await keycloak.verify(token)).role, 'operator');

      const auth0 = verifierFor(idp, { rolesClaim: 'https://flow.example/roles' });
      const namespaced = await sign({ sub: 'a0', aud: AUDIENCE, 'https://flow.example/roles': ['editor'] });
      assert.equal((await auth0.verify(namespaced)).role, 'editor');
    });

    it('with role undefined when no role name maps (or there is no role claim)', async () => {
      const unknown = await verifier.verify(
        await sign({ sub: 'carol', aud: AUDIENCE, roles: ['guests', 7] }),
      );
      assert.equal(unknown.principal, 'carol');
      assert.equal(unknown.role, undefined);
      assert.equal((await verifier.verify(await sign({ sub: 'dave', aud: AUDIENCE }))).role, undefined);
      const elsewhere = verifierFor(idp, { rolesClaim: 'realm_access.roles' });
      assert.equal(
        (await elsewhere.verify(await sign({ sub: 'e', aud: AUDIENCE, realm_access: 'admin' }))).role,
        undefined,
      );
    });

    it('signed with ES256 too', async () => {
      const token = await sign({ sub: 'ec', aud: AUDIENCE, roles: ['admin'] }, { alg: 'ES256' });
      assert.equal((await verifier.verify(token)).role, 'admin');
    });

    it('expired, or not yet valid, within the clock skew', async () => {
      const late = await sign({ sub: 'a', aud: AUDIENCE }, { expiresIn: -10 });
      assert.equal((await verifier.verify(late)).principal, 'a');
      const early = await sign({ sub: 'b', aud: AUDIENCE }, { notBefore: 10 });
      assert.equal((await verifier.verify(early)).principal, 'b');
    });
  });

  describe('refuses', () => {
    it('a token signed by another key under the published kid', async () => {
      await refused(
        verifier.verify(await sign({ sub: 'a', aud: AUDIENCE }, { key: 'other' })),
        /^signature verification failed$/,
      );
    });

    it('a tampered payload', async () => {
      const [header, , signature] = (await sign({ sub: 'a', aud: AUDIENCE, roles: ['viewer'] })).split('.');
      const forged = Buffer.from(
        JSON.stringify({ iss: idp.issuer, sub: 'a', aud: AUDIENCE, exp: 2e9, roles: ['admin'] }),
      );
      await refused(
        verifier.verify(`${header}.${forged.toString('base64url')}.${signature}`),
        /^signature verification failed$/,
      );
    });

    it('another issuer', async () => {
      const token = await sign({ sub: 'a', aud: AUDIENCE, iss: 'https://evil.example' });
      await refused(
        verifier.verify(token),
        /unexpected "iss" claim "https:\/\/evil.example", expected "http:\/\/127/,
      );
    });

    it('another audience, or none', async () => {
      await refused(
        verifier.verify(await sign({ sub: 'a', aud: 'other-api' })),
        /unexpected "aud" claim "other-api"/,
      );
      await refused(verifier.verify(await sign({ sub: 'a' })), /missing required "aud" claim/);
    });

    it('a token expired beyond the clock skew', async () => {
      await refused(
        verifier.verify(await sign({ sub: 'a', aud: AUDIENCE }, { expiresIn: -120 })),
        /^token expired at .*Z \(30 s clock skew allowed\)$/,
      );
    });

    it('a token not valid before a time beyond the clock skew', async () => {
      await refused(
        verifier.verify(await sign({ sub: 'a', aud: AUDIENCE }, { notBefore: 120 })),
        /^token not valid before .*Z \(30 s clock skew allowed\)$/,
      );
    });

    it('a token without exp, or with a non-numeric one', async () => {
      await refused(
        verifier.verify(await sign({ sub: 'a', aud: AUDIENCE }, { expiresIn: null })),
        /missing required "exp" claim/,
      );
      await refused(
        verifier.verify(await sign({ sub: 'a', aud: AUDIENCE, exp: 'soon' as unknown as number })),
        /"exp" claim must be a number/,
      );
    });

    it('a token without sub, or with an empty or non-string one', async () => {
      await refused(verifier.verify(await sign({ aud: AUDIENCE })), /missing required "sub" claim/);
      await refused(
        verifier.verify(await sign({ sub: '', aud: AUDIENCE })),
        /"sub" claim must be a non-empty string, not ""/,
      );
      await refused(
        verifier.verify(await sign({ sub: 42 as unknown as string, aud: AUDIENCE })),
        /"sub" claim must be a non-empty string, not 42/,
      );
    });

    it('an unsigned token (alg: none)', async () => {
      await refused(
        verifier.verify(idp.unsigned({ sub: 'a', aud: AUDIENCE, roles: ['admin'] })),
        /^algorithm "none" is not allowed/,
      );
    });

    it('an HS256 token keyed with the public key (algorithm confusion)', async () => {
      await refused(
        verifier.verify(idp.hmacWithPublicKey({ sub: 'a', aud: AUDIENCE, roles: ['admin'] })),
        /^algorithm "HS256" is not allowed/,
      );
    });

    it('what is not a JWT', async () => {
      await refused(verifier.verify('fo_not-a-jwt'), /^not a JWT/);
      await refused(
        verifier.verify('e30.e30.'),
        /^malformed token: JWS "alg" \(Algorithm\) Header Parameter missing or invalid$/,
      );
    });
  });

  describe('keys', () => {
    it('refuses an unknown kid after refetching the JWKS once, not once per token', async (t) => {
      const own = await startTestIssuer();
      try {
        const verifier = verifierFor(own);
        await verifier.verify(await own.sign({ sub: 'a', aud: AUDIENCE }));
        assert.equal(own.jwksRequests, 1);

        const first = await own.sign({ sub: 'a', aud: AUDIENCE }, { kid: 'no-such-key' });
        const second = await own.sign({ sub: 'b', aud: AUDIENCE }, { kid: 'no-such-key-either' });
        t.mock.timers.enable({ apis: ['Date'], now: Date.now() + PAST_COOLDOWN_MS });
        await refused(
          verifier.verify(first),
          /^no key in the issuer's JWKS matches kid "no-such-key" \(alg "RS256"\)$/,
        );
        assert.equal(own.jwksRequests, 2, 'an unknown kid refetches the JWKS');
        await refused(verifier.verify(second), /matches kid "no-such-key-either"/);
        await refused(verifier.verify(first), /matches kid "no-such-key"/);
        assert.equal(own.jwksRequests, 2, 'within the cooldown, unknown kids do not refetch');
        await verifier.verify(await own.sign({ sub: 'a', aud: AUDIENCE }));
        assert.equal(own.jwksRequests, 2, 'known keys come from the cache');
      } finally {
        await own.close();
      }
    });

    it('follows a key rotation: the new key verifies, the removed one no longer does', async (t) => {
      const own = await startTestIssuer();
      try {
        const verifier = verifierFor(own);
        const old = await own.sign({ sub: 'a', aud: AUDIENCE });
        await verifier.verify(old);
        await own.rotate();
        const rotated = await own.sign({ sub: 'a', aud: AUDIENCE, roles: ['editor'] });
        assert.notEqual(rotated.split('.')[0], old.split('.')[0], 'the new key has another kid');

        t.mock.timers.enable({ apis: ['Date'], now: Date.now() + PAST_COOLDOWN_MS });
        assert.equal((await verifier.verify(rotated)).role, 'editor');
        assert.equal(own.jwksRequests, 2);
        await refused(verifier.verify(old), /^no key in the issuer's JWKS matches kid/);
      } finally {
        await own.close();
      }
    });

    it('finds the JWKS through discovery when no JWKS URL is given, once', async () => {
      const own = await startTestIssuer();
      try {
        const verifier = verifierFor(own, { jwksUrl: undefined });
        assert.equal(own.discoveryRequests, 0, 'discovery waits for the first token');
        await verifier.verify(await own.sign({ sub: 'a', aud: AUDIENCE }));
        await verifier.verify(await own.sign({ sub: 'b', aud: AUDIENCE }));
        assert.equal(own.discoveryRequests, 1);
        assert.equal(own.jwksRequests, 1);
      } finally {
        await own.close();
      }
    });

    it('retries a failed discovery on the next call', async () => {
      let calls = 0;
      const flaky: typeof fetch = (input, init) => {
        calls += 1;
        return calls === 1 ? Promise.reject(new TypeError('fetch failed')) : fetch(input, init);
      };
      const verifier = verifierFor(idp, { jwksUrl: undefined }, { fetch: flaky });
      const token = await sign({ sub: 'a', aud: AUDIENCE });
      await unavailable(
        verifier.verify(token),
        /^OIDC discovery at http:\/\/127.*\/.well-known\/openid-configuration failed: fetch failed$/,
      );
      assert.equal((await verifier.verify(token)).principal, 'a');
    });

    it('refuses a discovery document for another issuer, or pointing at http keys elsewhere', async () => {
      const answering =
        (document: object): typeof fetch =>
        (input, init) =>
          (input instanceof Request ? input.url : input.toString()).endsWith('/openid-configuration')
            ? Promise.resolve(Response.json(document))
            : fetch(input, init);
      const token = await sign({ sub: 'a', aud: AUDIENCE });
      const impostor = verifierFor(
        idp,
        { jwksUrl: undefined },
        { fetch: answering({ issuer: 'https://evil.example', jwks_uri: idp.jwksUrl }) },
      );
      await unavailable(impostor.verify(token), /failed: it names issuer "https:\/\/evil.example"$/);
      const plain = verifierFor(
        idp,
        { jwksUrl: undefined },
        { fetch: answering({ issuer: idp.issuer, jwks_uri: 'http://keys.example/jwks' }) },
      );
      await unavailable(plain.verify(token), /failed: jwks_uri http:\/\/keys.example\/jwks must be https/);
    });

    it('refuses unusable settings: a JWKS URL over http unless on the http issuer origin, a bad role map or URL', () => {
      assert.throws(() => verifierFor(idp, { jwksUrl: 'http://keys.example/jwks' }), /must be https/);
      assert.throws(
        () => verifierFor(idp, { issuer: 'https://idp.example', jwksUrl: 'http://idp.example/jwks' }),
        /must be https/,
      );
      verifierFor(idp, { issuer: 'https://idp.example', jwksUrl: 'https://keys.example/jwks' });
      assert.throws(() => verifierFor(idp, { roleMap: 'ops=root' }), /"root" is not one of/);
      assert.throws(
        () => verifierFor(idp, { issuer: 'idp.example' }),
        /JWT issuer "idp.example" is not an http\(s\) URL/,
      );
      assert.throws(
        () => verifierFor(idp, { jwksUrl: 'file:///etc/jwks' }),
        /JWT JWKS URL "file:\/\/\/etc\/jwks" is not/,
      );
    });
  });

  describe('tells an unavailable issuer from a bad token', () => {
    it('when the issuer is down (JWKS URL given or discovered)', async () => {
      const down = await startTestIssuer();
      const token = await down.sign({ sub: 'a', aud: AUDIENCE });
      await down.close();
      await unavailable(
        verifierFor(down).verify(token),
        /^the JWKS at http:\/\/127.*\/jwks.json is unavailable: fetch failed/,
      );
      await unavailable(
        verifierFor(down, { jwksUrl: undefined }).verify(token),
        /^OIDC discovery .* failed: fetch failed/,
      );
    });

    it('when the JWKS answers an error', async () => {
      const failing: typeof fetch = () => Promise.resolve(new Response('busy', { status: 503 }));
      await unavailable(
        verifierFor(idp, {}, { fetch: failing }).verify(await sign({ sub: 'a', aud: AUDIENCE })),
        /Expected 200 OK/,
      );
    });

    it('when the JWKS does not answer in time', async () => {
      const hanging: typeof fetch = (_input, init) =>
        new Promise((_resolve, reject) => {
          const signal = init?.signal;
          signal?.addEventListener('abort', () => reject(signal.reason as Error));
        });
      const token = await sign({ sub: 'a', aud: AUDIENCE });
      await unavailable(verifierFor(idp, {}, { fetch: hanging, timeoutMs: 20 }).verify(token), /timed out/);
      await unavailable(
        verifierFor(idp, { jwksUrl: undefined }, { fetch: hanging, timeoutMs: 20 }).verify(token),
        /OIDC discovery .* failed/,
      );
    });
  });
});
