/**
 * Processor worker processes as operators run them: the example's own entry point and `workers/processor.ts`,
 * started with tsx against the test services — they register, serve steps, refuse a changed implementation, re-register
 * on request and drain on SIGTERM.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { uppercaseProcessor } from '../../examples/uppercase-processor/processor';
import { processorTaskQueue } from '../../domain/task-queue';
import { spawnTsx } from '../support/processes';
import { workerProcessEnv } from '../support/worker-env';
import {
  activityAttempts,
  activityFailure,
  invocation,
  type ProcessorHarness,
  startProcessorHarness,
} from './harness';

describe('processor worker processes', () => {
  let harness: ProcessorHarness;
  const running = new Set<ChildProcess>();

  before(async () => {
    harness = await startProcessorHarness([]);
  });

  after(async () => {
    for (const child of running) if (child.exitCode === null) child.kill('SIGKILL');
    await harness?.close();
  });

  const start = (script: string, args: string[] = [], extraEnv: NodeJS.ProcessEnv = {}) => {
    const spawned = spawnTsx(script, args, workerProcessEnv(harness.database.url, 'info', extraEnv));
    running.add(spawned.child);
    return spawned;
  };

  test('the example worker registers, serves its task queue, and drains on SIGTERM', async () => {
    const worker = start('examples/uppercase-processor/worker.ts');
    await worker.waitFor('processor worker ready');
    const row = await harness.prisma.processor.findUniqueOrThrow({
      where: { version_name: { version: '1.0.0', name: 'uppercase' } },
    });
    assert.match(row.implementationHash, /^[0-9a-f]{64}$/);

    const handle = await harness.startOn(
      processorTaskQueue(uppercaseProcessor.name, uppercaseProcessor.version),
      'uppercase',
      invocation({ input: { greeting: 'hello', count: 2 }, configuration: { fields: ['greeting'] } }),
    );
    const output = await handle.result();
    assert.deepEqual(output, { greeting: 'HELLO', count: 2 });

    worker.child.kill('SIGTERM');
    const { code, stdout } = await worker.exited;
    assert.equal(code, 0, stdout);
    assert.match(stdout, /draining/);
    assert.match(stdout, /processor worker stopped/);
  });

  test('SIGTERM lets a running step finish before the worker exits', async () => {
    const worker = start('workers/processor.ts', ['delay']);
    await worker.waitFor('processor worker ready');
    const handle = await harness.startOn(
      processorTaskQueue('delay', '1.0.0'),
      'delay',
      invocation({ input: { kept: true }, configuration: { durationMs: 2_500 } }),
      { maximumAttempts: 1, heartbeatMs: 10_000 },
    );
    for (let i = 0; i < 100 && !(await handle.describe()).raw.pendingActivities?.[0]?.lastStartedTime; i++)
      await new Promise((resolve) => setTimeout(resolve, 100));
    worker.child.kill('SIGTERM');
    assert.deepEqual(await handle.result(), { kept: true });
    const { code, stdout } = await worker.exited;
    assert.equal(code, 0, stdout);
  });

  test('a changed implementation refuses to start with a clear message; --reregister fixes it', async () => {
    await harness.prisma.processor.update({
      where: { version_name: { version: '1.0.0', name: 'uppercase' } },
      data: { implementationHash: '0'.repeat(64) },
    });
    const refused = await start('examples/uppercase-processor/worker.ts').exited;
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /is registered with implementation hash 0{64}, but this worker's implementation/,
    );
    assert.match(refused.stderr, /--reregister \(or PROCESSOR_REREGISTER=true\)/);

    const fixed = start('examples/uppercase-processor/worker.ts', ['--reregister']);
    await fixed.waitFor('processor worker ready');
    assert.match(fixed.output().stdout, /"outcome":"reregistered"/);
    fixed.child.kill('SIGTERM');
    assert.equal((await fixed.exited).code, 0);

    // The environment switch works the same way.
    await harness.prisma.processor.update({
      where: { version_name: { version: '1.0.0', name: 'uppercase' } },
      data: { implementationHash: '1'.repeat(64) },
    });
    const viaEnv = start('examples/uppercase-processor/worker.ts', [], { PROCESSOR_REREGISTER: 'true' });
    await viaEnv.waitFor('"outcome":"reregistered"');
    viaEnv.child.kill('SIGTERM');
    assert.equal((await viaEnv.exited).code, 0);
  });

  test('an unknown or missing processor name exits with the usage', async () => {
    const unknown = await start('workers/processor.ts', ['nope']).exited;
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /unknown processor "nope"/);
    assert.match(unknown.stderr, /usage: tsx workers\/processor.ts <transform\|http-request\|delay\|file>/);
    const missing = await start('workers/processor.ts').exited;
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no processor named/);
  });

  test('http-request reaches out through a guard built from EGRESS_ALLOW and HTTP_REQUEST_MAX_BYTES', async () => {
    const requests: string[] = [];
    const server = createServer((req, res) => {
      requests.push(req.url ?? '');
      if (req.url === '/big') res.writeHead(200, { 'content-type': 'text/plain' }).end('x'.repeat(2_000));
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const refused = await start('workers/processor.ts', ['http-request'], {
        EGRESS_ALLOW: 'ok.test, not a host',
      }).exited;
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /EGRESS_ALLOW: egress allow-list entry "not a host" is not valid/);

      const worker = start('workers/processor.ts', ['http-request'], {
        EGRESS_ALLOW: `127.0.0.1:${port}`,
        HTTP_REQUEST_MAX_BYTES: '1000',
      });
      await worker.waitFor('egress policy');
      assert.match(
        worker.output().stdout,
        new RegExp(`"egress":"internal destinations blocked; allowed: 127\\.0\\.0\\.1:${port}"`),
      );
      const queue = processorTaskQueue('http-request', '1.0.0');
      const call = (url: string) =>
        harness.startOn(queue, 'http-request', invocation({ configuration: { url } }), {
          maximumAttempts: 3,
        });

      const allowed = (await (await call(`http://127.0.0.1:${port}/allowed`)).result()) as { body: unknown };
      assert.deepEqual(allowed.body, { ok: true });

      const otherPort = await call(`http://127.0.0.1:${port + 1}/`);
      const denied = await activityFailure(otherPort.result());
      assert.equal(denied.type, 'EgressDenied');
      assert.equal(denied.nonRetryable, true);
      assert.match(
        denied.message,
        new RegExp(`^Egress denied: http://127\\.0\\.0\\.1:${port + 1} is 127\\.0\\.0\\.1`),
      );
      assert.equal(await activityAttempts(otherPort), 1);

      const tooLarge = await activityFailure((await call(`http://127.0.0.1:${port}/big`)).result());
      assert.equal(tooLarge.type, 'ResponseTooLarge');
      assert.equal(
        tooLarge.message,
        `the response of http://127.0.0.1:${port} is larger than the limit of 1000 bytes`,
      );
      assert.deepEqual(requests, ['/allowed', '/big']);

      worker.child.kill('SIGTERM');
      assert.equal((await worker.exited).code, 0);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
