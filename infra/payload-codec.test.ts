import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import { describe, it } from 'node:test';
import {
  ApplicationFailure,
  defaultPayloadConverter,
  METADATA_ENCODING_KEY,
  type Payload,
} from '@temporalio/common';
import {
  ActivityInputCodec,
  deflateWindow,
  EncryptionCodec,
  isUnreadablePayload,
  KeyRing,
  KeyRingError,
  METADATA_COMPRESSION,
  METADATA_KEY_ID,
  PAYLOAD_UNREADABLE,
} from './payload-codec';

const KEY_A = KeyRing.generateText('a');
const KEY_B = KeyRing.generateText('b');
const toPayload = (value: unknown) => defaultPayloadConverter.toPayload(value);
const fromPayload = (payload: Payload) => defaultPayloadConverter.fromPayload(payload);
const meta = (payload: Payload, key: string) => Buffer.from(payload.metadata![key]!).toString();

describe('EncryptionCodec', () => {
  const codec = new EncryptionCodec(KeyRing.parse(KEY_A));

  it('round-trips small and large payloads; the stored bytes hold no plain text', async () => {
    const canary = `canary-${Math.random().toString(36).slice(2)}`;
    for (const value of [
      { secret: canary },
      { secret: canary, bulk: 'x'.repeat(50_000) },
      null,
      'text',
      42,
    ]) {
      const [encoded] = await codec.encode([toPayload(value)]);
      assert.equal(meta(encoded!, METADATA_ENCODING_KEY), 'binary/encrypted');
      assert.equal(meta(encoded!, METADATA_KEY_ID), 'a');
      assert.ok(!Buffer.from(encoded!.data!).toString('latin1').includes(canary), 'no plain text');
      assert.ok(!JSON.stringify(encoded!.metadata).includes('json/plain'), 'not even the inner encoding');
      const [decoded] = await codec.decode([encoded!]);
      assert.deepEqual(fromPayload(decoded!), value);
    }
  });

  it('compresses large payloads before encrypting them', async () => {
    const [small] = await codec.encode([toPayload({ n: 1 })]);
    const [large] = await codec.encode([toPayload({ bulk: 'y'.repeat(100_000) })]);
    assert.equal(meta(small!, METADATA_COMPRESSION), 'none');
    assert.equal(meta(large!, METADATA_COMPRESSION), 'deflate');
    assert.ok(large!.data!.length < 10_000, `compressed to ${large!.data!.length} bytes`);
  });

  it('deflates a small payload in a window of its own size, as tightly as the default window', async () => {
    assert.deepEqual(deflateWindow(1024), { windowBits: 11, memLevel: 5 });
    assert.deepEqual(deflateWindow(3000), { windowBits: 12, memLevel: 6 });
    assert.deepEqual(deflateWindow(40_000), { windowBits: 15, memLevel: 8 });
    // Step outputs and summaries: JSON of repeating shapes, 1 KiB to 200 KiB.
    for (const items of [30, 80, 400, 2000, 4000]) {
      const plain = Buffer.from(
        JSON.stringify(
          Array.from({ length: items }, (_, i) => ({
            id: `step-${i}`,
            status: 'Succeeded',
            attempts: 1 + (i % 3),
          })),
        ),
      );
      const sized = deflateRawSync(plain, deflateWindow(plain.length)).length;
      const standard = deflateRawSync(plain).length;
      assert.ok(sized <= standard * 1.02, `${plain.length} bytes: ${sized} against ${standard}`);
      const [encoded] = await codec.encode([{ metadata: {}, data: plain }]);
      assert.equal(meta(encoded!, METADATA_COMPRESSION), 'deflate');
      const [decoded] = await codec.decode([encoded!]);
      assert.deepEqual(Buffer.from(decoded!.data!), plain);
    }
  });

  it('round-trips payloads zlib handles on the thread pool (large, and large even compressed)', async () => {
    // 400 KB of random text: deflated above the synchronous limit, and still ~300 KB to inflate.
    const bulk = randomBytes(300_000).toString('base64');
    const [encoded] = await codec.encode([toPayload({ bulk })]);
    assert.equal(meta(encoded!, METADATA_COMPRESSION), 'deflate');
    assert.ok(encoded!.data!.length > 200_000, `compressed to ${encoded!.data!.length} bytes`);
    const [decoded] = await codec.decode([encoded!]);
    assert.deepEqual(fromPayload(decoded!), { bulk });
  });

  it('uses a fresh nonce per payload', async () => {
    const [one, two] = await codec.encode([toPayload('same'), toPayload('same')]);
    assert.notDeepEqual(Buffer.from(one!.data!), Buffer.from(two!.data!));
  });

  it('passes payloads it did not encrypt through unchanged (runs from before the codec)', async () => {
    const plain = toPayload({ old: true });
    const [decoded] = await codec.decode([plain]);
    assert.equal(decoded, plain);
  });

  it('reads payloads of an older key after a rotation, and writes with the new active key', async () => {
    const [underA] = await codec.encode([toPayload('written under a')]);
    const rotated = new EncryptionCodec(KeyRing.parse(`${KEY_A},${KEY_B}`, 'b'));
    assert.equal(fromPayload((await rotated.decode([underA!]))[0]!), 'written under a');
    const [underB] = await rotated.encode([toPayload('written under b')]);
    assert.equal(meta(underB!, METADATA_KEY_ID), 'b');
  });

  it('refuses, non-retryably and naming the key, a payload whose key is missing', async () => {
    const [underB] = await new EncryptionCodec(KeyRing.parse(KEY_B)).encode([toPayload('b only')]);
    await assert.rejects(codec.decode([underB!]), (error: unknown) => {
      assert.ok(error instanceof ApplicationFailure);
      assert.equal(error.type, PAYLOAD_UNREADABLE);
      assert.equal(error.nonRetryable, true);
      assert.equal(
        error.message,
        'Cannot decrypt a payload: key "b" is not in PAYLOAD_KEYS (this process has a)',
      );
      return true;
    });
  });

  it('refuses altered ciphertext and altered metadata', async () => {
    const [encoded] = await codec.encode([toPayload({ amount: 100 })]);
    const flipped = Buffer.from(encoded!.data!);
    flipped[20] = flipped[20]! ^ 1;
    await assert.rejects(codec.decode([{ ...encoded!, data: flipped }]), /does not authenticate/);
    const relabelled = {
      ...encoded!,
      metadata: { ...encoded!.metadata, [METADATA_COMPRESSION]: new TextEncoder().encode('deflate') },
    };
    await assert.rejects(codec.decode([relabelled]), /does not authenticate/);
  });
});

describe('ActivityInputCodec', () => {
  const writer = new EncryptionCodec(KeyRing.parse(`${KEY_A},${KEY_B}`, 'b'));
  const reader = new ActivityInputCodec(new EncryptionCodec(KeyRing.parse(KEY_A)));

  it('decodes what its ring can read, and an unreadable payload to a marker naming the key', async () => {
    const [underB] = await writer.encode([toPayload({ secret: 'b' })]);
    const [underA] = await new EncryptionCodec(KeyRing.parse(KEY_A)).encode([toPayload({ secret: 'a' })]);
    const [readable, unreadable] = await reader.decode([underA!, underB!]);
    assert.deepEqual(fromPayload(readable!), { secret: 'a' });
    const marker = fromPayload(unreadable!);
    assert.ok(isUnreadablePayload(marker), JSON.stringify(marker));
    assert.match(marker.$payloadUnreadable, /key "b" is not in PAYLOAD_KEYS \(this process has a\)/);
    assert.ok(!isUnreadablePayload({ secret: 'a' }));
  });

  it('encodes with the codec it wraps', async () => {
    const [encoded] = await reader.encode([toPayload('x')]);
    assert.equal(meta(encoded!, METADATA_KEY_ID), 'a');
  });
});

describe('KeyRing.parse', () => {
  it('takes kid:base64 pairs; the active key defaults to the last one', () => {
    assert.equal(KeyRing.parse(`${KEY_A}, ${KEY_B}`).activeKeyId, 'b');
    assert.equal(KeyRing.parse(`${KEY_A},${KEY_B}`, 'a').activeKeyId, 'a');
  });

  it('names what is wrong, never the key material', () => {
    const cases: Array<[string, string | undefined, RegExp]> = [
      ['', undefined, /PAYLOAD_KEYS holds no key/],
      ['nokey', undefined, /must be <key id>:<base64 key>/],
      ['a:c2hvcnQ=', undefined, /key "a" must be 32 bytes \(base64\), not 5/],
      [`${KEY_A},${KEY_A}`, undefined, /names key "a" twice/],
      [KEY_A, 'z', /PAYLOAD_ACTIVE_KEY "z" is not in PAYLOAD_KEYS/],
    ];
    for (const [keys, active, expected] of cases)
      assert.throws(
        () => KeyRing.parse(keys, active),
        (error: unknown) =>
          error instanceof KeyRingError &&
          expected.test(error.message) &&
          !error.message.includes(KEY_A.slice(2)),
      );
  });
});
