import { postgresDataPlane } from '../../activities/data/blob-store';
import type { DataPlane } from '../../activities/sdk';
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
  return postgresDataPlane(prisma, with_.keyRing);
}
