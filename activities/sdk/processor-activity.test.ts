import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { activityEnvironment } from '../../test/processors/activity-environment';
import pino from 'pino';
import type { StepInvocation } from '../../domain/flow-types';
import { defineProcessor, type ProcessorContext } from './define-processor';
import { EgressGuard, parseEgressAllowList } from './egress';
import { NonRetryableError, RetryableError } from './errors';
import { createProcessorActivity } from './processor-activity';
import type { SchemaViolationDetails } from './schema-violation';

const logger = pino({ level: 'silent' });

function invocation(overrides: Partial<StepInvocation> = {}): StepInvocation {
  return {
    run: {
      workflowId: 'wf-1',
      runId: 'run-1',
      orchestratedFlowId: 'flow-1',
      orchestratedFlowName: 'orders',
      correlationId: 'corr-1',
    },
    step: { id: 'step-1', name: 'enrich' },
    input: { text: 'hello' },
    previous: [{ stepId: 'step-0', name: 'fetch', status: 'Succeeded', output: 1 }],
    assignments: [],
    configuration: {},
    ...overrides,
  };
}

function probe(run: (context: ProcessorContext<{ text: string }, { mode?: string }>) => unknown) {
  return defineProcessor<{ text: string }, unknown, { mode?: string }>({
    name: 'probe',
    version: '1.0.0',
    description: 'test',
    module: __filename,
    inputSchema: {
      type: 'object',
      required: ['text'],
      properties: {
        text: { type: 'string' },
        customer: { type: 'object', properties: { email: { format: 'email' } } },
      },
    },
    outputSchema: { type: 'object', required: ['count'], properties: { count: { type: 'integer' } } },
    configurationSchema: {
      type: 'object',
      properties: { mode: { enum: ['a', 'b'] } },
      additionalProperties: false,
    },
    run: (context) => run(context),
  });
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail('expected a rejection');
}

function violations(error: unknown): SchemaViolationDetails {
  assert.ok(error instanceof ApplicationFailure, String(error));
  assert.equal(error.type, 'SchemaViolation');
  assert.equal(error.nonRetryable, true);
  return error.details?.[0] as SchemaViolationDetails;
}

describe('createProcessorActivity', () => {
  test('runs the processor with the step data, run metadata and attempt', async () => {
    let seen: ProcessorContext<{ text: string }, { mode?: string }> | undefined;
    const activity = createProcessorActivity(
      probe((context) => {
        seen = context;
        return { count: context.input.text.length };
      }),
      { logger },
    );
    const output = await activityEnvironment({ attempt: 3 }).run(
      activity,
      invocation({ configuration: { mode: 'a' } }),
    );
    assert.deepEqual(output, { count: 5 });
    assert.ok(seen);
    assert.deepEqual(seen.input, { text: 'hello' });
    assert.deepEqual(seen.configuration, { mode: 'a' });
    assert.equal(seen.previous[0]?.name, 'fetch');
    assert.equal(seen.run.attempt, 3);
    assert.equal(seen.run.correlationId, 'corr-1');
    assert.equal(seen.run.stepName, 'enrich');
    assert.equal(seen.run.processor, 'probe@1.0.0');
    assert.equal(seen.signal.aborted, false);
  });

  test('an input violation fails without retries, naming field and rule, before run', async () => {
    let ran = false;
    const activity = createProcessorActivity(
      probe(() => {
        ran = true;
        return { count: 1 };
      }),
      { logger },
    );
    const error = await rejection(
      activityEnvironment().run(activity, invocation({ input: { customer: { email: 'nope' } } })),
    );
    const details = violations(error);
    assert.equal(details.target, 'input');
    assert.deepEqual(
      details.details.map(({ field, rule }) => ({ field, rule })),
      [
        { field: 'input.text', rule: 'required' },
        { field: 'input.customer.email', rule: 'format' },
      ],
    );
    assert.match((error as Error).message, /input\.text .*\(required\)/);
    assert.match((error as Error).message, /input\.customer\.email .*\(format\)/);
    assert.equal(ran, false);
  });

  test('a configuration violation names the configuration field', async () => {
    const activity = createProcessorActivity(
      probe(() => ({ count: 1 })),
      { logger },
    );
    const details = violations(
      await rejection(activityEnvironment().run(activity, invocation({ configuration: { mode: 'c' } }))),
    );
    assert.equal(details.target, 'configuration');
    assert.deepEqual(
      details.details.map(({ field, rule }) => ({ field, rule })),
      [{ field: 'configuration.mode', rule: 'enum' }],
    );
  });

  test('an output violation fails without retries, naming field and rule', async () => {
    const activity = createProcessorActivity(
      probe(() => ({ count: 'five' })),
      { logger },
    );
    const details = violations(await rejection(activityEnvironment().run(activity, invocation())));
    assert.equal(details.target, 'output');
    assert.equal(details.processor, 'probe@1.0.0');
    assert.deepEqual(
      details.details.map(({ field, rule }) => ({ field, rule })),
      [{ field: 'output.count', rule: 'type' }],
    );
  });

  test('validates against the schemas it is given (the stored ones), not the definition', async () => {
    const activity = createProcessorActivity(
      probe(() => ({ count: 1 })),
      { logger, schemas: { input: { type: 'object', required: ['other'] }, output: {} } },
    );
    const details = violations(await rejection(activityEnvironment().run(activity, invocation())));
    assert.equal(details.details[0]?.field, 'input.other');
  });

  test('NonRetryableError becomes a non-retryable ApplicationFailure with its type and details', async () => {
    const activity = createProcessorActivity(
      probe(() => {
        throw new NonRetryableError('bad request', { type: 'HttpError', details: { status: 404 } });
      }),
      { logger },
    );
    const error = await rejection(activityEnvironment().run(activity, invocation()));
    assert.ok(error instanceof ApplicationFailure);
    assert.equal(error.type, 'HttpError');
    assert.equal(error.nonRetryable, true);
    assert.deepEqual(error.details, [{ status: 404 }]);
  });

  test('RetryableError becomes a retryable ApplicationFailure with its retry delay; plain errors pass through', async () => {
    const retryable = createProcessorActivity(
      probe(() => {
        throw new RetryableError('busy', { type: 'HttpError', retryAfterMs: 2_000 });
      }),
      { logger },
    );
    const error = await rejection(activityEnvironment().run(retryable, invocation()));
    assert.ok(error instanceof ApplicationFailure);
    assert.equal(error.nonRetryable, false);
    assert.equal(error.type, 'HttpError');
    assert.equal(error.nextRetryDelay, 2_000);

    const plain = new TypeError('boom');
    const passthrough = createProcessorActivity(
      probe(() => {
        throw plain;
      }),
      { logger },
    );
    assert.equal(await rejection(activityEnvironment().run(passthrough, invocation())), plain);
  });

  test('cancellation fires the AbortSignal and is reported as a cancellation', async () => {
    const env = activityEnvironment();
    let aborted = false;
    const activity = createProcessorActivity(
      probe(
        ({ signal }) =>
          new Promise((_resolve, reject) => {
            signal.addEventListener('abort', () => {
              aborted = true;
              reject(new Error('aborted by the signal'));
            });
          }),
      ),
      { logger },
    );
    const running = env.run(activity, invocation());
    setTimeout(() => env.cancel('CANCELLED'), 20);
    const error = await rejection(running);
    assert.equal(aborted, true);
    assert.ok(error instanceof CancelledFailure, String(error));
  });

  test('autoHeartbeatMs heartbeats while run is pending', async () => {
    const env = activityEnvironment();
    let heartbeats = 0;
    env.on('heartbeat', () => heartbeats++);
    const definition = defineProcessor({
      name: 'slow',
      version: '1.0.0',
      description: 'test',
      module: __filename,
      inputSchema: {},
      outputSchema: {},
      autoHeartbeatMs: 10,
      run: () => new Promise((resolve) => setTimeout(() => resolve('done'), 100)),
    });
    assert.equal(await env.run(createProcessorActivity(definition, { logger }), invocation()), 'done');
    assert.ok(heartbeats >= 3, `heartbeats: ${heartbeats}`);
  });

  test('context.fetch goes through the egress guard: internal destinations refused by default, allowed when given', async () => {
    const requests: string[] = [];
    const server = createServer((req, res) => {
      requests.push(req.url ?? '');
      if (req.url !== '/hang') res.writeHead(200).end('hello');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const fetching = (path: string) =>
      probe(async ({ fetch }) => ({ count: (await fetch(`${url}${path}`)).text.length }));
    const egress = new EgressGuard({ allow: parseEgressAllowList('127.0.0.1') });
    try {
      const denied = await rejection(
        activityEnvironment().run(createProcessorActivity(fetching('/'), { logger }), invocation()),
      );
      assert.ok(denied instanceof ApplicationFailure, String(denied));
      assert.equal(denied.type, 'EgressDenied');
      assert.equal(denied.nonRetryable, true);
      assert.match(denied.message, /^Egress denied: http:\/\/127\.0\.0\.1:\d+ is 127\.0\.0\.1 \(loopback\)/);
      assert.deepEqual(requests, []);

      const allowed = createProcessorActivity(fetching('/'), { logger, egress });
      assert.deepEqual(await activityEnvironment().run(allowed, invocation()), { count: 5 });
      assert.deepEqual(requests, ['/']);

      // The step's cancellation reaches the call: /hang never answers, so only an abort settles it.
      const env = activityEnvironment();
      const running = env.run(createProcessorActivity(fetching('/hang'), { logger, egress }), invocation());
      for (let i = 0; i < 500 && requests.length < 2; i++)
        await new Promise((resolve) => setTimeout(resolve, 10));
      env.cancel('CANCELLED');
      const error = await rejection(running);
      assert.ok(error instanceof CancelledFailure, String(error));
    } finally {
      await egress.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
