/**
 * `npm run dev` after a crash (issue 14 §4): its Temporal dev server has a process group of its own, so a `kill -9`
 * of the dev process group leaves it running. The next `npm run dev` must replace it (pid file in DATA_DIR, checked
 * against the live process) rather than reuse it, the server must log to a file (never into a pipe whose reader is
 * gone), flows must keep running, a healthy start prints no warning, and Ctrl-C leaves no orphan.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { loadTestConfig, PROJECT_ROOT } from '../../infra/config';
import { findFreePort } from '../../infra/ports';
import { apiClient } from '../support/api';
import { eventually } from '../support/flows';

interface Dev {
  child: ChildProcess;
  output: () => string;
  /** How it ended: an exit code, or the signal npm passes on once its script ended (Ctrl-C). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm run dev after a crash', () => {
  let dataDir: string;
  const devs: Dev[] = [];
  after(async () => {
    for (const dev of devs)
      if (dev.child.exitCode === null && dev.child.pid) {
        try {
          process.kill(-dev.child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    // Whatever server the last run left behind.
    const pid = await temporalPid().catch(() => undefined);
    if (pid && alive(pid)) process.kill(-pid, 'SIGKILL');
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const temporalPid = async () =>
    (JSON.parse(await readFile(path.join(dataDir, 'temporal-dev.pid'), 'utf8')) as { pid: number }).pid;

  /**
   * Starts `npm run dev` as a terminal would (its own process group: Ctrl-C reaches npm, the shell and node at once)
   * and waits for its banner. Through npm, not node alone: under the `tsx` command the script's shutdown was cut
   * short and the dev server left behind.
   */
  async function startDev(env: NodeJS.ProcessEnv): Promise<Dev> {
    const child = spawn('npm', ['run', '--silent', 'dev'], {
      cwd: PROJECT_ROOT,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('close', (code, signal) => resolve({ code, signal })),
    );
    const dev = { child, output: () => output, exited };
    devs.push(dev);
    await eventually(
      'npm run dev to be running',
      () => {
        if (child.exitCode !== null) assert.fail(`npm run dev exited ${child.exitCode}:\n${output}`);
        return output.includes('FlowOrchestrator is running') ? true : undefined;
      },
      240_000,
    );
    return dev;
  }

  it('replaces the dev server a killed npm run dev left running, keeps running flows, and leaves nothing behind', async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'flow-dev-'));
    // Embedded Postgres runs as the unprivileged `postgres` user when the tests run as root: it must reach DATA_DIR.
    await chmod(dataDir, 0o755);
    const port = await findFreePort();
    const inherited = Object.fromEntries(
      Object.entries(process.env).filter(
        ([name]) =>
          !name.startsWith('OTEL_') &&
          ![
            'DATABASE_URL',
            'TEMPORAL_ADDRESS',
            'PAYLOAD_KEYS',
            'PAYLOAD_ACTIVE_KEY',
            'FLOW_ADMIN_API_KEY',
          ].includes(name),
      ),
    );
    const env: NodeJS.ProcessEnv = {
      ...inherited,
      DATA_DIR: dataDir,
      PORT: String(port),
      DEV_POSTGRES_PORT: String(await findFreePort()),
      DEV_TEMPORAL_PORT: String(await findFreePort()),
      DEV_TEMPORAL_UI_PORT: String(await findFreePort()),
      METRICS_PORT: '0',
      TEMPORAL_CLI: loadTestConfig().TEMPORAL_CLI,
      LOG_LEVEL: 'info',
    };

    const first = await startDev(env);
    const orphan = await temporalPid();
    assert.ok(alive(orphan));
    // A run is open when the crash comes: it must complete after the restart.
    const key = (await readFile(path.join(dataDir, 'admin-api-key'), 'utf8')).trim();
    const api = apiClient(`http://127.0.0.1:${port}`, key);
    const slow = [
      {
        kind: 'Step',
        name: 'Slow',
        version: '1',
        processor: 'delay@1.0.0',
        configuration: { durationMs: 8_000 },
      },
      { kind: 'Workflow', name: 'SlowWorkflow', version: '1', steps: ['Slow@1'] },
      { kind: 'OrchestratedFlow', name: 'SlowFlow', version: '1', workflow: 'SlowWorkflow@1' },
    ];
    assert.equal((await api.request('POST', '/api/Bundle/apply', { documents: slow })).status, 200);
    const slowFlow = (await api.request('GET', '/api/OrchestratedFlow/composite/1/SlowFlow')).body
      .id as string;
    const open = await api.request('POST', `/api/Orchestration/start/${slowFlow}`, {});
    assert.equal(open.status, 202, JSON.stringify(open.body));
    // kill -9 of the whole npm run dev process group: everything in it dies, the dev server (its own group) not.
    process.kill(-first.child.pid!, 'SIGKILL');
    await first.exited;
    assert.ok(
      alive(orphan),
      'the dev server should have survived the kill (that is the case this test is about)',
    );

    const second = await startDev(env);
    const replacement = await temporalPid();
    assert.notEqual(replacement, orphan);
    assert.equal(alive(orphan), false, 'the leftover dev server is still running');
    assert.match(second.output(), /stopped the Temporal dev server an earlier npm run dev left running/);
    assert.match(second.output(), new RegExp(`Temporal log +${path.join(dataDir, 'logs', 'temporal.log')}`));
    // A healthy start warns about nothing (pino level 40 and up).
    const warnings = second
      .output()
      .split('\n')
      .filter((line) => {
        try {
          return (JSON.parse(line) as { level?: number }).level! >= 40;
        } catch {
          return false;
        }
      });
    assert.deepEqual(warnings, []);

    // The run open at the crash completes on the new stack.
    const resumed = await eventually(
      'the run open at the crash to complete',
      async () => {
        const status = await api.request('GET', `/api/Orchestration/status/${slowFlow}`);
        return status.body?.status !== 'Running' ? status.body : undefined;
      },
      60_000,
    );
    assert.deepEqual([resumed.runId, resumed.status], [open.body.runId, 'Completed']);

    // Flows keep running for a while, the dev server writing its log meanwhile.
    const bundle = await readFile(path.join(PROJECT_ROOT, 'examples', 'greeting.yaml'), 'utf8');
    const applied = await api.request('POST', '/api/Bundle/apply', bundle, {
      'content-type': 'application/yaml',
    });
    assert.equal(applied.status, 200, JSON.stringify(applied.body));
    const flow = await api.request('GET', '/api/OrchestratedFlow/composite/1.0/GreetingFlow');
    assert.equal(flow.status, 200, JSON.stringify(flow.body));
    const until = Date.now() + 20_000;
    let runs = 0;
    while (Date.now() < until) {
      const started = await api.request('POST', `/api/Orchestration/start/${flow.body.id}`, {
        input: { greeting: `hi ${runs}` },
      });
      assert.equal(started.status, 202, JSON.stringify(started.body));
      const done = await eventually('the run to close', async () => {
        const status = await api.request('GET', `/api/Orchestration/status/${flow.body.id}`);
        return status.body?.runId === started.body.runId && status.body.status !== 'Running'
          ? status.body
          : undefined;
      });
      assert.equal(done.status, 'Completed', JSON.stringify(done));
      runs++;
    }
    assert.ok(runs >= 2, `only ${runs} runs completed`);
    assert.equal(alive(replacement), true);
    assert.ok(
      (await stat(path.join(dataDir, 'logs', 'temporal.log'))).size > 0,
      'the dev server logged nothing',
    );

    // Ctrl-C: everything stops, the dev server too, and its pid file goes.
    process.kill(-second.child.pid!, 'SIGINT');
    const ended = await second.exited;
    assert.ok(
      ended.code === 0 || ended.signal === 'SIGINT',
      `${JSON.stringify(ended)}\n${second.output().slice(-2000)}`,
    );
    assert.match(second.output(), /"reason":"SIGINT","msg":"stopping"/, 'dev.ts stopped in order');
    for (let i = 0; i < 50 && alive(replacement); i++) await sleep(100);
    assert.equal(alive(replacement), false, 'Ctrl-C left the dev server running');
    await assert.rejects(readFile(path.join(dataDir, 'temporal-dev.pid'), 'utf8'), { code: 'ENOENT' });
  });
});
