import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CancelledFailure } from '@temporalio/common';
import pino from 'pino';
import { activityEnvironment } from '../../test/processors/activity-environment';
import { invocation } from '../../test/processors/invocation';
import { createProcessorActivity } from '../sdk';
import { delayProcessor } from './delay';

const delay = createProcessorActivity(delayProcessor, { logger: pino({ level: 'silent' }) });

describe('delay processor', () => {
  test('waits durationMs, heartbeating progress, and passes the input through', async () => {
    const env = activityEnvironment();
    const heartbeats: unknown[] = [];
    env.on('heartbeat', (details: unknown) => heartbeats.push(details));
    const started = Date.now();
    const output = await env.run(
      delay,
      invocation({ input: { keep: 'me' }, configuration: { durationMs: 1_200 } }),
    );
    const elapsed = Date.now() - started;
    assert.deepEqual(output, { keep: 'me' });
    assert.ok(elapsed >= 1_150, `returned after ${elapsed} ms`);
    assert.ok(heartbeats.length >= 2, `heartbeats: ${heartbeats.length}`);
    assert.deepEqual(Object.keys(heartbeats[0] as object), ['elapsedMs']);
  });

  test('rejects promptly with the cancellation when the signal fires', async () => {
    const env = activityEnvironment();
    const running = env.run(delay, invocation({ configuration: { durationMs: 60_000 } }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const cancelledAt = Date.now();
    env.cancel('CANCELLED');
    await assert.rejects(running, (error: unknown) => error instanceof CancelledFailure);
    assert.ok(Date.now() - cancelledAt < 200, `took ${Date.now() - cancelledAt} ms to stop`);
  });

  test('a retry resumes from the last heartbeat of the previous attempt', async () => {
    const env = activityEnvironment({ attempt: 2, heartbeatDetails: { elapsedMs: 59_900 } });
    const started = Date.now();
    await env.run(delay, invocation({ configuration: { durationMs: 60_000 } }));
    assert.ok(Date.now() - started < 1_000);
  });

  test('durationMs is required and bounded', async () => {
    for (const configuration of [{}, { durationMs: -1 }, { durationMs: 1.5 }])
      await assert.rejects(
        activityEnvironment().run(delay, invocation({ configuration })),
        (error: Error & { type?: string }) =>
          error.type === 'SchemaViolation' && /configuration\.durationMs/.test(error.message),
      );
  });
});
