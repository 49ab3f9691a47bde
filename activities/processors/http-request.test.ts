import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { CancelledFailure } from '@temporalio/common';
import pino from 'pino';
import type { AssignedEntity } from '../../domain/flow-types';
import { findFreePort } from '../../infra/ports';
import {
  activityEnvironment,
  applicationFailure as failure,
} from '../../test/processors/activity-environment';
import { invocation } from '../../test/processors/invocation';
import {
  createProcessorActivity,
  EgressGuard,
  type EgressGuardOptions,
  type ProcessorActivity,
  parseEgressAllowList,
} from '../sdk';
import { httpRequestProcessor } from './http-request';

const logger = pino({ level: 'silent' });
const guards: EgressGuard[] = [];

/** The processor behind an egress guard made with `options` (closed after the tests). */
function httpBehind(options: EgressGuardOptions): ProcessorActivity {
  const egress = new EgressGuard(options);
  guards.push(egress);
  return createProcessorActivity(httpRequestProcessor, { logger, egress });
}

// The test server listens on loopback, which the egress guard refuses unless allowed.
const http = httpBehind({ allow: parseEgressAllowList('127.0.0.1') });
/** As workers run it by default: every internal destination refused. */
const guarded = createProcessorActivity(httpRequestProcessor, { logger });

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

function address(connectionString: string): AssignedEntity {
  return {
    id: 'a1',
    kind: 'Address',
    version: '1',
    name: 'api',
    connectionString,
    configuration: {},
    schemaId: null,
  };
}

describe('http-request processor', () => {
  let server: Server;
  let base: string;
  let port: number;
  const seen: Seen[] = [];
  const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => void> = {
    '/json': (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'x-trace': 't1' });
      res.end(JSON.stringify({ hello: 'world' }));
    },
    '/text': (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('plain');
    },
    '/echo': (req, res) => {
      res.writeHead(201, { 'content-type': 'application/problem+json' });
      res.end(JSON.stringify({ method: req.method, body: seen.at(-1)?.body }));
    },
    '/missing': (_req, res) => {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('no such thing');
    },
    '/busy': (_req, res) => {
      res.writeHead(503);
      res.end();
    },
    '/limited': (_req, res) => {
      res.writeHead(429, { 'retry-after': '3' });
      res.end();
    },
    '/broken-json': (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{ nope');
    },
    '/slow': () => {
      /* never answers */
    },
    '/moved': (_req, res) => {
      res.writeHead(301, { location: '/json' });
      res.end();
    },
    '/to-localhost': (_req, res) => {
      res.writeHead(302, { location: `http://localhost:${port}/json` });
      res.end();
    },
    '/to-other-loopback': (_req, res) => {
      res.writeHead(307, { location: `http://127.0.0.2:${port}/json` });
      res.end();
    },
    '/big': (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('x'.repeat(64 * 1024));
    },
  };

  before(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        seen.push({
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString(),
        });
        const route = routes[new URL(req.url ?? '/', 'http://x').pathname];
        if (route) route(req, res);
        else res.writeHead(500).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    base = `http://127.0.0.1:${port}`;
  });

  after(async () => {
    await Promise.all(guards.map((guard) => guard.close()));
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const call = (
    configuration: Record<string, unknown>,
    input: unknown = null,
    assignments: AssignedEntity[] = [],
    activity: ProcessorActivity = http,
  ) => activityEnvironment().run(activity, invocation({ input, configuration, assignments }));

  test('GET a JSON answer: status, lower-cased headers, parsed body', async () => {
    const output = (await call({ url: `${base}/json` })) as {
      status: number;
      headers: Record<string, string>;
      body: unknown;
    };
    assert.equal(output.status, 200);
    assert.equal(output.headers['x-trace'], 't1');
    assert.deepEqual(output.body, { hello: 'world' });
    assert.equal(seen.at(-1)?.method, 'GET');
  });

  test('a non-JSON body is text', async () => {
    assert.deepEqual(((await call({ url: `${base}/text` })) as { body: unknown }).body, 'plain');
  });

  test('the input is the default body, sent as JSON with a POST', async () => {
    const output = (await call({ url: `${base}/echo`, headers: { 'x-api-key': 'k' } }, { order: 7 })) as {
      status: number;
      body: unknown;
    };
    assert.equal(output.status, 201);
    assert.deepEqual(output.body, { method: 'POST', body: '{"order":7}' });
    assert.equal(seen.at(-1)?.headers['content-type'], 'application/json');
    assert.equal(seen.at(-1)?.headers['x-api-key'], 'k');
  });

  test('method and body come from the configuration; GET sends no body', async () => {
    await call({ url: `${base}/echo`, method: 'PUT', body: 'raw text' }, { ignored: true });
    assert.equal(seen.at(-1)?.method, 'PUT');
    assert.equal(seen.at(-1)?.body, 'raw text');
    await call({ url: `${base}/json`, method: 'GET' }, { ignored: true });
    assert.equal(seen.at(-1)?.body, '');
  });

  test('the assigned Address wins over configuration.url', async () => {
    await call({ url: `${base}/missing` }, null, [address(`${base}/json?from=address`)]);
    assert.equal(seen.at(-1)?.url, '/json?from=address');
  });

  test('a 404 fails without retries as HttpError naming the status', async () => {
    const error = await failure(call({ url: `${base}/missing?token=secret` }));
    assert.equal(error.type, 'HttpError');
    assert.equal(error.nonRetryable, true);
    assert.match(error.message, /404/);
    assert.doesNotMatch(error.message, /secret/);
    assert.deepEqual(error.details, [{ status: 404, body: 'no such thing' }]);
  });

  test('a 503 is retryable; a 429 retries after Retry-After', async () => {
    const busy = await failure(call({ url: `${base}/busy` }));
    assert.equal(busy.type, 'HttpError');
    assert.equal(busy.nonRetryable, false);
    const limited = await failure(call({ url: `${base}/limited` }));
    assert.equal(limited.nonRetryable, false);
    assert.equal(limited.nextRetryDelay, 3_000);
  });

  test('network errors and timeouts are retryable', async () => {
    const refused = await failure(call({ url: `http://127.0.0.1:${await findFreePort()}/` }));
    assert.equal(refused.type, 'NetworkError');
    assert.equal(refused.nonRetryable, false);
    const slow = await failure(call({ url: `${base}/slow`, timeoutMs: 200 }));
    assert.equal(slow.type, 'HttpTimeout');
    assert.equal(slow.nonRetryable, false);
  });

  test('invalid JSON under a JSON content type and a missing URL fail without retries', async () => {
    assert.equal((await failure(call({ url: `${base}/broken-json` }))).type, 'InvalidResponseBody');
    const noUrl = await failure(call({}));
    assert.equal(noUrl.type, 'InvalidConfiguration');
    assert.equal(noUrl.nonRetryable, true);
  });

  test('cancellation aborts the request in flight', async () => {
    const env = activityEnvironment();
    const running = env.run(http, invocation({ configuration: { url: `${base}/slow` } }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    env.cancel('CANCELLED');
    // /slow never answers: only an aborted request can settle.
    await assert.rejects(running, (error: unknown) => error instanceof CancelledFailure);
  });

  test('redirects are followed', async () => {
    const output = (await call({ url: `${base}/moved` })) as { status: number; body: unknown };
    assert.deepEqual([output.status, output.body], [200, { hello: 'world' }]);
    assert.deepEqual(
      seen.slice(-2).map((s) => s.url),
      ['/moved', '/json'],
    );
  });

  test('by default every internal destination fails at once with EgressDenied, before any request is sent', async () => {
    const before = seen.length;
    for (const [url, host, address] of [
      [`http://127.0.0.1:${port}/json`, `127.0.0.1:${port}`, '127.0.0.1'],
      ['http://169.254.169.254/latest/meta-data/', '169.254.169.254', '169.254.169.254'],
      [`http://[::1]:${port}/json`, `[::1]:${port}`, '::1'],
      [`http://2130706433:${port}/json`, `127.0.0.1:${port}`, '127.0.0.1'],
      [`http://0177.0.0.1:${port}/json`, `127.0.0.1:${port}`, '127.0.0.1'],
      [`http://0x7f.0.0.1:${port}/json`, `127.0.0.1:${port}`, '127.0.0.1'],
      [`http://[::ffff:7f00:1]:${port}/json`, `[::ffff:7f00:1]:${port}`, '::ffff:7f00:1'],
      [`http://[::ffff:127.0.0.1]:${port}/json`, `[::ffff:7f00:1]:${port}`, '::ffff:7f00:1'],
      [`http://[64:ff9b::7f00:1]:${port}/json`, `[64:ff9b::7f00:1]:${port}`, '64:ff9b::7f00:1'],
      [`http://0.0.0.0:${port}/json`, `0.0.0.0:${port}`, '0.0.0.0'],
      ['http://10.0.0.1/', '10.0.0.1', '10.0.0.1'],
      ['http://100.64.0.1/', '100.64.0.1', '100.64.0.1'],
      ['http://[fe80::1]/', '[fe80::1]', 'fe80::1'],
      ['http://[fc00::1]/', '[fc00::1]', 'fc00::1'],
    ] as const) {
      const error = await failure(call({ url }, null, [], guarded));
      assert.equal(error.type, 'EgressDenied', url);
      assert.equal(error.nonRetryable, true, url);
      assert.ok(
        error.message.startsWith(`Egress denied: http://${host} is ${address} (`),
        `${url}: ${error.message}`,
      );
      assert.match(
        error.message,
        new RegExp(`allow it with EGRESS_ALLOW=${host.replace(/[[\].]/g, '\\$&')} `),
      );
      assert.equal((error.details?.[0] as { host: string }).host, host);
    }
    assert.equal(seen.length, before, 'the server received no request');
  });

  test('the allow-list opens internal destinations by host, host:port or CIDR', async () => {
    for (const allow of ['127.0.0.1', `127.0.0.1:${port}`, '127.0.0.0/8']) {
      const allowed = httpBehind({ allow: parseEgressAllowList(allow) });
      const output = (await call({ url: `${base}/json` }, null, [], allowed)) as { status: number };
      assert.equal(output.status, 200, allow);
    }
    const otherPort = httpBehind({ allow: parseEgressAllowList(`127.0.0.1:${port + 1}`) });
    const error = await failure(call({ url: `${base}/json` }, null, [], otherPort));
    assert.equal(error.type, 'EgressDenied');
    assert.match(
      error.message,
      new RegExp(`^Egress denied: http://127\\.0\\.0\\.1:${port} is 127\\.0\\.0\\.1`),
    );
  });

  test('a redirect from an allowed destination to an internal one is refused without retries', async () => {
    const onlyThisPort = httpBehind({ allow: parseEgressAllowList(`127.0.0.1:${port}`) });
    const before = seen.length;
    const toName = await failure(call({ url: `${base}/to-localhost` }, null, [], onlyThisPort));
    assert.equal(toName.type, 'EgressDenied');
    assert.equal(toName.nonRetryable, true);
    assert.match(
      toName.message,
      new RegExp(`^Egress denied: http://localhost:${port} resolves to (127\\.0\\.0\\.1|::1) \\(loopback\\)`),
    );
    const toAddress = await failure(call({ url: `${base}/to-other-loopback` }, null, [], onlyThisPort));
    assert.equal(toAddress.type, 'EgressDenied');
    assert.match(
      toAddress.message,
      new RegExp(`^Egress denied: http://127\\.0\\.0\\.2:${port} is 127\\.0\\.0\\.2`),
    );
    // Only the two redirecting requests arrived; neither target was reached.
    assert.deepEqual(
      seen.slice(before).map((s) => s.url),
      ['/to-localhost', '/to-other-loopback'],
    );
  });

  test('a name resolving to loopback is refused, and allowed when the name is on the allow-list', async () => {
    const lookup = (hostname: string) =>
      hostname === 'evil.test'
        ? Promise.resolve([{ address: '127.0.0.1', family: 4 as const }])
        : Promise.reject(new Error(`ENOTFOUND ${hostname}`));
    const url = `http://evil.test:${port}/json?token=secret`;
    const before = seen.length;
    const error = await failure(call({ url }, null, [], httpBehind({ lookup })));
    assert.equal(error.type, 'EgressDenied');
    assert.equal(error.nonRetryable, true);
    assert.equal(
      error.message,
      `Egress denied: http://evil.test:${port} resolves to 127.0.0.1 (loopback), an internal address; ` +
        `allow it with EGRESS_ALLOW=evil.test:${port} or a CIDR such as 127.0.0.1/32`,
    );
    assert.deepEqual(error.details, [{ host: `evil.test:${port}`, address: '127.0.0.1', range: 'loopback' }]);
    assert.equal(seen.length, before);

    const allowed = httpBehind({ lookup, allow: parseEgressAllowList('evil.test') });
    const output = (await call({ url }, null, [], allowed)) as { body: unknown };
    assert.deepEqual(output.body, { hello: 'world' });
    assert.equal(seen.at(-1)?.headers.host, `evil.test:${port}`);
  });

  test('an answer over the size limit fails without retries as ResponseTooLarge', async () => {
    const small = httpBehind({ allow: parseEgressAllowList('127.0.0.1'), maxResponseBytes: 1024 });
    const error = await failure(call({ url: `${base}/big?token=secret` }, null, [], small));
    assert.equal(error.type, 'ResponseTooLarge');
    assert.equal(error.nonRetryable, true);
    assert.equal(error.message, `the response of ${base} is larger than the limit of 1024 bytes`);
  });
});
