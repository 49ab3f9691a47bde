/**
 * OWASP API3 (property-level authorization): owner fields come from the principal, never the body; secret values
 * in Address and Delivery configuration and connection strings are masked for every role but admin (and survive a
 * replace that sends the mask back); a non-admin cannot mint keys, whatever role the body asks for.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApi, type TestApi } from '../support/api';
import { assertError } from '../support/assertions';

describe('property-level authorization (API3)', () => {
  let api: TestApi;

  before(async () => {
    api = await startTestApi();
  });
  after(() => api?.close());

  it('sets createdBy and updatedBy to the principal, ignoring owner fields in the body', async () => {
    const created = await api.as('editor').request('POST', '/api/Schema', {
      version: '1.0',
      name: 'owned',
      definition: { type: 'object' },
      createdBy: 'mallory',
      updatedBy: 'mallory',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.createdBy, 'test-editor');
    assert.equal(created.body.updatedBy, 'test-editor');

    const replaced = await api.as('admin').request('PUT', `/api/Schema/${created.body.id}`, {
      ...created.body,
      description: 'changed by the admin',
      createdBy: 'mallory',
      updatedBy: 'mallory',
    });
    assert.equal(replaced.status, 204, JSON.stringify(replaced.body));
    const after = await api.request('GET', `/api/Schema/${created.body.id}`);
    assert.equal(after.body.createdBy, 'test-editor');
    assert.equal(after.body.updatedBy, 'test-admin');
  });

  describe('secrets in Address and Delivery', () => {
    const secretAddress = {
      version: '1.0',
      name: 'warehouse',
      connectionString:
        'postgresql://loader:s3cr3t-pw@db.internal:5432/wh?sslmode=require&password=also-secret',
      configuration: {
        apiKey: 'ak-123',
        'x-api-key': 'ak-456',
        clientSecret: 'cs-789',
        accessToken: 'tok-000',
        region: 'eu-west-1',
        keyboardLayout: 'azerty',
      },
    };
    const masked = {
      connectionString: 'postgresql://loader:***@db.internal:5432/wh?sslmode=require&password=***',
      configuration: {
        apiKey: '***',
        'x-api-key': '***',
        clientSecret: '***',
        accessToken: '***',
        region: 'eu-west-1',
        keyboardLayout: 'azerty',
      },
    };
    let addressId: string;

    before(async () => {
      const created = await api.as('editor').request('POST', '/api/Address', secretAddress);
      assert.equal(created.status, 201, JSON.stringify(created.body));
      addressId = created.body.id;
      assert.equal(
        created.body.connectionString,
        masked.connectionString,
        'the editor who wrote it sees it masked',
      );
      assert.deepEqual(created.body.configuration, masked.configuration);
    });

    it('masks secret values for viewer, operator and editor, on get, list and composite lookups', async () => {
      for (const role of ['viewer', 'operator', 'editor'] as const) {
        const client = api.as(role);
        const got = await client.request('GET', `/api/Address/${addressId}`);
        assert.equal(got.body.connectionString, masked.connectionString, role);
        assert.deepEqual(got.body.configuration, masked.configuration, role);
        const listed = await client.request('GET', '/api/Address');
        assert.deepEqual(listed.body[0].configuration, masked.configuration, role);
        const byKey = await client.request(
          'GET',
          `/api/Address/composite/1.0/warehouse?connectionString=${encodeURIComponent(secretAddress.connectionString)}`,
        );
        assert.equal(byKey.status, 200, JSON.stringify(byKey.body));
        assert.equal(byKey.body.connectionString, masked.connectionString, role);
        assert.doesNotMatch(
          JSON.stringify([got.body, listed.body, byKey.body]),
          /s3cr3t|ak-123|cs-789|tok-000|also-secret/,
        );
      }
    });

    it('shows the real values to admins', async () => {
      const got = await api.as('admin').request('GET', `/api/Address/${addressId}`);
      assert.equal(got.body.connectionString, secretAddress.connectionString);
      assert.deepEqual(got.body.configuration, secretAddress.configuration);
    });

    it('keeps the stored secrets when a replace sends the masked values back', async () => {
      const editor = api.as('editor');
      const fetched = (await editor.request('GET', `/api/Address/${addressId}`)).body;
      const replaced = await editor.request('PUT', `/api/Address/${addressId}`, {
        ...fetched,
        description: 'edited by someone who never saw the secrets',
        configuration: { ...fetched.configuration, region: 'eu-central-1' },
      });
      assert.equal(replaced.status, 204, JSON.stringify(replaced.body));
      const stored = await api.as('admin').request('GET', `/api/Address/${addressId}`);
      assert.equal(stored.body.connectionString, secretAddress.connectionString);
      assert.deepEqual(stored.body.configuration, { ...secretAddress.configuration, region: 'eu-central-1' });
    });

    it('masks Delivery secrets the same way', async () => {
      const created = await api.as('editor').request('POST', '/api/Delivery', {
        version: '1.0',
        name: 'sftp-drop',
        connectionString: 'sftp://uploader:pa55@files.example.com/inbox',
        configuration: { password: 'pa55', privateKey: '-----BEGIN KEY-----', folder: 'in' },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const got = await api.as('viewer').request('GET', `/api/Delivery/${created.body.id}`);
      assert.equal(got.body.connectionString, 'sftp://uploader:***@files.example.com/inbox');
      assert.deepEqual(got.body.configuration, { password: '***', privateKey: '***', folder: 'in' });
    });
  });

  it('refuses key creation to non-admins, whatever role the body asks for (no mass assignment)', async () => {
    for (const role of ['viewer', 'operator', 'editor'] as const) {
      const response = await api.as(role).request('POST', '/api/ApiKey', { name: 'escalate', role: 'admin' });
      assertError(response, 403, 'Forbidden', [{ field: 'role', rule: 'role', message: 'requires admin' }]);
    }
    const keys = await api.as('admin').request('GET', '/api/ApiKey');
    assert.ok(!(keys.body as Array<{ name: string }>).some((key) => key.name === 'escalate'));
  });

  it('creates keys only with known roles and fields, answers the secret once, and never lists it', async () => {
    const admin = api.as('admin');
    assertError(
      await admin.request('POST', '/api/ApiKey', { name: 'x', role: 'root' }),
      400,
      'ValidationFailed',
      [{ field: 'role', rule: 'oneOf' }],
    );
    assertError(
      await admin.request('POST', '/api/ApiKey', { name: 'x', role: 'viewer', hash: '0'.repeat(64) }),
      400,
      'ValidationFailed',
      [{ field: 'hash', rule: 'unknownField' }],
    );
    assertError(
      await admin.request('POST', '/api/ApiKey', {
        name: 'x',
        role: 'viewer',
        expiresAt: '2001-01-01T00:00:00Z',
      }),
      400,
      'ValidationFailed',
      [{ field: 'expiresAt', rule: 'future' }],
    );
    const created = await admin.request('POST', '/api/ApiKey', { name: 'ci', role: 'operator' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.match(created.body.key, /^flo_[A-Za-z0-9_-]{43}$/);
    assert.equal(created.body.prefix, created.body.key.slice(0, 12));
    assert.equal(created.body.createdBy, 'test-admin');
    const listed = await admin.request('GET', '/api/ApiKey');
    assert.equal(listed.status, 200);
    const text = JSON.stringify(listed.body);
    assert.ok(!text.includes(created.body.key), 'the secret is never listed');
    const stored = await api.prisma.apiKey.findUniqueOrThrow({ where: { id: created.body.id } });
    assert.ok(!text.includes(stored.hash), 'nor its hash');
    assert.notEqual(stored.hash, created.body.key, 'only a hash is stored');
  });
});
