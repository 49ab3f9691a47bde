/** The example custom processor (examples/uppercase-processor) hosted by `startProcessorWorker`. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { uppercaseProcessor } from '../../examples/uppercase-processor/processor';
import { invocation, type ProcessorHarness, startProcessorHarness } from './harness';

async function applicationFailure(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await promise.then(
    () => assert.fail('expected a failure'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof WorkflowFailedError && error.cause instanceof ActivityFailure);
  assert.ok(error.cause.cause instanceof ApplicationFailure);
  return error.cause.cause;
}

describe('example: uppercase processor', () => {
  let harness: ProcessorHarness;

  before(async () => {
    harness = await startProcessorHarness([uppercaseProcessor]);
  });

  after(async () => {
    await harness?.close();
  });

  test('upper-cases every string field, or only the configured ones', async () => {
    assert.deepEqual(await harness.call('uppercase', invocation({ input: { a: 'x', b: 'y', n: 1 } })), {
      a: 'X',
      b: 'Y',
      n: 1,
    });
    assert.deepEqual(
      await harness.call(
        'uppercase',
        invocation({ input: { a: 'x', b: 'y' }, configuration: { fields: ['b'] } }),
      ),
      { a: 'x', b: 'Y' },
    );
  });

  test('a configured field that is not a string fails without retries', async () => {
    const failure = await applicationFailure(
      harness.call('uppercase', invocation({ input: { n: 1 }, configuration: { fields: ['n'] } })),
    );
    assert.equal(failure.type, 'NotAString');
    assert.equal(failure.nonRetryable, true);
  });

  test('input that is not an object is a schema violation', async () => {
    const failure = await applicationFailure(harness.call('uppercase', invocation({ input: 'text' })));
    assert.equal(failure.type, 'SchemaViolation');
    assert.match(failure.message, /input must be object \(type\)/);
  });
});
