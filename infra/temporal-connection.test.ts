import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from './config';
import { temporalConnectionOptions } from './temporal-connection';

const settings = (env: Record<string, string>) => loadConfig({ ...env });

describe('temporalConnectionOptions', () => {
  it('is a plain address for a local server', () => {
    assert.deepEqual(temporalConnectionOptions('localhost:7233', settings({})), {
      address: 'localhost:7233',
    });
  });

  it('uses TLS with an API key (Temporal Cloud)', () => {
    assert.deepEqual(
      temporalConnectionOptions('ns.acct.tmprl.cloud:7233', settings({ TEMPORAL_API_KEY: 'secret' })),
      { address: 'ns.acct.tmprl.cloud:7233', apiKey: 'secret', tls: true },
    );
  });

  it('reads an mTLS client certificate pair, a CA and a server name', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tls-'));
    const file = (name: string, text: string) => (
      writeFileSync(path.join(dir, name), text),
      path.join(dir, name)
    );
    const options = temporalConnectionOptions(
      'temporal.internal:7233',
      settings({
        TEMPORAL_TLS_CLIENT_CERT_PATH: file('client.pem', 'CERT'),
        TEMPORAL_TLS_CLIENT_KEY_PATH: file('client.key', 'KEY'),
        TEMPORAL_TLS_SERVER_CA_CERT_PATH: file('ca.pem', 'CA'),
        TEMPORAL_TLS_SERVER_NAME: 'temporal',
      }),
    );
    assert.deepEqual(options, {
      address: 'temporal.internal:7233',
      tls: {
        serverNameOverride: 'temporal',
        serverRootCACertificate: Buffer.from('CA'),
        clientCertPair: { crt: Buffer.from('CERT'), key: Buffer.from('KEY') },
      },
    });
  });

  it('lets TEMPORAL_TLS switch TLS on alone, or off despite an API key', () => {
    assert.deepEqual(temporalConnectionOptions('a:1', settings({ TEMPORAL_TLS: 'true' })), {
      address: 'a:1',
      tls: true,
    });
    assert.deepEqual(
      temporalConnectionOptions('a:1', settings({ TEMPORAL_TLS: 'false', TEMPORAL_API_KEY: 'k' })),
      {
        address: 'a:1',
        apiKey: 'k',
      },
    );
  });

  it('refuses a client certificate without its key', () => {
    assert.throws(
      () => temporalConnectionOptions('a:1', settings({ TEMPORAL_TLS_CLIENT_CERT_PATH: '/x.pem' })),
      /TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH must be set together/,
    );
  });
});
