/* eslint-disable no-control-regex -- the output's terminal colour codes are asserted */
/**
 * flowctl as a user runs it: a subprocess (`bin/flowctl.cjs`) against the real API, Postgres and Temporal. Apply and
 * re-apply, validate offline with file:line errors, run --wait (lines per step; a progress bar on a pseudo-terminal;
 * JSON with -o json; exit codes by outcome), export, keys, and the exit code of a refused credential. Run control is in `run-control.test.ts`.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { delayProcessor, transformProcessor } from '../../activities/processors';
import type { RunSummary } from '../../domain/flow-types';
import { PROJECT_ROOT } from '../../infra/config';
import { findFreePort } from '../../infra/ports';
import { startTestEngine, type TestEngine } from '../support/engine';
import { unique } from '../support/fixtures';
import { BIN, flowctl, flowctlInTty } from '../support/flowctl';

describe('flowctl', () => {
  const processor = { ...transformProcessor, name: `transform-${unique()}` };
  const delay = { ...delayProcessor, name: `delay-${unique()}` };
  let engine: TestEngine;
  let dir: string;
  let env: Record<string, string>;
  const p = `cli-${unique()}`;

  const bundle = (expression = '$uppercase(greeting)') => `# a greeting flow
kind: Step
name: ${p}-Shout
version: "1.0"
processor: ${processor.name}@${processor.version}
next: [${p}-Wait@1.0]
configuration: { expression: '{ "greeting": ${expression.replace(/'/g, "''")} }' }
---
kind: Step
name: ${p}-Wait
version: "1.0"
processor: ${processor.name}@${processor.version}
configuration: { expression: "greeting & '!'" }
---
kind: Workflow
name: ${p}-Greeting
version: "1.0"
steps: [${p}-Shout@1.0, ${p}-Wait@1.0]
---
kind: OrchestratedFlow
name: ${p}-GreetingFlow
version: "1.0"
workflow: ${p}-Greeting@1.0
`;

  before(async () => {
    engine = await startTestEngine([processor, delay]);
    dir = await mkdtemp(path.join(tmpdir(), 'flowctl-'));
    env = {
      FLOW_API_URL: engine.api.url,
      FLOW_API_KEY: await engine.api.keyOf('editor'),
      FLOWCTL_CONFIG: path.join(dir, 'config.yaml'),
    };
    await writeFile(path.join(dir, 'greeting.yaml'), bundle());
  });
  after(async () => {
    await engine?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('applies a bundle with a plan, then finds nothing to do', async () => {
    const first = await flowctl(['apply', '-f', path.join(dir, 'greeting.yaml')], env);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^ACTION\s+KIND\s+NAME\s+CHANGED FIELDS$/m);
    assert.match(first.stdout, new RegExp(`^create\\s+Step\\s+${p}-Shout@1.0`, 'm'));
    assert.match(first.stdout, /Applied: 4 created, 0 updated, 0 unchanged/);
    const again = await flowctl(['apply', '-f', dir], env);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /Nothing to do: 0 to create, 0 to update, 4 unchanged/);
    const json = await flowctl(['apply', '-f', dir, '--dry-run', '-o', 'json'], env);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual((JSON.parse(json.stdout) as { summary: object }).summary, {
      create: 0,
      update: 0,
      unchanged: 4,
      delete: 0,
    });
  });

  it('runs a flow and follows it to the end: a line per step, exit 0', async () => {
    const result = await flowctl(
      ['run', `${p}-GreetingFlow@1.0`, '--input', '{"greeting":"hi"}', '--wait'],
      env,
    );
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, new RegExp(`✔ ${p}-Shout  Succeeded`));
    assert.match(result.stdout, new RegExp(`✔ ${p}-Wait  Succeeded`));
    assert.match(result.stdout, /Run [0-9a-f-]{36} Completed in [\d.]+ m?s: 2\/2 steps decided/);
    assert.doesNotMatch(result.stdout, /\u001b\[/, 'no colours when stdout is not a terminal');

    const json = await flowctl(
      ['run', `${p}-GreetingFlow@1.0`, '--input', '{"greeting":"yo"}', '--wait', '-o', 'json'],
      env,
    );
    assert.equal(json.code, 0, json.stderr);
    const run = JSON.parse(json.stdout) as RunSummary;
    assert.equal(run.status, 'Completed');
    assert.deepEqual(run.steps.at(-1)?.output, 'YO!');
  });

  it('shows a progress bar and colours on a terminal', async () => {
    const result = await flowctlInTty(
      ['run', `${p}-GreetingFlow@1.0`, '--input', '{"greeting":"tty"}', '--wait'],
      env,
    );
    assert.equal(result.code, 0, result.stdout);
    assert.match(result.stdout, /\u001b\[32m✔\u001b\[0m/, 'a green mark');
    assert.match(result.stdout, /\[#+-*\] \d\/2 steps/, 'the progress bar');
    assert.match(result.stdout, /Completed/);
  });

  it('exits 1 for a failed run, naming the error', async () => {
    const failing = path.join(dir, 'failing.yaml');
    await writeFile(failing, bundle('$error("no greeting today")').replaceAll(`${p}-`, `${p}-f-`));
    assert.equal((await flowctl(['apply', '-f', failing], env)).code, 0);
    const result = await flowctl(['run', `${p}-f-GreetingFlow@1.0`, '--wait'], env);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stdout, new RegExp(`✖ ${p}-f-Shout  Failed .*no greeting today`));
    assert.match(result.stdout, /Run [0-9a-f-]{36} Failed/);
  });

  it('validates offline, pointing at file and line; the API is not needed', async () => {
    const offline = { ...env, FLOW_API_URL: `http://127.0.0.1:${await findFreePort()}` };
    assert.equal((await flowctl(['validate', '-f', path.join(dir, 'greeting.yaml')], offline)).code, 0);
    const broken = path.join(dir, 'broken.yaml');
    await writeFile(broken, bundle().replace(`next: [${p}-Wait@1.0]`, `next: [${p}-Wait@1.0, not-a-ref]`));
    const result = await flowctl(['validate', '-f', broken], offline);
    assert.equal(result.code, 1, result.stdout);
    assert.match(
      result.stderr,
      new RegExp(`broken.yaml:6  Step ${p}-Shout@1.0  next\\[1\\]: must be name@version`),
    );
    // apply refuses it before calling the API, the same way.
    const refused = await flowctl(['apply', '-f', broken], offline);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /broken.yaml:6/);
    await rm(broken);
  });

  it('exports YAML that re-applies as unchanged', async () => {
    const out = path.join(dir, 'exported.yaml');
    const result = await flowctl(['export', `${p}-GreetingFlow@1.0`, '--to', out], env);
    assert.equal(result.code, 0, result.stderr);
    const text = await readFile(out, 'utf8');
    const kinds = text.split(/^---$/m).map((doc) => (parse(doc) as { kind: string }).kind);
    // The processor's schemas first (as many as it has), then what refers to them.
    assert.deepEqual(kinds.slice(-5), ['Processor', 'Step', 'Step', 'Workflow', 'OrchestratedFlow']);
    assert.ok(kinds.length > 5 && kinds.slice(0, -5).every((kind) => kind === 'Schema'), kinds.join(', '));
    const reapplied = await flowctl(['apply', '-f', out], env);
    assert.equal(reapplied.code, 0, reapplied.stderr);
    assert.match(reapplied.stdout, /Nothing to do/);
  });

  it('manages API keys as an admin, and a bad key exits 4 with the API message', async () => {
    const admin = { ...env, FLOW_API_KEY: await engine.api.keyOf('admin') };
    const created = await flowctl(['keys', 'create', `ci-${p}`, '--role', 'viewer', '-o', 'json'], admin);
    assert.equal(created.code, 0, created.stderr);
    const key = JSON.parse(created.stdout) as { id: string; key: string };
    const listed = await flowctl(['keys', 'list'], admin);
    assert.match(listed.stdout, new RegExp(`${key.id}\\s+ci-${p}\\s+viewer`));
    const asViewer = await flowctl(['get', 'steps', '-o', 'json'], { ...env, FLOW_API_KEY: key.key });
    assert.equal(asViewer.code, 0, asViewer.stderr);
    assert.equal((await flowctl(['keys', 'revoke', key.id], admin)).code, 0);

    const bad = await flowctl(['get', 'steps'], { ...env, FLOW_API_KEY: 'fo_not-a-key' });
    assert.equal(bad.code, 4);
    assert.match(bad.stderr, /^flowctl: .*(API key|credential)/im);
    assert.doesNotMatch(bad.stderr, /\bat .+:\d+:\d+/, 'no stack');
    const unreachable = await flowctl(['get', 'steps'], {
      ...env,
      FLOW_API_URL: `http://127.0.0.1:${await findFreePort()}`,
    });
    assert.equal(unreachable.code, 4);
    assert.match(unreachable.stderr, /cannot reach the API/);
  });

  it('logs in: checks the key and stores it in a 0600 profile used afterwards', async () => {
    const { FLOW_API_KEY: key, ...withoutKey } = env;
    const result = await flowctl(['login', '--api-url', engine.api.url], withoutKey, `${key}\n`);
    assert.equal(result.code, 0, result.stderr);
    assert.equal((await stat(env.FLOWCTL_CONFIG!)).mode & 0o777, 0o600);
    const viaProfile = await flowctl(['get', 'workflow', `${p}-Greeting@1.0`, '-o', 'json'], {
      FLOWCTL_CONFIG: env.FLOWCTL_CONFIG!,
    });
    assert.equal(viaProfile.code, 0, viaProfile.stderr);
    assert.equal((JSON.parse(viaProfile.stdout) as { name: string }).name, `${p}-Greeting`);
  });

  it('detaches on Ctrl-C during --wait: the run goes on, status --wait follows it again', async () => {
    const slow = path.join(dir, 'slow.yaml');
    await writeFile(
      slow,
      [
        `kind: Step\nname: ${p}-Slow\nversion: "1"\nprocessor: ${delay.name}@${delay.version}`,
        'configuration: { durationMs: 3000 }',
        `---\nkind: Workflow\nname: ${p}-SlowW\nversion: "1"\nsteps: [${p}-Slow@1]`,
        `---\nkind: OrchestratedFlow\nname: ${p}-SlowFlow\nversion: "1"\nworkflow: ${p}-SlowW@1\n`,
      ].join('\n'),
    );
    assert.equal((await flowctl(['apply', '-f', slow], env)).code, 0);
    const child = spawn(process.execPath, [BIN, 'run', `${p}-SlowFlow@1`, '--wait'], {
      cwd: PROJECT_ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    await new Promise<void>((resolve) =>
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes('Running')) resolve();
      }),
    );
    child.kill('SIGINT');
    assert.equal(await exited, 130, stdout + stderr);
    const hint = /Follow it again with: flowctl status (\S+) --run ([0-9a-f-]{36}) --wait/.exec(stderr);
    assert.ok(hint, stderr);
    assert.match(stderr, /Detached: run [0-9a-f-]{36} goes on/);
    const followed = await flowctl(['status', hint[1]!, '--run', hint[2]!, '--wait'], env);
    assert.equal(followed.code, 0, followed.stdout + followed.stderr);
    assert.match(followed.stdout, new RegExp(`✔ ${p}-Slow  Succeeded`));
    assert.match(followed.stdout, /Completed/);
  });

  it('completes commands and options in bash', async () => {
    const script = await flowctl(['completion'], env);
    assert.equal(script.code, 0, script.stderr);
    const complete = (words: string[]) =>
      new Promise<string>((resolve, reject) =>
        execFile(
          'bash',
          [
            '-c',
            `${script.stdout}\nCOMP_WORDS=(${words.join(' ')}); COMP_CWORD=${words.length - 1}; _flowctl; echo "\${COMPREPLY[@]}"`,
          ],
          (error, stdout) => (error ? reject(new Error(error.message)) : resolve(stdout.trim())),
        ),
      );
    assert.equal(await complete(['flowctl', 'ap']), 'apply');
    assert.equal(await complete(['flowctl', 'run', '--w']), '--wait');
    assert.equal(await complete(['flowctl', 'keys', 'rev']), 'revoke');
  });

  it('draws the DAG as Mermaid, and answers usage errors with exit 4', async () => {
    const mermaid = await flowctl(['graph', `${p}-GreetingFlow@1.0`, '--format', 'mermaid'], env);
    assert.equal(mermaid.code, 0, mermaid.stderr);
    assert.match(mermaid.stdout, /^flowchart LR$/m);
    assert.match(mermaid.stdout, /s0 --> s1/);
    const tree = await flowctl(['graph', `${p}-GreetingFlow@1.0`], env);
    assert.match(tree.stdout, new RegExp(`● ${p}-Shout@1.0\\n  └─ ${p}-Wait@1.0`));
    assert.equal((await flowctl(['run'], env)).code, 4);
    assert.equal((await flowctl(['get', 'widgets'], env)).code, 4);
  });
});
