import { createHash } from 'node:crypto';
import { EncryptionCodec, KeyRing } from '../../infra/payload-codec';

/**
 * The codec recorded histories are written and replayed with. Its key is derived from a public string on purpose:
 * fixtures are test data that must replay on every machine, not secrets. (Histories recorded before the codec hold
 * plain payloads, which it passes through.)
 */
export const fixtureCodec = new EncryptionCodec(
  KeyRing.parse(
    `fixture:${createHash('sha256').update('flow-orchestrator replay fixtures').digest('base64')}`,
  ),
);
