import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pino from 'pino';
import {
  activityEnvironment,
  applicationFailure as failure,
} from '../../test/processors/activity-environment';
import { invocation } from '../../test/processors/invocation';
import { createProcessorActivity } from '../sdk';
import { transformProcessor } from './transform';

const transform = createProcessorActivity(transformProcessor, { logger: pino({ level: 'silent' }) });

function run(input: unknown, configuration: Record<string, unknown>, previous = invocation().previous) {
  return activityEnvironment().run(transform, invocation({ input, configuration, previous }));
}

describe('transform processor', () => {
  test('evaluates the JSONata expression over the input', async () => {
    const input = {
      order: {
        lines: [
          { qty: 2, price: 5 },
          { qty: 1, price: 3 },
        ],
      },
      customer: 'ada',
    };
    assert.deepEqual(
      await run(input, {
        expression: '{ "who": $uppercase(customer), "total": $sum(order.lines.(qty * price)) }',
      }),
      {
        who: 'ADA',
        total: 13,
      },
    );
  });

  test('an array result is a plain JSON array', async () => {
    assert.deepEqual(await run({ items: [{ id: 1 }, { id: 2 }] }, { expression: 'items.id' }), [1, 2]);
  });

  test('binds $previous', async () => {
    const previous = [{ stepId: 's1', name: 'fetch', status: 'Succeeded' as const, output: { n: 41 } }];
    assert.equal(await run(null, { expression: '$previous[name="fetch"].output.n + 1' }, previous), 42);
  });

  test('no match is null', async () => {
    assert.equal(await run({ a: 1 }, { expression: 'b' }), null);
  });

  test('a syntax error fails without retries as TransformError', async () => {
    const error = await failure(run({}, { expression: '{ "a": ' }));
    assert.equal(error.type, 'TransformError');
    assert.equal(error.nonRetryable, true);
    assert.match(error.message, /could not compile/);
  });

  test('an evaluation error fails without retries as TransformError', async () => {
    const error = await failure(run({ a: 'x' }, { expression: 'a + 1' }));
    assert.equal(error.type, 'TransformError');
    assert.equal(error.nonRetryable, true);
  });

  test('runaway recursion is stopped', async () => {
    const error = await failure(
      run({}, { expression: '($f := function($x) { $f($x + 1) }; $f(0))', timeoutMs: 500 }),
    );
    assert.equal(error.type, 'TransformError');
  });

  test('a missing expression is a configuration schema violation', async () => {
    const error = await failure(run({}, {}));
    assert.equal(error.type, 'SchemaViolation');
    assert.match(error.message, /configuration\.expression .*\(required\)/);
  });
});
