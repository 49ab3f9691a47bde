import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createFlow, runFlow, startTestEngine, statusesByName, type TestEngine } from '../support/engine';
import { unique } from '../support/fixtures';
import { scriptedProcessor } from '../fixtures/scripted-processor';

const P = `scripted-${unique()}`;
const fast = { maximumAttempts: 2, initialIntervalMs: 50 };

describe('interpreter semantics through Temporal', () => {
  let engine: TestEngine;
  before(async () => {
    engine = await startTestEngine([scriptedProcessor(P)]);
  });
  after(() => engine.close());

  it('runs a chain, passing each output to the next step', async () => {
    const flow = await createFlow(engine.api, {
      A: { processor: P, next: ['B'], configuration: { output: { n: 1 } } },
      B: { processor: P },
    });
    const summary = await runFlow(engine.api, flow.flowId, { hello: 'world' });
    assert.equal(summary.status, 'Completed');
    assert.deepEqual(statusesByName(summary), { A: 'Succeeded', B: 'Succeeded' });
    const b = summary.steps.find((s) => s.name === 'B')!;
    assert.deepEqual(b.output, { step: 'B', input: { n: 1 }, previous: ['A:Succeeded'] });
    assert.equal(summary.completedSteps, 2);
    assert.equal(summary.totalSteps, 2);
    assert.deepEqual(summary.currentSteps, []);
  });

  it('handles a failure with a PreviousFailure step and skips the success path', async () => {
    const flow = await createFlow(engine.api, {
      Fetch: { processor: P, next: ['Parse', 'Alert'], configuration: { fail: true }, retryPolicy: fast },
      Parse: { processor: P },
      Alert: { processor: P, entryCondition: 'PreviousFailure' },
    });
    const summary = await runFlow(engine.api, flow.flowId);
    assert.equal(summary.status, 'Completed');
    assert.deepEqual(statusesByName(summary), { Fetch: 'Failed', Parse: 'Skipped', Alert: 'Succeeded' });
    const parse = summary.steps.find((s) => s.name === 'Parse')!;
    assert.equal(parse.reason, 'PreviousSuccess not met: "Fetch" Failed');
    const fetch = summary.steps.find((s) => s.name === 'Fetch')!;
    assert.equal(fetch.attempts, 2);
    assert.equal(fetch.error?.message, 'scripted failure');
  });
});
