/**
 * flowctl's run control as a user runs it (a subprocess against the real API, Postgres and Temporal): pause /
 * resume, rerun after a failure (the steps before it not called again) and from a named step, a compensating stop,
 * and the API's refusals as exit codes.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import type { RunSummary } from '../../domain/flow-types';
import { PROJECT_ROOT } from '../../infra/config';
import { callsSeen, outages, scriptedProcessor } from '../fixtures/scripted-processor';
import { eventually, startTestEngine, type TestEngine } from '../support/engine';
import { unique } from '../support/fixtures';
import { BIN, flowctl } from '../support/flowctl';

describe('flowctl run control', () => {
  const scripted = scriptedProcessor(`scripted-${unique()}`);
  let engine: TestEngine;
  let dir: string;
  let env: Record<string, string>;
  const p = `cli-${unique()}`;

  before(async () => {
    engine = await startTestEngine([scripted]);
    dir = await mkdtemp(path.join(tmpdir(), 'flowctl-control-'));
    env = {
      FLOW_API_URL: engine.api.url,
      FLOW_API_KEY: await engine.api.keyOf('editor'),
      FLOWCTL_CONFIG: path.join(dir, 'config.yaml'),
    };
  });
  after(async () => {
    await engine?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /**
   * Applies a flow `${name}Flow@1` of scripted steps `${name}-${key}`, each `next` the following one; answers the
   * flow's reference.
   */
  async function applyChain(name: string, steps: Record<string, Record<string, unknown>>): Promise<string> {
    const keys = Object.keys(steps);
    const ref = (key: string) => `${name}-${key}@1`;
    const processorRef = `${scripted.name}@${scripted.version}`;
    const documents = [
      ...keys.map((key, index) => {
        const { compensation, ...fields } = steps[key]!;
        return {
          kind: 'Step',
          name: `${name}-${key}`,
          version: '1',
          processor: processorRef,
          ...(keys[index + 1] ? { next: [ref(keys[index + 1]!)] } : {}),
          ...fields,
          ...(compensation ? { compensation: { processor: processorRef } } : {}),
        };
      }),
      { kind: 'Workflow', name: `${name}W`, version: '1', steps: keys.map(ref) },
      { kind: 'OrchestratedFlow', name: `${name}Flow`, version: '1', workflow: `${name}W@1` },
    ];
    const file = path.join(dir, `${name}.yaml`);
    await writeFile(file, documents.map((d) => stringify(d)).join('---\n'));
    const applied = await flowctl(['apply', '-f', file], env);
    assert.equal(applied.code, 0, applied.stdout + applied.stderr);
    return `${name}Flow@1`;
  }
  /**
   * The flow's latest run, once `test` holds: polled through the API directly, as flowctl starting up each time
   * would be too slow to see a step running.
   */
  const latestWhere = async (flow: string, what: string, test: (run: RunSummary) => boolean) => {
    const [name, version] = flow.split('@') as [string, string];
    const { body: found } = await engine.api.request<{ id: string }>(
      'GET',
      `/api/OrchestratedFlow/composite/${version}/${name}`,
    );
    return eventually(what, async () => {
      const { status, body } = await engine.api.request<RunSummary>(
        'GET',
        `/api/Orchestration/status/${found.id}`,
      );
      return status === 200 && test(body) ? body : undefined;
    });
  };
  /** A step's status in a run (undefined before the run lists its steps). */
  const statusOf = (run: RunSummary, step: string) => run.steps.find((s) => s.name === step)?.status;
  /** The steps one run called, in the order they started (`callsSeen` holds `runId/stepName`). */
  const callsOf = (runId: string) =>
    callsSeen.filter((c) => c.startsWith(`${runId}/`)).map((c) => c.slice(runId.length + 1));
  const slow = (delayMs: number) => ({ configuration: { delayMs }, timeouts: { heartbeatMs: 3_000 } });

  it('pauses a running flow (status shows Paused, by whom, why), then resumes it to completion', async () => {
    const name = `${p}-pause`;
    const flow = await applyChain(name, { A: slow(8_000), B: slow(1_500), C: {} });
    const started = await flowctl(['run', flow, '-o', 'json'], env);
    assert.equal(started.code, 0, started.stderr);
    const { runId } = JSON.parse(started.stdout) as { runId: string };
    await latestWhere(flow, 'A running', (run) => statusOf(run, `${name}-A`) === 'Running');

    const paused = await flowctl(['pause', flow, '--reason', 'partner maintenance'], env);
    assert.equal(paused.code, 0, paused.stdout + paused.stderr);
    assert.match(paused.stdout, new RegExp(`^Run ${runId} of ${flow}: Paused \\(manual, started `, 'm'));
    assert.match(
      paused.stdout,
      /^ {2}Paused by test-editor at \d{4}-\d\d-\d\dT[\d:.]+Z: partner maintenance$/m,
    );

    // A finishes and is recorded; B does not start while the run is paused.
    await latestWhere(flow, 'A recorded', (run) => statusOf(run, `${name}-A`) === 'Succeeded');
    const held = await flowctl(['status', flow], env);
    assert.equal(held.code, 0, held.stderr);
    assert.match(held.stdout, new RegExp(`^Run ${runId} of ${flow}: Paused `, 'm'));
    assert.match(held.stdout, /Paused by test-editor at .*: partner maintenance/);
    assert.match(held.stdout, new RegExp(`✔ ${name}-A  Succeeded`));
    assert.match(held.stdout, new RegExp(`· ${name}-B  Pending`));
    assert.deepEqual(callsOf(runId), [`${name}-A`]);
    const again = await flowctl(['pause', flow], env);
    assert.equal(again.code, 1, again.stdout);
    assert.match(again.stderr, /^flowctl: The run refused to pause: /m);

    // Following the paused run shows the pause, then the resume, then the end.
    const follower = spawn(process.execPath, [BIN, 'status', flow, '--wait'], {
      cwd: PROJECT_ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    });
    let followed = '';
    let followErrors = '';
    follower.stderr.on('data', (chunk: Buffer) => (followErrors += chunk.toString()));
    const closed = new Promise<number | null>((resolve) => follower.once('close', resolve));
    const pauseShown = new Promise<void>((resolve) =>
      follower.stdout.on('data', (chunk: Buffer) => {
        followed += chunk.toString();
        if (followed.includes('Paused by')) resolve();
      }),
    );
    await Promise.race([pauseShown, closed]);
    assert.match(followed, /^Paused by test-editor at .*: partner maintenance$/m, followErrors);
    const resumed = await flowctl(['resume', flow, '--run', runId], env);
    assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
    assert.match(resumed.stdout, new RegExp(`^Run ${runId} of ${flow}: Running `, 'm'));
    assert.doesNotMatch(resumed.stdout, /Paused by/);
    assert.equal(await closed, 0, followed);
    // In this order: the pause, the resume, then the steps it let start.
    const order = ['Paused by', '\nResumed\n', `▶ ${name}-B  Running`, `✔ ${name}-C  Succeeded`];
    const at = order.map((text) => followed.indexOf(text));
    assert.ok(
      at.every((index, i) => index >= 0 && index > (at[i - 1] ?? -1)),
      `${order.join(' < ')} in:\n${followed}`,
    );
    assert.match(followed, new RegExp(`Run ${runId} Completed in [\\d.]+ m?s: 3/3 steps decided`));
    assert.deepEqual(callsOf(runId), [`${name}-A`, `${name}-B`, `${name}-C`]);

    const none = await flowctl(['resume', flow], env);
    assert.equal(none.code, 1, none.stdout);
    assert.match(none.stderr, /^flowctl: Flow [0-9a-f-]{36} has no open run$/m);
  });

  it('reruns a failed run once the partner is back: only the failed step on, the others reused', async () => {
    const name = `${p}-rerun`;
    const partner = `partner-${unique()}`;
    // Five steps; the fourth calls the partner.
    const flow = await applyChain(name, {
      Fetch: {},
      Reserve: {},
      Enrich: {},
      Deliver: { configuration: { partner } },
      Notify: {},
    });
    outages.add(partner);
    let failedRunId: string;
    try {
      const failed = await flowctl(['run', flow, '--input', '{"order":7}', '--wait'], env);
      assert.equal(failed.code, 1, failed.stdout + failed.stderr);
      assert.match(
        failed.stdout,
        new RegExp(`✖ ${name}-Deliver  Failed .*PartnerDown: partner ${partner} is down`),
      );
      failedRunId = /^Run ([0-9a-f-]{36}) Failed/m.exec(failed.stdout)![1]!;
      assert.deepEqual(callsOf(failedRunId), [
        `${name}-Fetch`,
        `${name}-Reserve`,
        `${name}-Enrich`,
        `${name}-Deliver`,
      ]);
    } finally {
      outages.delete(partner);
    }

    const rerun = await flowctl(['rerun', flow, '--wait'], env);
    assert.equal(rerun.code, 0, rerun.stdout + rerun.stderr);
    const rerunId = new RegExp(`^Rerun ([0-9a-f-]{36}) of ${flow}: rerun of ${failedRunId}$`, 'm').exec(
      rerun.stdout,
    )?.[1];
    assert.ok(rerunId, rerun.stdout);
    assert.match(
      rerun.stdout,
      new RegExp(`^ {2}reused: ${name}-Fetch, ${name}-Reserve, ${name}-Enrich$`, 'm'),
    );
    assert.match(rerun.stdout, new RegExp(`^ {2}rerun: {2}${name}-Deliver, ${name}-Notify$`, 'm'));
    assert.match(rerun.stdout, new RegExp(`✔ ${name}-Fetch  Succeeded .*reused from run ${failedRunId}`));
    assert.match(rerun.stdout, new RegExp(`✔ ${name}-Notify  Succeeded`));
    assert.match(rerun.stdout, new RegExp(`Run ${rerunId} Completed in [\\d.]+ m?s: 5/5 steps decided`));
    assert.deepEqual(
      callsOf(rerunId),
      [`${name}-Deliver`, `${name}-Notify`],
      'Fetch, Reserve and Enrich not called again',
    );
    const shown = await flowctl(['status', flow], env);
    assert.match(
      shown.stdout,
      new RegExp(`^Run ${rerunId} of ${flow}: Completed \\(rerun of ${failedRunId}, `, 'm'),
    );
    const listed = await flowctl(['runs', flow], env);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`^${rerunId}  Completed  rerun of ${failedRunId}  `, 'm'));
    assert.match(listed.stdout, new RegExp(`^${failedRunId}  Failed {5}manual  `, 'm'));

    // From a step named on the command line: that step and everything after it run again.
    const from = await flowctl(['rerun', flow, failedRunId, '--from', `${name}-Enrich`, '--wait'], env);
    assert.equal(from.code, 0, from.stdout + from.stderr);
    const fromId = /^Rerun ([0-9a-f-]{36}) of /m.exec(from.stdout)![1]!;
    assert.match(from.stdout, new RegExp(`rerun of ${failedRunId} from ${name}-Enrich$`, 'm'));
    assert.match(from.stdout, new RegExp(`^ {2}reused: ${name}-Fetch, ${name}-Reserve$`, 'm'));
    assert.match(
      from.stdout,
      new RegExp(`^ {2}rerun: {2}${name}-Enrich, ${name}-Deliver, ${name}-Notify$`, 'm'),
    );
    assert.match(from.stdout, /Completed/);
    assert.deepEqual(callsOf(fromId), [`${name}-Enrich`, `${name}-Deliver`, `${name}-Notify`]);

    // JSON for scripts: the API's answer. A rerun of the completed rerun, from its first step, with a new input.
    const inputFile = path.join(dir, 'order.json');
    await writeFile(inputFile, '{"order": 8}');
    const json = await flowctl(
      ['rerun', flow, rerunId, '--from', `${name}-Fetch`, '--input-file', inputFile, '-o', 'json'],
      env,
    );
    assert.equal(json.code, 0, json.stderr);
    const started = JSON.parse(json.stdout) as {
      runId: string;
      rerunOf: { runId: string; fromStepId: string };
      reused: string[];
      rerun: string[];
    };
    assert.equal(started.rerunOf.runId, rerunId);
    assert.match(started.rerunOf.fromStepId, /^[0-9a-f-]{36}$/);
    assert.deepEqual(started.reused, []);
    assert.equal(started.rerun.length, 5);
    const again = await latestWhere(
      flow,
      'the JSON rerun closed',
      (run) => run.runId === started.runId && run.status === 'Completed',
    );
    assert.deepEqual(
      (again.steps.find((step) => step.name === `${name}-Fetch`)?.output as { input: unknown }).input,
      { order: 8 },
    );

    // Usage errors: an unknown step name, two inputs.
    const unknown = await flowctl(['rerun', flow, failedRunId, '--from', 'Nope'], env);
    assert.equal(unknown.code, 4, unknown.stdout);
    assert.match(
      unknown.stderr,
      new RegExp(
        `^flowctl: --from: run ${failedRunId} has no step "Nope" \\(its steps: ${name}-Fetch, `,
        'm',
      ),
    );
    const both = await flowctl(['rerun', flow, '--input', '{}', '--input-file', 'x.json'], env);
    assert.equal(both.code, 4, both.stdout);
    assert.match(both.stderr, /'--input-file <path>' cannot be used with option '--input <json>'/);
  });

  it('refuses to rerun an open run (RunStillOpen), and stops it with compensation', async () => {
    const name = `${p}-open`;
    // Ship outlasts the pause, rerun and stop calls however slow CI is (each a flowctl process); the stop cancels it.
    const flow = await applyChain(name, { Charge: { compensation: true }, Ship: slow(120_000) });
    const started = await flowctl(['run', flow, '-o', 'json'], env);
    assert.equal(started.code, 0, started.stderr);
    const { runId } = JSON.parse(started.stdout) as { runId: string };
    await latestWhere(flow, 'Ship running', (run) => statusOf(run, `${name}-Ship`) === 'Running');

    // A paused run is still open: no rerun; stop works on it.
    const paused = await flowctl(['pause', flow], env);
    assert.equal(paused.code, 0, paused.stdout + paused.stderr);
    const refused = await flowctl(['rerun', flow], env);
    assert.equal(refused.code, 1, refused.stdout);
    assert.match(
      refused.stderr,
      new RegExp(`^flowctl: Run ${runId} is still open: stop it or wait until it closes$`, 'm'),
    );
    assert.match(refused.stderr, /^ {2}runId: only a closed run can be rerun \(closed\)$/m);

    const conflicting = await flowctl(['stop', flow, '--terminate', '--compensate'], env);
    assert.equal(conflicting.code, 4);
    assert.match(conflicting.stderr, /'--compensate' cannot be used with option '--terminate'/);
    const stopped = await flowctl(['stop', flow, '--compensate'], env);
    assert.equal(stopped.code, 0, stopped.stdout + stopped.stderr);
    assert.equal(stopped.stdout, `Orchestration stop requested (compensating): ${runId}\n`);
    // Exit 2 (Cancelled) whether --wait follows the run or finds it closed already.
    const closed = await flowctl(['status', flow, '--run', runId, '--wait'], env);
    assert.equal(closed.code, 2, closed.stdout + closed.stderr);
    assert.match(closed.stdout, /Cancelled/);
    assert.match(closed.stdout, new RegExp(`^ {2}Compensation Completed: ${name}-Charge Succeeded$`, 'm'));
    // Charge ran, then Ship (retried, under load, if a heartbeat came late), then Charge's compensation (the same step
    // name) after the stop.
    const calls = callsOf(runId);
    assert.deepEqual(
      [calls[0], calls.at(-1), calls.filter((c) => c === `${name}-Charge`).length],
      [`${name}-Charge`, `${name}-Charge`, 2],
    );
    assert.ok(calls.slice(1, -1).every((c) => c === `${name}-Ship`) && calls.length >= 3, calls.join(', '));
  });
});
