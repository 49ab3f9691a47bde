/**
 * The built-in processors through real workers on the test Temporal server, called by name on their task queue the
 * way the interpreter calls them: retries, non-retryable failures, schema violations, cancellation.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { createBuiltinProcessors } from '../../activities/processors';
import { EgressGuard, parseEgressAllowList, type SchemaViolationDetails } from '../../activities/sdk';
import { echoProcessor } from '../fixtures/test-processors';
import {
  activityAttempts,
  activityFailure,
  invocation,
  type ProcessorHarness,
  startProcessorHarness,
} from './harness';

describe('built-in processors on a real worker', () => {
  let harness: ProcessorHarness;
  let server: Server;
  let base: string;
  let dataRoot: string;
  let port: number;
  // The test server is on loopback: allowed by address, so other loopback names (localhost) stay refused.
  const egress = new EgressGuard({ allow: parseEgressAllowList('127.0.0.1') });
  const hits = new Map<string, number>();

  before(async () => {
    dataRoot = await mkdtemp(path.join(tmpdir(), 'processor-files-'));
    server = createServer((req, res) => {
      const route = new URL(req.url ?? '/', 'http://x').pathname;
      const count = (hits.get(route) ?? 0) + 1;
      hits.set(route, count);
      if (route === '/ok') res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      else if (route === '/missing') res.writeHead(404).end('gone');
      else if (route === '/flaky' && count < 3) res.writeHead(503).end();
      else if (route === '/flaky') res.writeHead(200, { 'content-type': 'application/json' }).end('{"n":3}');
      else res.writeHead(500).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    base = `http://127.0.0.1:${port}`;
    harness = await startProcessorHarness(
      [...createBuiltinProcessors({ fileDataRoot: dataRoot }), echoProcessor],
      { egress },
    );
  });

  after(async () => {
    await harness?.close();
    await egress.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await rm(dataRoot, { recursive: true, force: true });
  });

  test('transform: the activity named "transform" evaluates the expression', async () => {
    const output = await harness.call(
      'transform',
      invocation({ input: { a: 2 }, configuration: { expression: 'a * 21' } }),
    );
    assert.equal(output, 42);
  });

  test('http-request: 200 JSON', async () => {
    const output = (await harness.call(
      'http-request',
      invocation({ configuration: { url: `${base}/ok` } }),
    )) as {
      status: number;
      body: unknown;
    };
    assert.equal(output.status, 200);
    assert.deepEqual(output.body, { ok: true });
  });

  test('http-request: a 404 is not retried', async () => {
    const handle = await harness.start(
      'http-request',
      invocation({ configuration: { url: `${base}/missing` } }),
      {
        maximumAttempts: 5,
      },
    );
    const failure = await activityFailure(handle.result());
    assert.equal(failure.type, 'HttpError');
    assert.equal(failure.nonRetryable, true);
    assert.match(failure.message, /404/);
    assert.equal(await activityAttempts(handle), 1);
    assert.equal(hits.get('/missing'), 1);
  });

  test('http-request: a 503 is retried until it succeeds', async () => {
    const handle = await harness.start(
      'http-request',
      invocation({ configuration: { url: `${base}/flaky` } }),
      {
        maximumAttempts: 5,
      },
    );
    const output = (await handle.result()) as { status: number; body: unknown };
    assert.deepEqual(output.body, { n: 3 });
    assert.equal(await activityAttempts(handle), 3);
    assert.equal(hits.get('/flaky'), 3);
  });

  test('http-request: an internal destination not on the allow-list fails at once with EgressDenied', async () => {
    const handle = await harness.start(
      'http-request',
      invocation({ configuration: { url: `http://localhost:${port}/not-reached` } }),
      { maximumAttempts: 5 },
    );
    const failure = await activityFailure(handle.result());
    assert.equal(failure.type, 'EgressDenied');
    assert.equal(failure.nonRetryable, true);
    assert.match(
      failure.message,
      new RegExp(`^Egress denied: http://localhost:${port} resolves to (127\\.0\\.0\\.1|::1) \\(loopback\\)`),
    );
    assert.equal(await activityAttempts(handle), 1);
    assert.equal(hits.has('/not-reached'), false, 'no request reached the server');
  });

  test('an input schema violation fails at once, naming field and rule', async () => {
    const handle = await harness.start('echo', invocation({ input: { text: 7, email: 'not-an-email' } }), {
      maximumAttempts: 5,
    });
    const failure = await activityFailure(handle.result());
    assert.equal(failure.type, 'SchemaViolation');
    assert.equal(failure.nonRetryable, true);
    const details = failure.details?.[0] as SchemaViolationDetails;
    assert.equal(details.target, 'input');
    assert.deepEqual(
      details.details.map(({ field, rule }) => `${field}:${rule}`),
      ['input.text:type', 'input.email:format'],
    );
    assert.equal(await activityAttempts(handle), 1);
  });

  test('an output schema violation fails at once, naming field and rule', async () => {
    const handle = await harness.start(
      'echo',
      invocation({ input: { text: 'hi' }, configuration: { output: { count: 1, items: ['a', 2] } } }),
      { maximumAttempts: 5 },
    );
    const failure = await activityFailure(handle.result());
    assert.equal(failure.type, 'SchemaViolation');
    assert.equal(failure.nonRetryable, true);
    const details = failure.details?.[0] as SchemaViolationDetails;
    assert.equal(details.target, 'output');
    assert.deepEqual(
      details.details.map(({ field, rule }) => `${field}:${rule}`),
      ['output.items.1:type'],
    );
    assert.match(failure.message, /output\.items\.1 must be string \(type\)/);
    assert.equal(await activityAttempts(handle), 1);
  });

  test('delay: stopping the run cancels the step through its AbortSignal, promptly', async () => {
    const handle = await harness.start(
      'delay',
      invocation({ input: 'x', configuration: { durationMs: 60_000 } }),
      {
        heartbeatMs: 2_000,
        startToCloseMs: 120_000,
      },
    );
    // Wait until the delay is running (it has heartbeated), then stop the run.
    for (let i = 0; i < 100; i++) {
      const { raw } = await handle.describe();
      if (raw.pendingActivities?.[0]?.lastHeartbeatTime) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const cancelledAt = Date.now();
    await handle.cancel();
    const error = await handle.result().then(
      () => assert.fail('expected a cancellation'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof WorkflowFailedError);
    assert.ok(error.cause instanceof CancelledFailure, String(error.cause));
    const elapsed = Date.now() - cancelledAt;
    assert.ok(elapsed < 10_000, `stopped after ${elapsed} ms`);
    // The processor acknowledged: the activity ended cancelled (not failed, not timed out).
    const history = await handle.fetchHistory();
    assert.ok(history.events?.some((event) => event.activityTaskCanceledEventAttributes));
  });

  test('file: writes the input to the Delivery and reads it back from an Address', async () => {
    const entity = (kind: 'Address' | 'Delivery') => ({
      id: kind,
      kind,
      version: '1',
      name: kind,
      connectionString: 'out/result.json',
      configuration: {},
      schemaId: null,
    });
    const written = await harness.call(
      'file',
      invocation({ input: { total: 3 }, assignments: [entity('Delivery')] }),
    );
    assert.equal((written as { path: string }).path, 'out/result.json');
    assert.deepEqual(await harness.call('file', invocation({ assignments: [entity('Address')] })), {
      total: 3,
    });
    const escape = await activityFailure(
      harness.call(
        'file',
        invocation({ assignments: [{ ...entity('Address'), connectionString: '../../etc/passwd' }] }),
      ),
    );
    assert.equal(escape.type, 'PathOutsideDataRoot');
  });
});
