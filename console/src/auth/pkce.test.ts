import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { authorizationUrl, codeChallenge, randomToken, readCallback } from './pkce';

describe('PKCE', () => {
  it('derives the S256 challenge of RFC 7636 appendix B', async () => {
    assert.equal(
      await codeChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'),
      'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    );
  });

  it('makes random URL-safe verifiers of 43 characters', () => {
    const a = randomToken();
    assert.match(a, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(a, randomToken());
  });

  it('builds the authorization request', () => {
    const url = new URL(
      authorizationUrl(
        {
          issuer: 'https://id.example',
          authorizationEndpoint: 'https://id.example/authorize?tenant=x',
          clientId: 'console',
          scope: 'openid profile',
        },
        { redirectUri: 'http://localhost:3000/ui/callback', state: 's1', challenge: 'c1' },
      ),
    );
    assert.equal(url.origin + url.pathname, 'https://id.example/authorize');
    assert.deepEqual(Object.fromEntries(url.searchParams), {
      tenant: 'x',
      response_type: 'code',
      client_id: 'console',
      redirect_uri: 'http://localhost:3000/ui/callback',
      scope: 'openid profile',
      state: 's1',
      code_challenge: 'c1',
      code_challenge_method: 'S256',
    });
  });
});

describe('readCallback', () => {
  it('accepts the code when the state matches', () => {
    assert.deepEqual(readCallback('?code=abc&state=s1', 's1'), { ok: true, code: 'abc' });
  });
  it('refuses a state mismatch, a missing sign-in and a provider error', () => {
    assert.match(
      (readCallback('?code=abc&state=evil', 's1') as { message: string }).message,
      /state mismatch/,
    );
    assert.match(
      (readCallback('?code=abc&state=s1', undefined) as { message: string }).message,
      /No sign-in/,
    );
    assert.match(
      (readCallback('?error=access_denied&error_description=nope', 's1') as { message: string }).message,
      /access_denied \(nope\)/,
    );
    assert.match((readCallback('?state=s1', 's1') as { message: string }).message, /no authorization code/);
  });
});
