/**
 * OWASP API7 (server-side request forgery), end to end: a stored flow whose http-request step is aimed at an
 * internal address (the worker's own loopback, the cloud metadata endpoint) fails that step at once with
 * EgressDenied, through REST, the interpreter and a real processor worker; the internal server hears nothing. An
 * address on the allow-list is reached. (Every address spelling, redirects and DNS answers are covered at the
 * processor level in activities/processors/http-request.test.ts and activities/sdk/egress.test.ts.)
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { httpRequestProcessor } from '../../activities/processors/http-request';
import { EgressGuard, parseEgressAllowList } from '../../activities/sdk';
import { createFlow, runFlow, startTestEngine, stepNamed, type TestEngine } from '../support/engine';
import { unique } from '../support/fixtures';

/** The built-in under a name of its own, so its task queue is this test's alone. */
const processor = { ...httpRequestProcessor, name: `http-request-${unique()}` };

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

describe('server-side request forgery (API7) through a running flow', () => {
  let engine: TestEngine;
  let internal: Server;
  let allowed: Server;
  let internalPort: number;
  let allowedPort: number;
  const heard: string[] = [];

  before(async () => {
    internal = createServer((req, res) => {
      heard.push(req.url ?? '');
      res.end('internal secrets');
    });
    allowed = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ partner: 'ok' }));
    });
    [internalPort, allowedPort] = await Promise.all([listen(internal), listen(allowed)]);
    const egress = new EgressGuard({ allow: parseEgressAllowList(`127.0.0.1:${allowedPort}`) });
    engine = await startTestEngine([processor], { egress });
  });
  after(async () => {
    await engine?.close();
    internal?.close();
    allowed?.close();
  });

  it('fails steps aimed at loopback or the metadata endpoint with EgressDenied, at once, and reaches an allowed host', async () => {
    const flow = await createFlow(engine.api, {
      Loopback: {
        processor: processor.name,
        configuration: { url: `http://127.0.0.1:${internalPort}/admin` },
      },
      Metadata: {
        processor: processor.name,
        configuration: { url: 'http://169.254.169.254/latest/meta-data/' },
      },
      Partner: {
        processor: processor.name,
        configuration: { url: `http://127.0.0.1:${allowedPort}/orders` },
      },
    });
    const run = await runFlow(engine.api, flow.flowId, null);
    assert.equal(run.status, 'Failed', JSON.stringify(run));

    const loopback = stepNamed(run, 'Loopback');
    assert.equal(loopback.status, 'Failed');
    assert.equal(loopback.attempts, 1, 'never retried');
    assert.equal(loopback.error?.type, 'EgressDenied');
    assert.match(loopback.error?.message ?? '', new RegExp(`127\\.0\\.0\\.1:${internalPort}.*loopback`));

    const metadata = stepNamed(run, 'Metadata');
    assert.equal(metadata.status, 'Failed');
    assert.equal(metadata.attempts, 1);
    assert.equal(metadata.error?.type, 'EgressDenied');
    assert.match(metadata.error?.message ?? '', /169\.254\.169\.254.*link-local/i);

    const partner = stepNamed(run, 'Partner');
    assert.equal(partner.status, 'Succeeded', JSON.stringify(partner));
    assert.deepEqual((partner.output as { body: unknown }).body, { partner: 'ok' });

    assert.deepEqual(heard, [], 'the internal server received nothing');
  });
});
