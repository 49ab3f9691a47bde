import { readFile, writeFile } from 'node:fs/promises';
import type { DataConverter, PayloadCodec } from '@temporalio/common';
import { ConfigError, type Config } from './config';
import { EncryptionCodec, KeyRing, KeyRingError } from './payload-codec';

/**
 * The payload codec of a process, from PAYLOAD_KEYS / PAYLOAD_ACTIVE_KEY.
 * @throws ConfigError when the ring is missing or unusable (every process must encrypt; none may run without).
 */
export function payloadCodecFromConfig(
  config: Pick<Config, 'PAYLOAD_KEYS' | 'PAYLOAD_ACTIVE_KEY'>,
): EncryptionCodec {
  if (!config.PAYLOAD_KEYS)
    throw new ConfigError(
      'PAYLOAD_KEYS must be set: every Temporal payload is encrypted (e.g. PAYLOAD_KEYS=k1:$(openssl rand -base64 32); ' +
        '`npm run dev` generates one)',
    );
  try {
    return new EncryptionCodec(KeyRing.parse(config.PAYLOAD_KEYS, config.PAYLOAD_ACTIVE_KEY));
  } catch (error) {
    if (error instanceof KeyRingError) throw new ConfigError(error.message);
    throw error;
  }
}

/** The data converter every client and worker of the project uses: the default converter, then the codec. */
export function dataConverter(codec: PayloadCodec): DataConverter {
  return { payloadCodecs: [codec] };
}

/**
 * `npm run dev`'s key ring: PAYLOAD_KEYS when set, else the ring kept in `file`, else a new one written there
 * (mode 0600). Answers the ring's text and whether it was just created.
 */
export async function devPayloadKeys(
  config: Pick<Config, 'PAYLOAD_KEYS'>,
  file: string,
): Promise<{ keys: string; created: boolean; source: string }> {
  if (config.PAYLOAD_KEYS) return { keys: config.PAYLOAD_KEYS, created: false, source: 'PAYLOAD_KEYS' };
  const stored = await readFile(file, 'utf8').then(
    (text) => text.trim(),
    () => undefined,
  );
  if (stored) return { keys: stored, created: false, source: file };
  const keys = KeyRing.generateText();
  await writeFile(file, `${keys}\n`, { mode: 0o600 });
  return { keys, created: true, source: file };
}
