/**
 * The production commands, as the image runs them: compile to JavaScript and pre-bundle the workflows (what
 * `npm run build` does), then run `node …/api/main.js`, `node …/workers/orchestrator.js` and
 * `node …/workers/processor.js transform` as separate processes and run a flow through them over HTTP.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { loadTestConfig, PROJECT_ROOT } from '../../infra/config';
import { findFreePort } from '../../infra/ports';
import { bootstrapAdminSecret, createTestDatabase, type TestDatabase } from '../support/api';
import { eventually } from '../support/flows';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver';

const OUT = path.join(PROJECT_ROOT, '.data', `test-dist-${randomUUID().slice(0, 8)}`);

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${args.join(' ')} exited ${code}:\n${output}`)),
    );
  });
}

interface Role {
  child: ChildProcess;
  output: () => string;
}

function start(script: string, args: string[], env: Record<string, string>): Role {
  const child = spawn(process.execPath, [path.join(OUT, script), ...args], {
    cwd: PROJECT_ROOT,
    // A free operations port each (a running `npm run dev` keeps 9464); no tracing.
    env: {
      PATH: process.env.PATH ?? '',
      LOG_LEVEL: 'warn',
      METRICS_PORT: '0',
      METRICS_HOST: '127.0.0.1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output };
}

function stop(role: Role): Promise<number | null> {
  if (role.child.exitCode !== null) return Promise.resolve(role.child.exitCode);
  return new Promise((resolve) => {
    role.child.once('exit', (code) => resolve(code));
    role.child.kill('SIGTERM');
  });
}

/** The admin key the API role is started with (FLOW_ADMIN_API_KEY), as compose passes it from its env file. */
const ADMIN_KEY = bootstrapAdminSecret();

async function json(url: string, method = 'GET', body?: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(url, {
    method,
    headers: {
      authorization: `Bearer ${ADMIN_KEY}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

describe('compiled build (the image commands)', () => {
  const env = loadTestConfig();
  let database: TestDatabase;
  let roles: Role[] = [];
  let api = '';

  before(async () => {
    await mkdir(OUT, { recursive: true });
    await run(process.execPath, [
      require.resolve('typescript/bin/tsc'),
      '-p',
      'tsconfig.build.json',
      '--outDir',
      OUT,
    ]);
    await run(process.execPath, [path.join(OUT, 'scripts', 'bundle-workflows.js'), OUT]);
    database = await createTestDatabase();
  });

  let receiver: OtlpReceiver | undefined;

  after(async () => {
    await Promise.all(roles.map(stop));
    await receiver?.close();
    await database.drop();
    await rm(OUT, { recursive: true, force: true });
  });

  it('builds JavaScript for every role and a workflow bundle', () => {
    for (const file of [
      'api/main.js',
      'workers/orchestrator.js',
      'workers/processor.js',
      'scripts/migrate.js',
      'workflow-bundle.js',
      'workflow-bundle.untraced.js',
    ])
      assert.ok(existsSync(path.join(OUT, file)), `${file} is missing from the build`);
  });

  it('runs a flow through the API, orchestrator and processor processes, which then stop cleanly', async () => {
    const port = await findFreePort();
    const common = {
      DATABASE_URL: database.url,
      TEMPORAL_ADDRESS: env.TEMPORAL_ADDRESS,
      TEMPORAL_NAMESPACE: env.TEMPORAL_NAMESPACE,
      PAYLOAD_KEYS: env.PAYLOAD_KEYS,
    };
    // The orchestrator traces (so it loads the traced bundle, as in compose); the API and the processor do not.
    receiver = await startOtlpReceiver();
    const traced = {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
    };
    roles = [
      start('api/main.js', [], {
        ...common,
        PORT: String(port),
        HOST: '127.0.0.1',
        FLOW_ADMIN_API_KEY: ADMIN_KEY,
      }),
      start('workers/orchestrator.js', [], { ...common, ...traced }),
      start('workers/processor.js', ['transform'], common),
    ];
    api = `http://127.0.0.1:${port}`;

    let processor: { status: number; body: any } | undefined;
    for (let i = 0; i < 300; i++) {
      const health = await json(`${api}/health/ready`).catch(() => undefined);
      if (health?.status === 200) {
        processor = await json(`${api}/api/Processor/composite/1.0.0/transform`);
        if (processor.status === 200) break;
      }
      await sleep(100);
    }
    assert.equal(
      processor?.status,
      200,
      `processor never registered:\n${roles.map((r) => r.output()).join('\n')}`,
    );
    assert.equal(processor.body.taskQueue, 'processor/transform/1.0.0');

    const step = await json(`${api}/api/Step`, 'POST', {
      version: '1.0',
      name: 'Double',
      processorId: processor.body.id,
      configuration: { expression: 'n * 2' },
    });
    assert.equal(step.status, 201, JSON.stringify(step.body));
    const workflow = await json(`${api}/api/Workflow`, 'POST', {
      version: '1.0',
      name: 'Doubling',
      stepIds: [step.body.id],
    });
    assert.equal(workflow.status, 201, JSON.stringify(workflow.body));
    const flow = await json(`${api}/api/OrchestratedFlow`, 'POST', {
      version: '1.0',
      name: 'Doubling',
      workflowId: workflow.body.id,
    });
    assert.equal(flow.status, 201, JSON.stringify(flow.body));

    const started = await json(`${api}/api/Orchestration/start/${flow.body.id}`, 'POST', {
      input: { n: 21 },
    });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    let status: { status: number; body: any } = { status: 0, body: {} };
    for (let i = 0; i < 300; i++) {
      status = await json(`${api}/api/Orchestration/status/${flow.body.id}`);
      if (status.status === 200 && status.body.status !== 'Running') break;
      await sleep(100);
    }
    assert.equal(status.body.status, 'Completed', JSON.stringify(status.body));
    assert.deepEqual(
      status.body.steps.map((s: any) => [s.name, s.status, s.output]),
      [['Double', 'Succeeded', 42]],
    );

    const run = await eventually('the run span from the traced bundle', () =>
      receiver?.spans.find(
        (s) => s.name === 'RunWorkflow:flowInterpreter' && s.attributes.runId === started.body.runId,
      ),
    );
    assert.equal(run.service, 'flow-orchestrator');

    const codes = await Promise.all(roles.map(stop));
    assert.deepEqual(codes, [0, 0, 0], roles.map((r) => r.output()).join('\n'));
    // No OTEL_* settings: tracing stays off and says nothing (no exporter retrying a collector that is not there).
    const [apiRole, , processorRole] = roles;
    assert.doesNotMatch(`${apiRole!.output()}\n${processorRole!.output()}`, /opentelemetry|otlp|:4318/i);
  });
});
