/**
 * The payload codec every Temporal client and worker of the project uses: each payload (inputs, results, activity
 * arguments, query answers, failure details, schedule actions) is compressed when large, then encrypted with
 * AES-256-GCM under the key ring's active key, with a random 96-bit nonce per payload and the key ID in the payload's
 * metadata. Decoding picks the key by that ID, so payloads written under an older key stay readable after a rotation.
 * Payloads without our metadata (written before the codec existed, or by tools) pass through unchanged.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { deflateRaw, deflateRawSync, inflateRaw, inflateRawSync } from 'node:zlib';
import {
  ApplicationFailure,
  defaultPayloadConverter,
  METADATA_ENCODING_KEY,
  type Payload,
  type PayloadCodec,
} from '@temporalio/common';
import { temporal } from '@temporalio/proto';

const deflate = promisify(deflateRaw);
const inflate = promisify(inflateRaw);

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const METADATA_KEY_ID = 'encryption-key-id';
export const METADATA_CIPHER = 'encryption-cipher';
export const METADATA_COMPRESSION = 'encryption-compression';
const CIPHER = 'AES-256-GCM';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
/** Payloads at least this large (serialised) are compressed before encryption. */
export const COMPRESS_ABOVE_BYTES = 1024;
/** deflate's look-ahead (zlib's MIN_LOOKAHEAD): a window of the payload's size plus this sees all of it. */
const MIN_LOOKAHEAD = 262;
/**
 * Up to these sizes (plain for deflate, compressed for inflate) zlib runs synchronously. Node's asynchronous zlib
 * (a stream on the thread pool) costs the event loop more than the work itself for the payloads flows carry: on
 * these machines 110–300 µs of CPU for a 2–7 KB snapshot against 30–40 µs synchronously, and still more at 100 KB
 * (364 against 256 µs). Above them it goes to the thread pool, so a large payload never blocks the loop for long.
 */
const SYNC_DEFLATE_BYTES = 256 * 1024;
const SYNC_INFLATE_BYTES = 16 * 1024;

/** The failure type of a payload whose key is not in the ring, or whose ciphertext does not authenticate. */
export const PAYLOAD_UNREADABLE = 'PayloadUnreadable';

const text = (value: string) => new TextEncoder().encode(value);
const fromBytes = (value: Uint8Array | null | undefined) =>
  value ? Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8') : undefined;

/** Raised for an unusable key ring (PAYLOAD_KEYS / PAYLOAD_ACTIVE_KEY); names the bad entry. */
export class KeyRingError extends Error {
  override name = 'KeyRingError';
}

/** The keys payloads are encrypted with: the active one for new payloads, every one for reading. */
export class KeyRing {
  private constructor(
    readonly activeKeyId: string,
    private readonly keys: ReadonlyMap<string, Buffer>,
  ) {}

  /**
   * Parses `PAYLOAD_KEYS` (`kid:base64,…`, each key 32 bytes) and `PAYLOAD_ACTIVE_KEY` (default: the last key listed).
   * @throws KeyRingError naming the bad entry.
   */
  static parse(keysText: string, activeKeyId?: string): KeyRing {
    const keys = new Map<string, Buffer>();
    for (const entry of keysText
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean)) {
      const separator = entry.indexOf(':');
      const kid = entry.slice(0, separator);
      if (separator <= 0 || !/^[A-Za-z0-9._-]{1,64}$/.test(kid))
        throw new KeyRingError(
          `PAYLOAD_KEYS entry "${kid || entry.slice(0, 8)}…" must be <key id>:<base64 key>`,
        );
      const key = Buffer.from(entry.slice(separator + 1), 'base64');
      if (key.length !== KEY_BYTES)
        throw new KeyRingError(
          `PAYLOAD_KEYS key "${kid}" must be ${KEY_BYTES} bytes (base64), not ${key.length}`,
        );
      if (keys.has(kid)) throw new KeyRingError(`PAYLOAD_KEYS names key "${kid}" twice`);
      keys.set(kid, key);
    }
    if (keys.size === 0) throw new KeyRingError('PAYLOAD_KEYS holds no key');
    const active = activeKeyId ?? [...keys.keys()].at(-1)!;
    if (!keys.has(active)) throw new KeyRingError(`PAYLOAD_ACTIVE_KEY "${active}" is not in PAYLOAD_KEYS`);
    return new KeyRing(active, keys);
  }

  /** A new ring with one random key (what `npm run dev` writes on first start). */
  static generateText(kid = `k${new Date().toISOString().slice(0, 10).replace(/-/g, '')}`): string {
    return `${kid}:${randomBytes(KEY_BYTES).toString('base64')}`;
  }

  key(kid: string): Buffer | undefined {
    return this.keys.get(kid);
  }

  get keyIds(): string[] {
    return [...this.keys.keys()];
  }
}

/**
 * zlib's memory for a payload of `bytes`: a window no larger than the payload (deflate finds nothing further back) and
 * a hash table to match. By default deflate sets up 256 KiB for every call, and for a payload of a few KiB that set-up,
 * not the compression, is most of its cost. Inflate reads any window size up to its own 32 KiB, so nothing changes
 * for readers.
 */
export function deflateWindow(bytes: number): { windowBits: number; memLevel: number } {
  const windowBits = Math.min(15, Math.max(9, Math.ceil(Math.log2(bytes + MIN_LOOKAHEAD))));
  return { windowBits, memLevel: Math.min(8, windowBits - 6) };
}

/** Encrypts (and above a size, compresses) every payload; see the module comment. */
export class EncryptionCodec implements PayloadCodec {
  constructor(private readonly ring: KeyRing) {}

  /** The key new payloads are encrypted with. */
  get activeKeyId(): string {
    return this.ring.activeKeyId;
  }

  /** The ring, for data kept outside Temporal under the same keys (the blob store). */
  get keyRing(): KeyRing {
    return this.ring;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.all(payloads.map((payload) => this.encodeOne(payload)));
  }

  /** @throws ApplicationFailure (non-retryable, PayloadUnreadable) naming a missing key or a forged payload. */
  async decode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.all(payloads.map((payload) => this.decodeOne(payload)));
  }

  private async encodeOne(payload: Payload): Promise<Payload> {
    const plain = temporal.api.common.v1.Payload.encode(payload).finish();
    const compressed = plain.length >= COMPRESS_ABOVE_BYTES;
    const body = !compressed
      ? plain
      : plain.length <= SYNC_DEFLATE_BYTES
        ? deflateRawSync(plain, deflateWindow(plain.length))
        : await deflate(plain);
    const kid = this.ring.activeKeyId;
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.ring.key(kid)!, nonce);
    // The key ID and compression flag are authenticated too: they cannot be swapped without detection.
    cipher.setAAD(Buffer.from(`${kid}|${compressed ? 'deflate' : 'none'}`));
    const data = Buffer.concat([nonce, cipher.update(body), cipher.final(), cipher.getAuthTag()]);
    return {
      metadata: {
        [METADATA_ENCODING_KEY]: text(ENCRYPTED_ENCODING),
        [METADATA_CIPHER]: text(CIPHER),
        [METADATA_KEY_ID]: text(kid),
        [METADATA_COMPRESSION]: text(compressed ? 'deflate' : 'none'),
      },
      data,
    };
  }

  private async decodeOne(payload: Payload): Promise<Payload> {
    if (fromBytes(payload.metadata?.[METADATA_ENCODING_KEY]) !== ENCRYPTED_ENCODING) return payload;
    const kid = fromBytes(payload.metadata?.[METADATA_KEY_ID]) ?? '';
    const compression = fromBytes(payload.metadata?.[METADATA_COMPRESSION]) ?? 'none';
    const key = this.ring.key(kid);
    if (!key)
      throw ApplicationFailure.nonRetryable(
        `Cannot decrypt a payload: key "${kid}" is not in PAYLOAD_KEYS (this process has ${this.ring.keyIds.join(', ')})`,
        PAYLOAD_UNREADABLE,
      );
    const data = Buffer.from(payload.data ?? new Uint8Array());
    if (data.length < NONCE_BYTES + TAG_BYTES)
      throw ApplicationFailure.nonRetryable('Cannot decrypt a payload: it is truncated', PAYLOAD_UNREADABLE);
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, NONCE_BYTES));
    decipher.setAAD(Buffer.from(`${kid}|${compression}`));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    let body: Buffer;
    try {
      body = Buffer.concat([
        decipher.update(data.subarray(NONCE_BYTES, data.length - TAG_BYTES)),
        decipher.final(),
      ]);
    } catch {
      throw ApplicationFailure.nonRetryable(
        `Cannot decrypt a payload under key "${kid}": it does not authenticate (altered, or another key's)`,
        PAYLOAD_UNREADABLE,
      );
    }
    const plain =
      compression !== 'deflate'
        ? body
        : body.length <= SYNC_INFLATE_BYTES
          ? inflateRawSync(body)
          : await inflate(body);
    return temporal.api.common.v1.Payload.decode(plain);
  }
}

/** What {@link ActivityInputCodec} decodes an unreadable payload to; the activity fails on seeing it. */
export const UNREADABLE_MARKER = '$payloadUnreadable';

/** An activity argument that could not be decrypted; the value says why (naming the key). */
export interface UnreadablePayload {
  [UNREADABLE_MARKER]: string;
}

export function isUnreadablePayload(value: unknown): value is UnreadablePayload {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Record<string, unknown>)[UNREADABLE_MARKER] === 'string'
  );
}

/**
 * The codec of activity workers. The SDK turns a failure to decode an activity's arguments into a *retryable*
 * failure (it overrides the codec's non-retryable flag), so a processor worker without a key would retry the step
 * to its last attempt, failing the same way each time. This codec decodes an unreadable payload into an
 * {@link UnreadablePayload} marker instead, and the processor activity fails the step at once, non-retryably, with
 * PayloadUnreadable naming the key. (Workflow workers keep the plain codec: their workflow task fails and is retried
 * until the key is deployed, then the run goes on; nothing is lost.)
 */
export class ActivityInputCodec implements PayloadCodec {
  constructor(private readonly inner: PayloadCodec) {}

  encode(payloads: Payload[]): Promise<Payload[]> {
    return this.inner.encode(payloads);
  }

  decode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.all(
      payloads.map(async (payload) => {
        try {
          return (await this.inner.decode([payload]))[0]!;
        } catch (error) {
          if (!(error instanceof ApplicationFailure && error.type === PAYLOAD_UNREADABLE)) throw error;
          const marker: UnreadablePayload = { [UNREADABLE_MARKER]: error.message };
          return defaultPayloadConverter.toPayload(marker);
        }
      }),
    );
  }
}
