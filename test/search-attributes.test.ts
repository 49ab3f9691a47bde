import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../domain/search-attributes';
import { loadTestConfig } from '../infra/config';
import { ensureSearchAttributes } from '../infra/search-attributes';
import { startTemporalDevServer, type TemporalDevServer } from '../infra/temporal-dev-server';

describe('search attribute registration', () => {
  let server: TemporalDevServer;
  let connection: Connection;
  before(async () => {
    // A server launched without our attributes, like a fresh cluster.
    server = await startTemporalDevServer({
      cliPath: loadTestConfig().TEMPORAL_CLI,
      headless: true,
      searchAttributes: {},
    });
    connection = await Connection.connect({ address: server.address });
  });
  after(async () => {
    await connection.close();
    await server.stop();
  });

  it('adds every missing attribute once, then nothing', async () => {
    const names = Object.keys(SEARCH_ATTRIBUTES);
    const before = await connection.operatorService.listSearchAttributes({ namespace: server.namespace });
    assert.deepEqual(
      names.filter((n) => before.customAttributes && n in before.customAttributes),
      [],
    );

    assert.deepEqual(await ensureSearchAttributes(connection, server.namespace), names);
    const after = await connection.operatorService.listSearchAttributes({ namespace: server.namespace });
    for (const name of names)
      assert.ok(after.customAttributes && name in after.customAttributes, `${name} missing`);

    assert.deepEqual(await ensureSearchAttributes(connection, server.namespace), []);
  });
});
