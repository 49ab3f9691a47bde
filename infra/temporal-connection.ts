import { readFileSync } from 'node:fs';
import type { Config } from './config';

/** Options shared by `Connection.connect` (client) and `NativeConnection.connect` (workers). */
export interface TemporalConnectionOptions {
  address: string;
  apiKey?: string;
  tls?:
    | boolean
    | {
        serverNameOverride?: string;
        serverRootCACertificate?: Buffer;
        clientCertPair?: { crt: Buffer; key: Buffer };
      };
}

type TemporalSettings = Pick<
  Config,
  | 'TEMPORAL_API_KEY'
  | 'TEMPORAL_TLS'
  | 'TEMPORAL_TLS_CLIENT_CERT_PATH'
  | 'TEMPORAL_TLS_CLIENT_KEY_PATH'
  | 'TEMPORAL_TLS_SERVER_CA_CERT_PATH'
  | 'TEMPORAL_TLS_SERVER_NAME'
>;

/**
 * How to reach Temporal, from the same variables Temporal's own environment configuration uses: a plain address for
 * a local server; TLS with an API key for Temporal Cloud; mTLS with a client certificate and key; a custom CA and
 * server name for a self-hosted cluster behind TLS.
 *
 * @throws Error when only one of the client certificate / key is set, or a PEM file cannot be read.
 */
export function temporalConnectionOptions(
  address: string,
  settings: TemporalSettings,
): TemporalConnectionOptions {
  const certPath = settings.TEMPORAL_TLS_CLIENT_CERT_PATH;
  const keyPath = settings.TEMPORAL_TLS_CLIENT_KEY_PATH;
  if (!!certPath !== !!keyPath)
    throw new Error('TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH must be set together');
  const explicit =
    settings.TEMPORAL_TLS === undefined ? undefined : ['true', '1'].includes(settings.TEMPORAL_TLS);
  const wantsTls =
    explicit ?? (!!settings.TEMPORAL_API_KEY || !!certPath || !!settings.TEMPORAL_TLS_SERVER_CA_CERT_PATH);
  const options: TemporalConnectionOptions = { address };
  if (settings.TEMPORAL_API_KEY) options.apiKey = settings.TEMPORAL_API_KEY;
  if (!wantsTls) return options;
  const tls: Exclude<TemporalConnectionOptions['tls'], boolean | undefined> = {};
  if (settings.TEMPORAL_TLS_SERVER_NAME) tls.serverNameOverride = settings.TEMPORAL_TLS_SERVER_NAME;
  if (settings.TEMPORAL_TLS_SERVER_CA_CERT_PATH)
    tls.serverRootCACertificate = readFileSync(settings.TEMPORAL_TLS_SERVER_CA_CERT_PATH);
  if (certPath && keyPath) tls.clientCertPair = { crt: readFileSync(certPath), key: readFileSync(keyPath) };
  options.tls = Object.keys(tls).length > 0 ? tls : true;
  return options;
}
