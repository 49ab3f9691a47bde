/**
 * The codec endpoint for the Temporal Web UI: Temporal's remote codec protocol round-trips through our encryption,
 * behind a viewer credential, with CORS for the configured UI origin only; and the `npm run dev` allowance for the dev
 * UI's loopback origin.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/common';
import { startTestApi, type TestApi } from '../support/api';
import { assertError } from '../support/assertions';
import { testCodec } from '../support/codec';

const UI = 'https://temporal-ui.example.com';
const DEV_UI = 'http://127.0.0.1:8233';
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

describe('codec endpoint (Temporal remote codec protocol)', () => {
  let api: TestApi;

  before(async () => {
    api = await startTestApi({ security: { temporalUiOrigins: [UI], devUiOrigins: [DEV_UI] } });
  });
  after(() => api?.close());

  const plain = () => {
    const payload = defaultPayloadConverter.toPayload({ order: 42, note: 'hello' });
    return { metadata: { encoding: b64(payload.metadata!.encoding!) }, data: b64(payload.data!) };
  };

  it('encodes to our ciphertext and decodes back, as a viewer', async () => {
    const viewer = api.as('viewer');
    const encoded = await viewer.request(
      'POST',
      '/codec/encode',
      { payloads: [plain()] },
      { 'x-namespace': 'default' },
    );
    assert.equal(encoded.status, 200, JSON.stringify(encoded.body));
    const [sealed] = encoded.body.payloads;
    assert.equal(Buffer.from(sealed.metadata.encoding, 'base64').toString(), 'binary/encrypted');
    assert.ok(!Buffer.from(sealed.data, 'base64').toString('latin1').includes('hello'));

    const decoded = await viewer.request('POST', '/codec/decode', { payloads: [sealed] });
    assert.equal(decoded.status, 200, JSON.stringify(decoded.body));
    assert.deepEqual(decoded.body.payloads, [plain()]);
  });

  it('decodes what the engine wrote, and passes plain payloads through', async () => {
    const [written] = await testCodec().encode([defaultPayloadConverter.toPayload({ run: 'data' })]);
    const decoded = await api.as('viewer').request('POST', '/codec/decode', {
      payloads: [
        {
          metadata: Object.fromEntries(Object.entries(written!.metadata!).map(([k, v]) => [k, b64(v)])),
          data: b64(written!.data!),
        },
        plain(),
      ],
    });
    assert.equal(decoded.status, 200, JSON.stringify(decoded.body));
    const values = (decoded.body.payloads as Array<{ data: string }>).map((p) =>
      JSON.parse(Buffer.from(p.data, 'base64').toString()),
    );
    assert.deepEqual(values, [{ run: 'data' }, { order: 42, note: 'hello' }]);
  });

  it('needs a credential, and refuses what is not a codec request', async () => {
    const anonymous = await api.anonymous.request('POST', '/codec/decode', { payloads: [plain()] });
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.body.error, 'Unauthorized');
    assertError(
      await api.as('viewer').request('POST', '/codec/decode', { payloads: [{ data: 'not base64!' }] }),
      400,
      'ValidationFailed',
      [{ field: 'payloads[0].data', rule: 'regex' }],
    );
  });

  it('answers CORS for the Temporal UI origin on the codec routes only', async () => {
    const preflight = await api.anonymous.request('OPTIONS', '/codec/decode', undefined, {
      origin: UI,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type,x-namespace,authorization',
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), UI);
    assert.equal(preflight.headers.get('access-control-allow-credentials'), 'true');
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /X-Namespace/);

    const elsewhere = await api.request('GET', '/api/Step', undefined, { origin: UI });
    assert.equal(
      elsewhere.headers.get('access-control-allow-origin'),
      null,
      'the UI origin reaches /codec only',
    );
    const stranger = await api
      .as('viewer')
      .request('POST', '/codec/decode', { payloads: [] }, { origin: 'https://evil.example.com' });
    assert.equal(stranger.headers.get('access-control-allow-origin'), null);
  });

  it("trusts the dev UI's loopback origin without a credential (npm run dev), and nothing else", async () => {
    const fromDevUi = await api.anonymous.request(
      'POST',
      '/codec/decode',
      { payloads: [plain()] },
      { origin: DEV_UI },
    );
    assert.equal(fromDevUi.status, 200, JSON.stringify(fromDevUi.body));
    assert.equal(fromDevUi.headers.get('access-control-allow-origin'), DEV_UI);
    const otherOrigin = await api.anonymous.request(
      'POST',
      '/codec/decode',
      { payloads: [plain()] },
      { origin: UI },
    );
    assert.equal(otherOrigin.status, 401);
    const elsewhere = await api.anonymous.request('GET', '/api/Step', undefined, { origin: DEV_UI });
    assert.equal(elsewhere.status, 401, 'only the codec routes trust the dev UI');
    const badKey = await api.anonymous.request(
      'POST',
      '/codec/decode',
      { payloads: [] },
      { origin: DEV_UI, authorization: 'Bearer nope' },
    );
    assert.equal(badKey.status, 401, 'a credential, once sent, is checked');
  });
});
