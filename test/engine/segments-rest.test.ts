/**
 * Long runs through the REST API as shipped (issue 14 §2), on an API configured with a small history budget
 * (`RUN_SEGMENT_MAX_EVENTS`): a manual run continues as new, fails, and its rerun reuses what the earlier segments
 * recorded — read back from their archives — and runs only the rest. And while no worker answers (a new segment
 * loading its definition, the orchestrator down), status shows the last one the API read.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunSummary } from '../../domain/flow-types';
import { outages, scriptedProcessor } from '../fixtures/scripted-processor';
import {
  createFlow,
  eventually,
  runFlow,
  startTestEngine,
  waitForRun,
  type StepSpec,
  type TestEngine,
} from '../support/engine';
import { unique } from '../support/fixtures';

const P = `segments-rest-${unique()}`;

describe('long runs through REST', () => {
  let engine: TestEngine;
  before(async () => {
    engine = await startTestEngine([scriptedProcessor(P)], { historyBudget: { events: 40 } });
  });
  after(() => engine.close());

  it('a failed 30-step run over several segments reruns from its failed step, reusing 19 archived steps', async () => {
    const partner = `partner-${unique()}`;
    const chain: Record<string, StepSpec> = {};
    const name = (i: number) => `R${String(i).padStart(2, '0')}`;
    for (let i = 1; i <= 30; i++)
      chain[name(i)] = {
        processor: P,
        configuration: i === 20 ? { partner } : { output: i },
        ...(i < 30 ? { next: [name(i + 1)] } : {}),
      };
    const flow = await createFlow(engine.api, chain);
    outages.add(partner);
    const failed = await runFlow(engine.api, flow.flowId, null);
    outages.delete(partner);
    assert.equal(failed.status, 'Failed', JSON.stringify(failed).slice(0, 1000));
    assert.ok((failed.segments?.count ?? 0) >= 3, JSON.stringify(failed.segments));
    assert.deepEqual(failed.unhandledFailures, [flow.stepIds[name(20)]]);
    assert.deepEqual(
      failed.steps.slice(0, 19).map((s) => [s.status, s.output]),
      Array.from({ length: 19 }, (_, i) => ['Succeeded', i + 1]),
      'every step of the earlier segments, whole',
    );

    const rerun = await engine.api.request<{ runId: string; reused: string[]; rerun: string[] }>(
      'POST',
      `/api/Orchestration/rerun/${flow.flowId}/${failed.runId}`,
      {},
    );
    assert.equal(rerun.status, 202, JSON.stringify(rerun.body));
    assert.deepEqual(
      rerun.body.reused,
      Array.from({ length: 19 }, (_, i) => name(i + 1)),
    );
    assert.deepEqual(
      rerun.body.rerun,
      Array.from({ length: 11 }, (_, i) => name(i + 20)),
    );
    const repaired = await waitForRun(engine.api, flow.flowId, 120_000);
    assert.equal(repaired.runId, rerun.body.runId);
    assert.equal(repaired.status, 'Completed', JSON.stringify(repaired).slice(0, 1000));
    assert.deepEqual(repaired.rerunOf, { workflowId: failed.workflowId, runId: failed.runId });
    assert.deepEqual(
      repaired.steps.map((s) => [s.name, s.status, s.decision?.outcome, s.reusedFrom?.runId ?? null]),
      Array.from({ length: 30 }, (_, i) =>
        i < 19 ? [name(i + 1), 'Succeeded', 'Reused', failed.runId] : [name(i + 1), 'Succeeded', 'Run', null],
      ),
    );
    // R20 ran again and got R19's recorded output.
    const r20 = repaired.steps[19]!.output as { input: unknown };
    assert.equal(r20.input, 19);
  });

  // Last: it shuts this file's workers down.
  it('while no worker answers, status shows the last one the API read, saying as of when', async () => {
    const flow = await createFlow(engine.api, {
      First: { processor: P, next: ['Long'], configuration: { output: 1 } },
      Long: { processor: P, configuration: { delayMs: 60_000 }, timeouts: { heartbeatMs: 3_000 } },
    });
    await engine.api.request('POST', `/api/Orchestration/start/${flow.flowId}`, {});
    const seen = await eventually('Long running', async () => {
      const status = await engine.api.request<RunSummary>('GET', `/api/Orchestration/status/${flow.flowId}`);
      return status.body.steps?.find((s) => s.name === 'Long')?.status === 'Running'
        ? status.body
        : undefined;
    });
    await engine.stopWorkers();
    const status = await engine.api.request<RunSummary>('GET', `/api/Orchestration/status/${flow.flowId}`);
    assert.equal(status.status, 200, JSON.stringify(status.body));
    assert.match(
      status.body.error?.message ?? '',
      /^no worker answered the status query; showing the status as of \d{4}-/,
    );
    assert.deepEqual(status.body.steps, seen.steps, 'the steps as last read, not none');
    assert.equal(status.body.runId, seen.runId);
    const terminated = await engine.api.request(
      'POST',
      `/api/Orchestration/stop/${flow.flowId}?terminate=true`,
    );
    assert.equal(terminated.status, 200, JSON.stringify(terminated.body));
  });
});
