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
import { createProcessorActivity } from '../sdk';
import { httpRequestProcessor } from './http-request';

const http = createProcessorActivity(httpRequestProcessor, { logger: pino({ level: 'silent' }) });

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
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const call = (
    configuration: Record<string, unknown>,
    input: unknown = null,
    assignments: AssignedEntity[] = [],
  ) => activityEnvironment().run(http, invocation({ input, configuration, assignments }));

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
});
