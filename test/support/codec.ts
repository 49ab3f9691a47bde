import type { PayloadCodec } from '@temporalio/common';
import { loadTestConfig } from '../../infra/config';
import { EncryptionCodec, KeyRing } from '../../infra/payload-codec';

let codec: PayloadCodec | undefined;

/** The payload codec of this test run: `npm test` makes one key ring, which every test client and worker uses. */
export function testCodec(): PayloadCodec {
  codec ??= new EncryptionCodec(KeyRing.parse(loadTestConfig().PAYLOAD_KEYS));
  return codec;
}
