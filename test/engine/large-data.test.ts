/**
 * Large step data by reference (claim check), through REST and Temporal: steps whose outputs are megabytes each
 * complete, their data is readable byte for byte through the data route, a join receives its large predecessors
 * resolved, a large run input travels by reference, and the run's history stays small.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { transformProcessor } from '../../activities/processors';
import { manualRunWorkflowId } from '../../domain/task-queue';
import { assertError } from '../support/assertions';
import { createFlow, runFlow, startTestEngine, stepNamed, type TestEngine } from '../support/engine';
import { unique } from '../support/fixtures';

const processor = { ...transformProcessor, name: `transform-${unique()}` };
const MB3 = 3_000_000;
/** A transform step whose output carries `size` characters of `fill`, and what it saw of its input. */
const big = (fill: string, size: number, seen: string, next: string[] = []) => ({
  processor: processor.name,
  next,
  configuration: { expression: `{ "blob": $pad("", ${size}, "${fill}"), "seen": ${seen} }` },
});

interface RefOutput {
  $ref: string;
  size: number;
  href: string;
}

describe('large step data by reference', () => {
  let engine: TestEngine;

  before(async () => {
    engine = await startTestEngine([processor]);
  });
  after(() => engine?.close());

  it('runs a 4-step chain of ~3 MB outputs; the data route serves each byte for byte; history stays small', async () => {
    const flow = await createFlow(engine.api, {
      A: big('a', MB3, '$length(start)', ['B']),
      B: big('b', MB3, '$length(blob)', ['C']),
      C: big('c', MB3, '$length(blob)', ['D']),
      D: big('d', MB3, '$length(blob)'),
    });
    const run = await runFlow(engine.api, flow.flowId, { start: 'go' });
    assert.equal(run.status, 'Completed', JSON.stringify(run).slice(0, 2000));

    const seen: Record<string, number> = { A: 2, B: MB3, C: MB3, D: MB3 };
    for (const [name, fill] of [
      ['A', 'a'],
      ['B', 'b'],
      ['C', 'c'],
      ['D', 'd'],
    ] as const) {
      const step = stepNamed(run, name);
      const ref = step.output as RefOutput;
      const expected = JSON.stringify({ blob: fill.repeat(MB3), seen: seen[name] });
      assert.match(ref.$ref, /^blob:sha256:[0-9a-f]{64}$/, `${name} travels by reference`);
      assert.equal(ref.size, Buffer.byteLength(expected));
      assert.equal(
        ref.href,
        `/api/Orchestration/runs/${flow.flowId}/${run.runId}/steps/${step.stepId}/output`,
      );
      const data = await engine.api.as('viewer').request<unknown>('GET', ref.href);
      assert.equal(data.status, 200);
      assert.match(data.headers.get('content-type') ?? '', /^application\/json/);
      assert.equal(JSON.stringify(data.body), expected, `${name}'s data is what the processor produced`);
    }

    const history = await engine.client.workflow
      .getHandle(manualRunWorkflowId(flow.flowId), run.runId)
      .fetchHistory();
    const historyBytes = Buffer.byteLength(JSON.stringify(history));
    assert.ok(historyBytes < 1_000_000, `history is ${historyBytes} bytes`);
  });

  it('hands a join its three large predecessors resolved, and resolves a large run input', async () => {
    const flow = await createFlow(engine.api, {
      X: big('x', 1_000_000, '$length(text)', ['Join']),
      Y: big('y', 1_000_000, '$length(text)', ['Join']),
      Z: big('z', 1_000_000, '$length(text)', ['Join']),
      Join: {
        processor: processor.name,
        configuration: {
          expression:
            '{ "lengths": [$length(X.blob), $length(Y.blob), $length(Z.blob)], "firsts": $substring(X.blob, 0, 1) & $substring(Y.blob, 0, 1) & $substring(Z.blob, 0, 1) }',
        },
      },
    });
    const text = 'i'.repeat(200_000);
    const run = await runFlow(engine.api, flow.flowId, { text });
    assert.equal(run.status, 'Completed', JSON.stringify(run).slice(0, 2000));
    assert.deepEqual(stepNamed(run, 'Join').output, {
      lengths: [1_000_000, 1_000_000, 1_000_000],
      firsts: 'xyz',
    });
    const x = await engine.api.request('GET', (stepNamed(run, 'X').output as RefOutput).href);
    assert.equal(x.body.seen, 200_000, 'the entry step saw the whole run input');
    const input = await engine.api
      .as('viewer')
      .request('GET', `/api/Orchestration/runs/${flow.flowId}/${run.runId}/input`);
    assert.equal(input.status, 200);
    assert.deepEqual(input.body, { text }, 'the input route serves the stored input');

    const history = await engine.client.workflow
      .getHandle(manualRunWorkflowId(flow.flowId), run.runId)
      .fetchHistory();
    assert.ok(Buffer.byteLength(JSON.stringify(history)) < 200_000, 'the 200 kB input did not travel inline');
  });

  it('answers the data route for small outputs inline, and 404 for an unknown step or a step without output', async () => {
    const flow = await createFlow(engine.api, {
      Small: { processor: processor.name, configuration: { expression: '{ "n": 1 }' } },
    });
    const run = await runFlow(engine.api, flow.flowId, {});
    const small = stepNamed(run, 'Small');
    assert.deepEqual(small.output, { n: 1 }, 'small outputs stay inline, without a link');
    const route = `/api/Orchestration/runs/${flow.flowId}/${run.runId}/steps`;
    const inline = await engine.api.request('GET', `${route}/${small.stepId}/output`);
    assert.equal(inline.status, 200);
    assert.deepEqual(inline.body, { n: 1 });
    assertError(await engine.api.request('GET', `${route}/${flow.workflowId}/output`), 404, 'NotFound');
  });
});
