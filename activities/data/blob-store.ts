/**
 * The blob store's two implementations: Postgres (default, table `payload_blob`) and a filesystem shared by the
 * workers (`BLOB_STORE=file:///path`). Bytes are content-addressed by the SHA-256 of the plain data and encrypted at
 * rest with AES-256-GCM under the payload key ring (the key ID is kept beside them).
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KeyRing } from '../../infra/payload-codec';
import type { PrismaClient } from '../../prisma/client';
import {
  BlobUnavailableError,
  DEFAULT_INLINE_DATA_MAX_BYTES,
  type BlobOwner,
  type BlobStore,
  type DataPlane,
} from '../sdk/data-refs';

const NONCE = 12;
const TAG = 16;
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** AES-256-GCM over a blob, its hash as associated data (a blob cannot be swapped for another). */
class BlobCipher {
  constructor(private readonly ring: KeyRing) {}

  seal(hash: string, plain: Buffer): { keyId: string; data: Buffer } {
    const keyId = this.ring.activeKeyId;
    const nonce = randomBytes(NONCE);
    const cipher = createCipheriv('aes-256-gcm', this.ring.key(keyId)!, nonce);
    cipher.setAAD(Buffer.from(hash));
    return { keyId, data: Buffer.concat([nonce, cipher.update(plain), cipher.final(), cipher.getAuthTag()]) };
  }

  open(hash: string, keyId: string, data: Buffer): Buffer {
    const key = this.ring.key(keyId);
    if (!key) throw new BlobUnavailableError(`its key "${keyId}" is not in PAYLOAD_KEYS`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, NONCE));
      decipher.setAAD(Buffer.from(hash));
      decipher.setAuthTag(data.subarray(data.length - TAG));
      const plain = Buffer.concat([
        decipher.update(data.subarray(NONCE, data.length - TAG)),
        decipher.final(),
      ]);
      if (sha256(plain) !== hash) throw new Error('hash mismatch');
      return plain;
    } catch {
      throw new BlobUnavailableError('its bytes are corrupt (they do not match their hash)');
    }
  }
}

/** Blobs in Postgres (`payload_blob`, owners in `payload_blob_run`). */
export class PostgresBlobStore implements BlobStore {
  private readonly cipher: BlobCipher;

  constructor(
    private readonly prisma: PrismaClient,
    ring: KeyRing,
  ) {
    this.cipher = new BlobCipher(ring);
  }

  async put(bytes: Buffer, contentType: string, owner: BlobOwner): Promise<string> {
    const hash = sha256(bytes);
    const exists = await this.prisma.payloadBlob.findUnique({ where: { hash }, select: { hash: true } });
    if (!exists) {
      const sealed = this.cipher.seal(hash, bytes);
      await this.prisma.payloadBlob.createMany({
        data: [
          { hash, size: bytes.length, contentType, keyId: sealed.keyId, data: new Uint8Array(sealed.data) },
        ],
        skipDuplicates: true,
      });
    }
    await this.prisma.payloadBlobRun.createMany({ data: [{ hash, ...owner }], skipDuplicates: true });
    return hash;
  }

  async claim(hash: string, owner: BlobOwner): Promise<void> {
    await this.prisma.payloadBlobRun.createMany({ data: [{ hash, ...owner }], skipDuplicates: true });
  }

  async get(hash: string): Promise<{ bytes: Buffer; contentType: string }> {
    const row = await this.prisma.payloadBlob.findUnique({ where: { hash } });
    if (!row) throw new BlobUnavailableError('no such blob (expired, or never stored)');
    return { bytes: this.cipher.open(hash, row.keyId, Buffer.from(row.data)), contentType: row.contentType };
  }
}

/** Blobs as files under a directory shared by every worker: `<hash>.blob` and `<hash>.json` (metadata). */
export class FileBlobStore implements BlobStore {
  private readonly cipher: BlobCipher;

  constructor(
    private readonly root: string,
    ring: KeyRing,
  ) {
    this.cipher = new BlobCipher(ring);
  }

  async put(bytes: Buffer, contentType: string, _owner: BlobOwner): Promise<string> {
    const hash = sha256(bytes);
    await mkdir(this.root, { recursive: true });
    const sealed = this.cipher.seal(hash, bytes);
    // Written under a temporary name and renamed, so a reader never sees half a blob.
    const temporary = path.join(this.root, `.${hash}.${randomBytes(4).toString('hex')}`);
    await writeFile(temporary, sealed.data);
    await rename(temporary, path.join(this.root, `${hash}.blob`));
    await writeFile(
      path.join(this.root, `${hash}.json`),
      JSON.stringify({ size: bytes.length, contentType, keyId: sealed.keyId }),
    );
    return hash;
  }

  /** Files carry no owner list; retention of a file store goes by age. */
  async claim(): Promise<void> {}

  async get(hash: string): Promise<{ bytes: Buffer; contentType: string }> {
    if (!/^[0-9a-f]{64}$/.test(hash)) throw new BlobUnavailableError('not a blob hash');
    let meta: { contentType: string; keyId: string };
    let data: Buffer;
    try {
      meta = JSON.parse(await readFile(path.join(this.root, `${hash}.json`), 'utf8')) as typeof meta;
      data = await readFile(path.join(this.root, `${hash}.blob`));
    } catch {
      throw new BlobUnavailableError('no such blob (expired, or never stored)');
    }
    return { bytes: this.cipher.open(hash, meta.keyId, data), contentType: meta.contentType };
  }
}

/** Large data in Postgres under `ring`, inline up to `inlineMaxBytes` (the default data plane). */
export function postgresDataPlane(
  prisma: PrismaClient,
  ring: KeyRing,
  inlineMaxBytes = DEFAULT_INLINE_DATA_MAX_BYTES,
): DataPlane {
  return { store: new PostgresBlobStore(prisma, ring), inlineMaxBytes };
}

/** The store BLOB_STORE names: `postgres` (default) or `file:///path`. */
export function createBlobStore(setting: string, prisma: PrismaClient, ring: KeyRing): BlobStore {
  if (setting === 'postgres') return new PostgresBlobStore(prisma, ring);
  if (setting.startsWith('file://')) return new FileBlobStore(fileURLToPath(setting), ring);
  throw new Error(`BLOB_STORE must be postgres or file:///path, not ${setting}`);
}
