/**
 * Rate and concurrency limits through a real Temporal dev server (issue 13 §4): a Processor's
 * `maxActivitiesPerSecond` (Temporal's task-queue rate limit, enforced by the server across every worker of the
 * queue) measured from the processor's own receive times across two worker processes; its
 * `maxConcurrentActivities` in one worker; and an OrchestratedFlow's `maxConcurrentSteps` over parallel steps.
 *
 * These bound counts from above only (a slow machine receives fewer per second, never more), and each is run where
 * the unlimited case would break it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import type { RunSummary } from '../../domain/flow-types';
import { scriptedProcessor, type Echo } from '../fixtures/scripted-processor';
import {
  createFlow,
  runFlow,
  startTestEngine,
  statusesByName,
  type StepSpec,
  type TestEngine,
} from '../support/engine';
import { unique } from '../support/fixtures';
import { peakOverlap, registerProcessor, startExtraProcessorWorker } from '../support/limits';
import { spawnTsx, type Spawned } from '../support/processes';
import { workerProcessEnv } from '../support/worker-env';

/** An unlimited processor, for the flow's own limit. */
const FREE = `free-${unique()}`;

/** `count` parallel entry steps (no `next`), all running `configuration` on `processor`. */
const parallelSteps = (count: number, processor: string, configuration: Record<string, unknown>) =>
  Object.fromEntries(
    Array.from({ length: count }, (_, i): [string, StepSpec] => [`S${i}`, { processor, configuration }]),
  );

/** Each step's echo: when its processor received it and when it finished (the step's own clock). */
function echoes(summary: RunSummary): Echo[] {
  assert.equal(summary.status, 'Completed', JSON.stringify(summary));
  for (const [name, status] of Object.entries(statusesByName(summary)))
    assert.equal(status, 'Succeeded', `${name}: ${JSON.stringify(summary)}`);
  return summary.steps.map((step) => step.output as Echo);
}

const intervals = (summary: RunSummary) =>
  echoes(summary).map((echo) => ({ from: echo.ranFrom, until: echo.ranUntil }));

/** The JSON log lines of a worker's output with this message. */
function logLines(output: string, message: string): Array<Record<string, unknown>> {
  return output
    .split('\n')
    .flatMap((line): Array<Record<string, unknown>> => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    })
    .filter((entry) => entry.msg === message);
}

describe('processor and flow limits through Temporal', () => {
  let engine: TestEngine;
  const spawned: Spawned[] = [];
  before(async () => {
    engine = await startTestEngine([scriptedProcessor(FREE)]);
  });
  after(async () => {
    await Promise.all(spawned.map((worker) => worker.stop()));
    await engine?.close();
  });

  it('a processor limited to 5 activities per second receives no more, across two worker processes', async () => {
    const RATE = 5;
    const STEPS = 30;
    const name = `rated-${unique()}`;
    await registerProcessor(engine.api, scriptedProcessor(name), { maxActivitiesPerSecond: RATE });
    // Two worker processes of the queue, each reading the limit from the entity at start.
    const workers = [0, 1].map(() =>
      spawnTsx('test/fixtures/scripted-processor-worker.ts', [name], {
        ...workerProcessEnv(engine.api.database.url, 'info'),
      }),
    );
    spawned.push(...workers);
    await Promise.all(workers.map((worker) => worker.waitFor('processor worker ready', 90_000)));
    for (const worker of workers) {
      const [limits] = logLines(worker.output().stdout, 'processor limits');
      assert.ok(limits, worker.output().stdout);
      assert.equal(limits.maxActivitiesPerSecond, RATE);
      assert.equal(limits.maxConcurrentActivities, null);
    }

    const flow = await createFlow(engine.api, parallelSteps(STEPS, name, { echo: true }));
    const received = echoes(await runFlow(engine.api, flow.flowId))
      .map((echo) => echo.ranFrom)
      .sort((a, b) => a - b);
    assert.equal(received.length, STEPS);
    // Both processes took part, so the limit held for the queue, not for each worker (2 × 5 per second).
    const handled = workers.map((worker) => logLines(worker.output().stdout, 'processor completed').length);
    assert.equal(handled[0]! + handled[1]!, STEPS, JSON.stringify(handled));
    assert.ok(
      handled.every((count) => count > 0),
      `each worker process ran steps: ${JSON.stringify(handled)}`,
    );

    // Tolerance: Temporal's limiter is a token bucket per task-queue partition (4 partitions, each refilling at
    // 5 / 4 per second and holding ⌈5 / 4⌉ = 2 tokens), so the first 8 may arrive at once (the first second's
    // burst), then about 4 every 0.8 s. Receive times are the processor's own clock, after the dispatch, the
    // delivery to a worker process and its decoding: allow a second of that. So any window of w seconds holds at
    // most BURST + RATE × (w + 1) receipts. Unlimited, the 30 arrive within about half a second (30 > 8 + 5 × 1.5);
    // at twice the rate (the limit applied per worker), within about 2.5 s (30 > 8 + 5 × 3.5).
    const BURST = 8;
    const JITTER_S = 1;
    for (let i = 0; i < received.length; i++)
      for (let j = i + 1; j < received.length; j++) {
        const count = j - i + 1;
        const windowS = (received[j]! - received[i]!) / 1000;
        assert.ok(
          count <= BURST + RATE * (windowS + JITTER_S),
          `${count} steps received within ${windowS.toFixed(2)} s (receipts, ms after the first: ` +
            `${received.map((t) => t - received[0]!).join(', ')})`,
        );
      }
    const spanS = (received.at(-1)! - received[0]!) / 1000;
    assert.ok(spanS >= (STEPS - BURST) / RATE - JITTER_S, `all ${STEPS} received within ${spanS} s`);
  });

  it('a processor limited to 2 concurrent activities runs no more than 2 at once in its worker', async () => {
    const name = `narrow-${unique()}`;
    const definition = scriptedProcessor(name);
    await registerProcessor(engine.api, definition, { maxConcurrentActivities: 2 });
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const worker = await startExtraProcessorWorker(engine, definition, logger);
    try {
      assert.deepEqual(worker.registration.limits, {
        maxActivitiesPerSecond: null,
        maxConcurrentActivities: 2,
      });
      const [limits] = logLines(lines.join(''), 'processor limits');
      assert.ok(limits, lines.join(''));
      assert.equal(limits.maxConcurrentActivities, 2);

      // Six steps of 600 ms, all scheduled at once: unlimited, they would all run together.
      const flow = await createFlow(engine.api, parallelSteps(6, name, { delayMs: 600, echo: true }));
      const peak = peakOverlap(intervals(await runFlow(engine.api, flow.flowId)));
      assert.equal(peak, 2, 'two at once, never more');
    } finally {
      await worker.shutdown();
    }
  });

  it('a flow limited to 2 concurrent steps never runs more than 2 of its 6 parallel steps at once', async () => {
    const flow = await createFlow(engine.api, parallelSteps(6, FREE, { delayMs: 600, echo: true }));
    const path = `/api/OrchestratedFlow/${flow.flowId}`;
    const {
      id: _id,
      createdAt: _c,
      updatedAt: _u,
      createdBy: _cb,
      updatedBy: _ub,
      ...stored
    } = (await engine.api.request<Record<string, unknown>>('GET', path)).body;
    const limit = async (maxConcurrentSteps: number | null) => {
      const put = await engine.api.request('PUT', path, { ...stored, maxConcurrentSteps });
      assert.equal(put.status, 204, JSON.stringify(put.body));
    };

    await limit(2);
    assert.equal(
      peakOverlap(intervals(await runFlow(engine.api, flow.flowId))),
      2,
      'two at once, never more',
    );

    // The same flow without its limit (the engine's default, 100) runs more of them at once.
    await limit(null);
    const unlimited = peakOverlap(intervals(await runFlow(engine.api, flow.flowId)));
    assert.ok(unlimited > 2, `without the limit ${unlimited} ran at once`);
  });
});
