/**
 * Single sign-on in Chromium: the console's "Sign in with SSO" goes to a real OIDC issuer the test serves
 * (authorization code + PKCE), comes back to /ui/callback, and the API turns the code into the session cookie.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { startTestApi, type TestApi } from '../support/api';
import { launchChromium } from '../support/browser';
import { startTestIssuer, type TestIssuer } from '../support/oidc-issuer';

describe('console single sign-on in Chromium', () => {
  let issuer: TestIssuer;
  let api: TestApi;
  let browser: Browser;

  before(async () => {
    issuer = await startTestIssuer();
    api = await startTestApi({
      security: {
        jwt: { issuer: issuer.issuer, audience: 'flow-api', rolesClaim: 'roles', clockSkewSec: 30 },
        oidcLogin: { clientId: 'flow-console', scope: 'openid profile' },
      },
    });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await api?.close();
    await issuer?.close();
  });

  it('signs in through the issuer with PKCE and lands on the Flows page with the token role', async () => {
    issuer.signInAs({ sub: 'alice', aud: 'flow-api', roles: ['operator'] });
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(`${api.url}/ui/`);
    await page.getByRole('button', { name: 'Sign in with SSO' }).click();
    await page.getByRole('heading', { level: 1, name: 'Flows' }).waitFor();
    assert.match(page.url(), new RegExp(`^${api.url}/ui/`));
    await page.getByText('alice').first().waitFor();
    const redeemed = issuer.tokenRequests.at(-1);
    assert.equal(redeemed?.status, 200, 'the issuer redeemed the code');
    assert.equal(redeemed?.form.client_id, 'flow-console');
    assert.equal(redeemed?.form.redirect_uri, `${api.url}/ui/callback`);
    assert.match(redeemed?.form.code_verifier ?? '', /^[A-Za-z0-9._~-]{43,128}$/);
    const session = (await context.cookies()).find((c) => c.name === 'flow_session');
    assert.ok(session?.httpOnly);
    const me = await context.request.get(`${api.url}/api/Session`);
    assert.equal(me.status(), 200);
    assert.deepEqual(
      { ...(await me.json()), expiresAt: undefined },
      {
        name: 'alice',
        role: 'operator',
        kind: 'jwt',
        expiresAt: undefined,
      },
    );
    // Only the sign-in round trip used sessionStorage, and it is gone; nothing is in localStorage.
    const stored = await page.evaluate(() => {
      const { localStorage, sessionStorage } = globalThis as unknown as Record<string, object>;
      return JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage });
    });
    assert.equal(stored, '{}{}');
    assert.deepEqual(problems, []);
    await context.close();
  });
});
