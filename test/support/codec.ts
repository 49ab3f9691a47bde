import { PostgresBlobStore } from '../../activities/data/blob-store';
import { DEFAULT_INLINE_DATA_MAX_BYTES, type DataPlane } from '../../activities/sdk';
import { loadTestConfig } from '../../infra/config';
import { EncryptionCodec, KeyRing } from '../../infra/payload-codec';
import type { PrismaClient } from '../../prisma/client';

let codec: EncryptionCodec | undefined;

/** The payload codec of this test run: `npm test` makes one key ring, which every test client and worker uses. */
export function testCodec(): EncryptionCodec {
  codec ??= new EncryptionCodec(KeyRing.parse(loadTestConfig().PAYLOAD_KEYS));
  return codec;
}

/** A data plane over the test database's blob table, under `codec`'s keys (default: the run's). */
export function testDataPlane(prisma: PrismaClient, with_: EncryptionCodec = testCodec()): DataPlane {
  return {
    store: new PostgresBlobStore(prisma, with_.keyRing),
    inlineMaxBytes: DEFAULT_INLINE_DATA_MAX_BYTES,
  };
}
