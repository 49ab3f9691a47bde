import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KeyRing } from '../../infra/payload-codec';
import { createPrismaClient, type PrismaClient } from '../../prisma/client';
import { createTestDatabase, type TestDatabase } from '../../test/support/api';
import {
  BlobUnavailableError,
  DATA_UNAVAILABLE,
  loadRef,
  offload,
  resolveRefs,
  type BlobStore,
} from '../sdk/data-refs';
import { NonRetryableError, RetryableError } from '../sdk/errors';
import {
  FileBlobRetention,
  FileBlobStore,
  PostgresBlobRetention,
  PostgresBlobStore,
  type BlobRetention,
} from './blob-store';

const ring = KeyRing.parse(KeyRing.generateText('k1'));
const owner = { workflowId: 'wf-1', runId: 'run-1' };
const secret = `secret-${Math.random().toString(36).slice(2)}`;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

function contract(
  name: string,
  make: () => Promise<{
    store: BlobStore;
    retention: BlobRetention;
    storedBytes: () => Promise<Buffer>;
    corrupt: (hash: string) => Promise<void>;
  }>,
) {
  describe(name, () => {
    it('knows which runs hold which blobs, and deletes only blobs no run holds any more', async () => {
      const { store, retention } = await make();
      const mine = { workflowId: `wf/${randomUUID()}`, runId: randomUUID() };
      const theirs = { workflowId: `wf-${randomUUID()}`, runId: randomUUID() };
      const onlyMine = await store.put(Buffer.from(`"${randomUUID()}"`), 'application/json', mine);
      const shared = await store.put(Buffer.from(`"${randomUUID()}"`), 'application/json', mine);
      await store.claim(shared, theirs);
      const owners = (await retention.owners()).filter(
        (o) => o.runId === mine.runId || o.runId === theirs.runId,
      );
      assert.deepEqual(
        owners
          .map(({ workflowId, runId }) => ({ workflowId, runId }))
          .sort((a, b) => a.runId.localeCompare(b.runId)),
        [mine, theirs].sort((a, b) => a.runId.localeCompare(b.runId)),
      );
      for (const owner of owners) assert.ok(Date.now() - owner.recordedAt.getTime() < 60_000, 'recorded now');

      await retention.release(owners.find((o) => o.runId === mine.runId)!);
      assert.equal(await retention.deleteUnowned(new Date(Date.now() - 60_000)), 0, 'too recent to delete');
      assert.equal(await retention.deleteUnowned(new Date(Date.now() + 60_000)), 1);
      await assert.rejects(store.get(onlyMine), BlobUnavailableError);
      assert.ok((await store.get(shared)).bytes.length > 0, 'still held by the other run');
      assert.ok(!(await retention.owners()).some((o) => o.runId === mine.runId));
    });

    it('stores content-addressed, encrypted at rest, and reads back what it stored', async () => {
      const { store, storedBytes } = await make();
      const text = JSON.stringify({ secret, bulk: 'x'.repeat(100_000) });
      const hash = await store.put(Buffer.from(text), 'application/json', owner);
      assert.equal(hash, sha256(text));
      assert.equal(await store.put(Buffer.from(text), 'application/json', owner), hash, 'idempotent');
      const back = await store.get(hash);
      assert.equal(back.bytes.toString(), text);
      assert.equal(back.contentType, 'application/json');
      assert.ok(!(await storedBytes()).includes(secret), 'no plain text at rest');
    });

    it('refuses a missing or corrupt blob', async () => {
      const { store, corrupt } = await make();
      await assert.rejects(store.get('0'.repeat(64)), BlobUnavailableError);
      const hash = await store.put(Buffer.from('"data"'), 'application/json', owner);
      await corrupt(hash);
      await assert.rejects(store.get(hash), /corrupt/);
    });
  });
}

describe('blob stores', () => {
  let database: TestDatabase;
  let prisma: PrismaClient;
  let dir: string;
  before(async () => {
    database = await createTestDatabase();
    prisma = createPrismaClient(database.url);
    dir = await mkdtemp(path.join(tmpdir(), 'flow-blobs-'));
  });
  after(async () => {
    await prisma?.$disconnect();
    await database?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  contract('Postgres', () =>
    Promise.resolve({
      store: new PostgresBlobStore(prisma, ring),
      retention: new PostgresBlobRetention(prisma),
      storedBytes: async () =>
        Buffer.concat((await prisma.payloadBlob.findMany()).map((row) => Buffer.from(row.data))),
      corrupt: async (hash) => {
        await prisma.$executeRaw`UPDATE payload_blob SET data = set_byte(data, 20, get_byte(data, 20) # 1) WHERE hash = ${hash}`;
      },
    }),
  );

  contract('filesystem', () =>
    Promise.resolve({
      store: new FileBlobStore(dir, ring),
      retention: new FileBlobRetention(dir),
      storedBytes: async () =>
        Buffer.concat(
          await Promise.all(
            (await readdir(dir)).filter((f) => f !== 'owners').map((f) => readFile(path.join(dir, f))),
          ),
        ),
      corrupt: async (hash) => {
        const file = path.join(dir, `${hash}.blob`);
        const bytes = await readFile(file);
        bytes[20] = bytes[20]! ^ 1;
        await writeFile(file, bytes);
      },
    }),
  );

  it('records which run holds a Postgres blob', async () => {
    const store = new PostgresBlobStore(prisma, ring);
    const hash = await store.put(Buffer.from('"owned"'), 'application/json', owner);
    await store.claim(hash, { workflowId: 'wf-2', runId: 'run-2' });
    const owners = await prisma.payloadBlobRun.findMany({ where: { hash }, orderBy: { runId: 'asc' } });
    assert.deepEqual(
      owners.map((o) => [o.workflowId, o.runId]),
      [
        ['wf-1', 'run-1'],
        ['wf-2', 'run-2'],
      ],
    );
  });
});

describe('claim check (offload, resolve)', () => {
  /** An in-memory store: the claim-check logic on its own, without a database. */
  class MemoryStore implements BlobStore {
    readonly blobs = new Map<string, Buffer>();
    failing = false;
    put(bytes: Buffer) {
      if (this.failing) return Promise.reject(new Error('disk full'));
      const hash = createHash('sha256').update(bytes).digest('hex');
      this.blobs.set(hash, bytes);
      return Promise.resolve(hash);
    }
    claim() {
      return Promise.resolve();
    }
    get(hash: string) {
      const bytes = this.blobs.get(hash);
      if (!bytes) return Promise.reject(new BlobUnavailableError('no such blob'));
      return Promise.resolve({ bytes, contentType: 'application/json' });
    }
  }

  it('keeps small values inline and stores large ones as a reference; resolves them at any depth', async () => {
    const store = new MemoryStore();
    const plane = { store, inlineMaxBytes: 1024 };
    assert.deepEqual(await offload({ n: 1 }, plane, owner), { n: 1 });
    const large = { rows: 'r'.repeat(5_000) };
    const ref = await offload(large, plane, owner);
    assert.deepEqual(ref, {
      $ref: `blob:sha256:${sha256(JSON.stringify(large))}`,
      size: JSON.stringify(large).length,
    });
    assert.deepEqual(await resolveRefs({ join: { A: ref, B: 2 }, list: [ref] }, store), {
      join: { A: large, B: 2 },
      list: [large],
    });
  });

  it('fails a store failure retryably, and a missing blob non-retryably naming the reference', async () => {
    const store = new MemoryStore();
    store.failing = true;
    await assert.rejects(
      offload({ rows: 'r'.repeat(5_000) }, { store, inlineMaxBytes: 1024 }, owner),
      (error: unknown) => {
        assert.ok(error instanceof RetryableError);
        assert.equal(error.type, 'BlobStoreUnavailable');
        return true;
      },
    );
    const ref = { $ref: `blob:sha256:${'f'.repeat(64)}` as const, size: 10 };
    await assert.rejects(loadRef(ref, store), (error: unknown) => {
      assert.ok(error instanceof NonRetryableError);
      assert.equal(error.type, DATA_UNAVAILABLE);
      assert.equal(error.message, `blob:sha256:${'f'.repeat(64)} cannot be read: no such blob`);
      return true;
    });
  });
});
