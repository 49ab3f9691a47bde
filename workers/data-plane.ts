import { createBlobStore } from '../activities/data/blob-store';
import type { DataPlane } from '../activities/sdk';
import type { Config } from '../infra/config';
import type { EncryptionCodec } from '../infra/payload-codec';
import type { PrismaClient } from '../prisma/client';

/** A process's data plane from BLOB_STORE and INLINE_DATA_MAX_BYTES; blobs use the payload key ring. */
export function dataPlaneFromConfig(
  config: Pick<Config, 'BLOB_STORE' | 'INLINE_DATA_MAX_BYTES'>,
  prisma: PrismaClient,
  codec: EncryptionCodec,
): DataPlane {
  return {
    store: createBlobStore(config.BLOB_STORE, prisma, codec.keyRing),
    inlineMaxBytes: config.INLINE_DATA_MAX_BYTES,
  };
}
