import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApi, type TestApi } from '../support/api';
import { createSchema } from '../support/fixtures';

describe('smoke', () => {
  let api: TestApi;
  before(async () => {
    api = await startTestApi();
  });
  after(() => api.close());

  it('creates and reads a schema', async () => {
    const schema = await createSchema(api);
    const got = await api.request('GET', `/api/Schema/${schema.id}`);
    assert.equal(got.status, 200);
    assert.deepEqual(got.body, schema);
  });
});
