/**
 * Processor worker processes as operators run them: the example's own entry point and `workers/processor.ts`,
 * started with tsx against the test services — they register, serve steps, refuse a changed implementation, re-register
 * on request and drain on SIGTERM.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { uppercaseProcessor } from '../../examples/uppercase-processor/processor';
import { processorTaskQueue } from '../../domain/task-queue';
import { spawnTsx } from '../support/processes';
import { workerProcessEnv } from '../support/worker-env';
import { invocation, type ProcessorHarness, startProcessorHarness } from './harness';

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
});
