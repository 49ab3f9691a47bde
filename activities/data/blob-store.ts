/**
 * The blob store's two implementations: Postgres (default, table `payload_blob`) and a filesystem shared by the
 * workers (`BLOB_STORE=file:///path`). Bytes are content-addressed by the SHA-256 of the plain data and encrypted at
 * rest with AES-256-GCM under the payload key ring (the key ID is kept beside them).
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
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

/**
 * Blobs as files under a directory shared by every worker: `<hash>.blob` and `<hash>.json` (metadata); which runs
 * hold them under `owners/` (see {@link FileBlobRetention}).
 */
export class FileBlobStore implements BlobStore {
  private readonly cipher: BlobCipher;
  private readonly owners: FileBlobRetention;

  constructor(
    private readonly root: string,
    ring: KeyRing,
  ) {
    this.cipher = new BlobCipher(ring);
    this.owners = new FileBlobRetention(root);
  }

  async put(bytes: Buffer, contentType: string, owner: BlobOwner): Promise<string> {
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
    await this.owners.claim(hash, owner);
    return hash;
  }

  claim(hash: string, owner: BlobOwner): Promise<void> {
    return this.owners.claim(hash, owner);
  }

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

/** What retention needs of a store: which runs hold blobs, and deleting what nobody holds. */
export interface BlobRetention {
  /** Every run holding blobs, with when it was first recorded as holding one. */
  owners(): Promise<Array<BlobOwner & { recordedAt: Date }>>;
  /** Forgets every blob `owner` holds (the blobs stay until {@link deleteUnowned}). */
  release(owner: BlobOwner): Promise<void>;
  /** Deletes the blobs no run holds that were stored before `before`; answers how many. */
  deleteUnowned(before: Date): Promise<number>;
}

/** Retention of the Postgres store: owners in `payload_blob_run`. */
export class PostgresBlobRetention implements BlobRetention {
  constructor(private readonly prisma: PrismaClient) {}

  async owners(): Promise<Array<BlobOwner & { recordedAt: Date }>> {
    const rows = await this.prisma.payloadBlobRun.groupBy({
      by: ['workflowId', 'runId'],
      _min: { createdAt: true },
    });
    return rows.map((row) => ({
      workflowId: row.workflowId,
      runId: row.runId,
      recordedAt: row._min.createdAt!,
    }));
  }

  async release(owner: BlobOwner): Promise<void> {
    await this.prisma.payloadBlobRun.deleteMany({
      where: { workflowId: owner.workflowId, runId: owner.runId },
    });
  }

  async deleteUnowned(before: Date): Promise<number> {
    const deleted = await this.prisma.payloadBlob.deleteMany({
      where: { owners: { none: {} }, createdAt: { lt: before } },
    });
    return deleted.count;
  }
}

const RECORDED = '.recorded';

/**
 * Retention of the file store. A run that holds blobs is a folder `owners/<base64url of workflowId NUL runId>/`
 * with one empty file per blob hash it holds and `.recorded` (when the folder was made).
 */
export class FileBlobRetention implements BlobRetention {
  private readonly ownersDir: string;

  constructor(private readonly root: string) {
    this.ownersDir = path.join(root, 'owners');
  }

  private ownerDir(owner: BlobOwner): string {
    return path.join(
      this.ownersDir,
      Buffer.from(`${owner.workflowId}\0${owner.runId}`).toString('base64url'),
    );
  }

  async claim(hash: string, owner: BlobOwner): Promise<void> {
    const dir = this.ownerDir(owner);
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, RECORDED), new Date().toISOString(), { flag: 'wx' }).catch(
      (error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
      },
    );
    await writeFile(path.join(dir, hash), '');
  }

  async owners(): Promise<Array<BlobOwner & { recordedAt: Date }>> {
    const found = [];
    for (const name of await readdirOrNone(this.ownersDir)) {
      const [workflowId, runId] = Buffer.from(name, 'base64url').toString().split('\0');
      if (workflowId === undefined || runId === undefined) continue;
      const recorded = await readFile(path.join(this.ownersDir, name, RECORDED), 'utf8').catch(
        () => undefined,
      );
      const recordedAt = recorded ? new Date(recorded) : (await stat(path.join(this.ownersDir, name))).mtime;
      found.push({ workflowId, runId, recordedAt });
    }
    return found;
  }

  async release(owner: BlobOwner): Promise<void> {
    await rm(this.ownerDir(owner), { recursive: true, force: true });
  }

  async deleteUnowned(before: Date): Promise<number> {
    const held = new Set<string>();
    for (const name of await readdirOrNone(this.ownersDir))
      for (const hash of await readdirOrNone(path.join(this.ownersDir, name))) held.add(hash);
    let deleted = 0;
    for (const file of await readdirOrNone(this.root)) {
      const hash = /^([0-9a-f]{64})\.blob$/.exec(file)?.[1];
      if (!hash || held.has(hash)) continue;
      const stored = await stat(path.join(this.root, file)).catch(() => undefined);
      if (!stored || stored.mtime >= before) continue;
      await rm(path.join(this.root, file), { force: true });
      await rm(path.join(this.root, `${hash}.json`), { force: true });
      deleted++;
    }
    return deleted;
  }
}

async function readdirOrNone(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

const fileRoot = (setting: string) => {
  if (setting === 'postgres') return undefined;
  if (setting.startsWith('file://')) return fileURLToPath(setting);
  throw new Error(`BLOB_STORE must be postgres or file:///path, not ${setting}`);
};

/** The store BLOB_STORE names: `postgres` (default) or `file:///path`. */
export function createBlobStore(setting: string, prisma: PrismaClient, ring: KeyRing): BlobStore {
  const root = fileRoot(setting);
  return root === undefined ? new PostgresBlobStore(prisma, ring) : new FileBlobStore(root, ring);
}

/** Retention of the store BLOB_STORE names. */
export function createBlobRetention(setting: string, prisma: PrismaClient): BlobRetention {
  const root = fileRoot(setting);
  return root === undefined ? new PostgresBlobRetention(prisma) : new FileBlobRetention(root);
}
