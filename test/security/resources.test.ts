/**
 * OWASP API4 (unrestricted resource consumption): per-principal budgets answer 429 with Retry-After and the IETF
 * RateLimit headers (writes and starts have their own, stricter budgets); bodies and pages are capped.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApi, type TestApi } from '../support/api';
import { assertError } from '../support/assertions';

describe('resource consumption (API4)', () => {
  let api: TestApi;
  const reads = 5;
  const writes = 2;

  before(async () => {
    api = await startTestApi({
      security: { rateLimits: { perMinute: reads, writesPerMinute: writes, startsPerMinute: 1 } },
    });
  });
  after(() => api?.close());

  it('answers 429 with Retry-After and RateLimit headers once a principal spends its read budget', async () => {
    const viewer = api.as('viewer');
    for (let i = 0; i < reads; i++) {
      const response = await viewer.request('GET', '/api/Step');
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('ratelimit-policy'), `"read";q=${reads};w=60`);
      assert.match(response.headers.get('ratelimit') ?? '', new RegExp(`^"read";r=${reads - i - 1};t=\\d+$`));
    }
    const refused = await viewer.request('GET', '/api/Step');
    assertError(refused, 429, 'TooManyRequests', [{ field: 'request', rule: 'rateLimit' }]);
    assert.equal(
      refused.body.message,
      `Too many read requests: at most ${reads} per minute (per API replica)`,
    );
    const retryAfter = Number(refused.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    assert.match(refused.headers.get('ratelimit') ?? '', /^"read";r=0;t=\d+$/);

    // Budgets are per principal: another caller is unaffected.
    assert.equal((await api.as('operator').request('GET', '/api/Step')).status, 200);
  });

  it('gives writes a budget of their own', async () => {
    const admin = api.as('admin');
    for (let i = 0; i < writes; i++) {
      const response = await admin.request('POST', '/api/Schema', {
        version: '1',
        name: `s${i}`,
        definition: {},
      });
      assert.equal(response.status, 201, JSON.stringify(response.body));
      assert.equal(response.headers.get('ratelimit-policy'), `"write";q=${writes};w=60`);
    }
    const refused = await admin.request('POST', '/api/Schema', {
      version: '1',
      name: 'one-too-many',
      definition: {},
    });
    assertError(refused, 429, 'TooManyRequests');
    assert.equal(
      refused.body.message,
      `Too many write requests: at most ${writes} per minute (per API replica)`,
    );
    assert.equal(
      await api.prisma.schema.count({ where: { name: 'one-too-many' } }),
      0,
      'nothing was written',
    );
    // Reads still draw from the read budget.
    assert.equal((await admin.request('GET', '/api/Schema')).status, 200);
  });

  it('caps request bodies and page sizes', async () => {
    const huge = { version: '1', name: 'big', definition: { blob: 'x'.repeat(1_100_000) } };
    assertError(await api.as('editor').request('POST', '/api/Schema', huge), 413, 'PayloadTooLarge', [
      { field: 'body', rule: 'maxSize' },
    ]);
    assertError(await api.as('editor').request('GET', '/api/Step?limit=1001'), 400, 'ValidationFailed', [
      { field: 'query.limit', rule: 'max' },
    ]);
  });
});
