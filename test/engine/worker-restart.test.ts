/**
 * A processor worker process killed mid-step (SIGKILL: no drain) and started again: the step's heartbeat times out,
 * Temporal retries it on the new worker, and the run completes.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { workerProcessEnv } from '../support/worker-env';
import { PROJECT_ROOT } from '../../infra/config';
import {
  createFlow,
  eventually,
  startRun,
  startTestEngine,
  stepNamed,
  waitForRun,
  type TestEngine,
} from '../support/engine';
import { unique } from '../support/fixtures';

const WORKER = path.join(PROJECT_ROOT, 'test', 'fixtures', 'scripted-processor-worker.ts');

interface WorkerProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts a processor worker process hosting the scripted processor `name`; resolves once it polls. */
async function startWorkerProcess(name: string, databaseUrl: string): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER, name], {
    cwd: PROJECT_ROOT,
    env: workerProcessEnv(databaseUrl, 'debug'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const worker = { child, output: () => output, exited };
  await eventually(
    `worker ${name} to be ready`,
    () => {
      if (child.exitCode !== null) assert.fail(`worker exited with ${child.exitCode}: ${output}`);
      return output.includes('processor worker ready') ? true : undefined;
    },
    60_000,
  );
  return worker;
}

/** The attempts of the step-log lines with this message in a worker's JSON log output. */
function logged(output: string, message: string): number[] {
  return output
    .split('\n')
    .flatMap((line): Array<{ msg?: string; attempt?: number }> => {
      try {
        return [JSON.parse(line) as { msg?: string; attempt?: number }];
      } catch {
        return []; // not a log line (or one cut short by SIGKILL)
      }
    })
    .filter((entry) => entry.msg === message)
    .map((entry) => entry.attempt ?? -1);
}

describe('a processor worker killed mid-step', () => {
  let engine: TestEngine;
  const children: ChildProcess[] = [];
  before(async () => {
    // No in-process processor workers: the step runs only in the child processes.
    engine = await startTestEngine([]);
  });
  after(async () => {
    for (const child of children)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await engine.close();
  });

  it('is retried on a restarted worker, and the run completes', async () => {
    const name = `scripted-${unique()}`;
    // The first worker registers the processor, so the flow can refer to it.
    const first = await startWorkerProcess(name, engine.api.database.url);
    children.push(first.child);
    const flow = await createFlow(engine.api, {
      Long: {
        processor: name,
        configuration: { delayMs: 3_000, output: { done: true } },
        timeouts: { heartbeatMs: 2_000, startToCloseMs: 60_000 },
        retryPolicy: { maximumAttempts: 5, initialIntervalMs: 100 },
      },
    });
    const started = await startRun(engine.api, flow.flowId);

    // Kill the worker once the step is running there (it has heartbeated).
    const handle = engine.client.workflow.getHandle(started.workflowId, started.runId);
    await eventually('the step to heartbeat on the first worker', async () => {
      const pending = (await handle.describe()).raw.pendingActivities?.[0];
      return pending?.lastHeartbeatTime ? pending : undefined;
    });
    first.child.kill('SIGKILL');
    assert.equal(await first.exited, null, 'killed by a signal, not exited');

    const second = await startWorkerProcess(name, engine.api.database.url);
    children.push(second.child);
    const summary = await waitForRun(engine.api, flow.flowId);
    assert.equal(summary.runId, started.runId);
    assert.equal(summary.status, 'Completed');
    const step = stepNamed(summary, 'Long');
    assert.equal(step.status, 'Succeeded');
    assert.deepEqual(step.output, { done: true });
    // Attempt 1 started on the first worker and died with it; the second worker completed the attempt status counts.
    assert.deepEqual(logged(first.output(), 'processor started'), [1]);
    assert.deepEqual(logged(first.output(), 'processor completed'), []);
    assert.ok(step.attempts >= 2, `attempts ${step.attempts}`);
    assert.deepEqual(logged(second.output(), 'processor completed'), [step.attempts]);
    assert.match(second.output(), /"outcome":"verified"/);

    second.child.kill('SIGTERM');
    assert.equal(await second.exited, 0, second.output());
  });
});
