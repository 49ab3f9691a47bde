/**
 * Every bundle in examples/ applies on the built-in processors as they are (names and versions as `npm run dev`
 * hosts them), and every `# run:` line it documents runs its flow to the end, through flowctl.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createFileProcessor, delayProcessor, transformProcessor } from '../../activities/processors';
import type { RunSummary } from '../../domain/flow-types';
import { loadTestConfig, PROJECT_ROOT } from '../../infra/config';
import { startTestEngine, type TestEngine } from '../support/engine';

const EXAMPLES = path.join(PROJECT_ROOT, 'examples');
const BIN = path.join(PROJECT_ROOT, 'bin', 'flowctl.cjs');

/** Splits a documented command line into arguments: words, and '…' quoted as a shell would. */
function words(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

function flowctl(args: string[], env: Record<string, string>) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: PROJECT_ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, timeout: 60_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

describe('examples', () => {
  let engine: TestEngine;
  let dataRoot: string;
  let env: Record<string, string>;

  before(async () => {
    dataRoot = await mkdtemp(path.join(tmpdir(), 'flow-examples-'));
    // The built-ins' own task queues (processor/transform/1.0.0, …), which other tests' worker processes serve too:
    // in a namespace of its own.
    engine = await startTestEngine([transformProcessor, delayProcessor, createFileProcessor({ dataRoot })], {
      namespace: loadTestConfig().FLOW_TEST_EXAMPLES_NAMESPACE,
    });
    env = {
      FLOW_API_URL: engine.api.url,
      FLOW_API_KEY: await engine.api.keyOf('editor'),
      FLOWCTL_CONFIG: path.join(dataRoot, 'flowctl.yaml'),
    };
  });
  after(async () => {
    await engine?.close();
    await rm(dataRoot, { recursive: true, force: true });
  });

  it('has examples, each documenting how to run it', async () => {
    const files = (await readdir(EXAMPLES)).filter((f) => f.endsWith('.yaml')).sort();
    assert.deepEqual(files, ['fan-out.yaml', 'file-processing.yaml', 'greeting.yaml', 'scheduled.yaml']);
    for (const file of files)
      assert.match(await readFile(path.join(EXAMPLES, file), 'utf8'), /^# run: npx flowctl run /m, file);
  });

  for (const file of ['greeting.yaml', 'file-processing.yaml', 'fan-out.yaml', 'scheduled.yaml'])
    it(`${file} applies, and each documented run completes`, async () => {
      const text = await readFile(path.join(EXAMPLES, file), 'utf8');
      const applied = await flowctl(['apply', '-f', path.join(EXAMPLES, file)], env);
      assert.equal(applied.code, 0, applied.stdout + applied.stderr);
      assert.match(applied.stdout, /Applied: \d+ created/);
      for (const [, command] of text.matchAll(/^# run: npx flowctl (.+)$/gm)) {
        const result = await flowctl([...words(command!), '-o', 'json'], env);
        assert.equal(result.code, 0, `${command}: ${result.stdout}${result.stderr}`);
        const run = JSON.parse(result.stdout) as RunSummary;
        assert.equal(run.status, 'Completed', command);
        if (file === 'fan-out.yaml') {
          const status = Object.fromEntries(run.steps.map((s) => [s.name, s.status]));
          assert.deepEqual(
            [status.Combine, status.Recover],
            command!.includes('"n":-1') ? ['Skipped', 'Succeeded'] : ['Succeeded', 'Skipped'],
          );
        }
        if (file === 'file-processing.yaml')
          assert.equal(run.steps.at(-1)?.output, 'Order A-1: 2 items, total 5');
      }
    });

  it('applies the whole folder at once (its other JSON, tsconfig.json, is not a bundle): all unchanged', async () => {
    const result = await flowctl(['apply', '-f', EXAMPLES], env);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /Nothing to do: 0 to create, 0 to update, 25 unchanged/);
  });

  it('creates the scheduled example’s Temporal Schedule, enabled', async () => {
    const flow = await engine.api.request<{ id: string }>(
      'GET',
      '/api/OrchestratedFlow/composite/1.0/NightlyReport',
    );
    assert.equal(flow.status, 200, JSON.stringify(flow.body));
    const schedule = await engine.api.request<{ paused: boolean; cronExpression: string }>(
      'GET',
      `/api/OrchestratedFlow/${flow.body.id}/schedule`,
    );
    assert.equal(schedule.status, 200, JSON.stringify(schedule.body));
    assert.equal(schedule.body.paused, false, JSON.stringify(schedule.body));
  });
});
