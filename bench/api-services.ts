/**
 * What `npm run bench:api` runs against: a throwaway embedded Postgres and an in-memory dev server (as `npm test`
 * brings them up), seeded definitions, and two HTTP servers in processes of their own — the API as shipped
 * (`api/main.ts`: auth on, payload codec on, info-level logs to a file) and the raw node + `pg` server
 * (bench/api-raw-server.ts).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadFlowSnapshot } from '../activities/snapshot';
import { generateApiKey, insertApiKey } from '../api/auth/api-keys';
import { PROJECT_ROOT } from '../infra/config';
import { migrateDeploy } from '../infra/migrate';
import { KeyRing } from '../infra/payload-codec';
import { findFreePort } from '../infra/ports';
import { startEmbeddedPostgres } from '../infra/postgres';
import { findOrInstallTemporalCli } from '../infra/temporal-cli';
import { startTemporalDevServer } from '../infra/temporal-dev-server';
import { createPrismaClient, type PrismaClient } from '../prisma/client';
import type { Teardown } from './services';

/** Rate limits are a policy, not a cost: set far above what the benchmark sends (the checks still run). */
const UNLIMITED = String(1_000_000_000);
const READY_TIMEOUT_MS = 60_000;

export interface ApiBenchServices {
  apiUrl: string;
  rawUrl: string;
  /** An editor's API key (editor ≥ operator: it may start runs too). */
  apiKey: string;
  /** A step with three next steps: what GET by id reads. */
  stepId: string;
  /** A processor for created steps. */
  processorId: string;
  /** Flows over one 5-step workflow, each started at most once (one manual run per flow may be open). */
  flowIds: string[];
  /** Where the API's CPU profile goes when profiling. */
  profileDir?: string;
  /** The API's log file (info level, as shipped). */
  apiLog: string;
  /** Process IDs of the two servers, for their CPU time. */
  pids: { api: number; raw: number };
}

interface Seeded {
  stepId: string;
  processorId: string;
  flowIds: string[];
}

/** Definitions: a processor, `steps` steps (the first lists three next steps), a 5-step workflow over an Address, `flows` flows. */
async function seed(prisma: PrismaClient, steps: number, flows: number): Promise<Seeded> {
  const who = { createdBy: 'bench', updatedBy: 'bench' };
  const schema = await prisma.schema.create({
    data: { version: '1.0', name: 'bench-any', definition: {}, ...who },
  });
  const processor = await prisma.processor.create({
    data: {
      version: '1.0.0',
      name: 'bench-noop',
      inputSchemaId: schema.id,
      outputSchemaId: schema.id,
      implementationHash: '0'.repeat(64),
      ...who,
    },
  });
  const ids: string[] = [];
  for (let i = 0; i < steps; i++) {
    const step = await prisma.step.create({
      data: {
        version: '1.0',
        name: `step-${String(i).padStart(4, '0')}`,
        description: 'a step of the API benchmark',
        processorId: processor.id,
        configuration: { expression: '$', note: 'bench' },
        retryPolicy: { maximumAttempts: 3 },
        ...who,
      },
    });
    ids.push(step.id);
  }
  // The chain step-0000 → 0001 → … → 0004 is the workflow; step-0000 also lists step-0005 and -0006 (not in it).
  const next = (i: number) => (i === 0 ? [ids[1]!, ids[5]!, ids[6]!] : i < 4 ? [ids[i + 1]!] : []);
  for (let i = 0; i < 5; i++)
    await prisma.stepNext.createMany({
      data: next(i).map((nextStepId, position) => ({ stepId: ids[i]!, position, nextStepId })),
    });
  // A workflow's next steps must stay inside it: the chain's head lists two outside steps, so its workflow starts
  // at step-0001.
  const workflow = await prisma.workflow.create({
    data: {
      version: '1.0',
      name: 'bench-chain',
      ...who,
      steps: { create: [1, 2, 3, 4].map((i, position) => ({ position, stepId: ids[i]! })) },
    },
  });
  const address = await prisma.address.create({
    data: {
      version: '1.0',
      name: 'bench-source',
      connectionString: 'https://example.com/source?token=secret',
      configuration: { region: 'eu', apiKey: 'secret' },
      schemaId: schema.id,
      ...who,
    },
  });
  const assignment = await prisma.assignment.create({
    data: {
      version: '1.0',
      name: 'bench-assignment',
      stepId: ids[1]!,
      ...who,
      entities: { create: [{ position: 0, addressId: address.id }] },
    },
  });
  const flowIds: string[] = [];
  for (let i = 0; i < flows; i++) flowIds.push(crypto.randomUUID());
  await prisma.orchestratedFlow.createMany({
    data: flowIds.map((id, i) => ({
      id,
      version: '1.0',
      name: `bench-flow-${i}`,
      workflowId: workflow.id,
      ...who,
    })),
  });
  await prisma.orchestratedFlowAssignment.createMany({
    data: flowIds.map((orchestratedFlowId) => ({
      orchestratedFlowId,
      position: 0,
      assignmentId: assignment.id,
    })),
  });
  return { stepId: ids[0]!, processorId: processor.id, flowIds };
}

/** Where `npm run bench:api` compiles the API and the raw server to (ignored by git, lint and prettier). */
const DIST = path.join(PROJECT_ROOT, '.data', 'bench-api-dist');
const BUILT = ['api', 'activities', 'workflows', 'workers', 'domain', 'infra', 'prisma', 'scripts', 'cli'];

/**
 * Compiles the API as `npm run build` does (tsc, tsconfig.build.json) and the raw server with it, incrementally:
 * both sides run as plain compiled JavaScript, the way the API ships (`node dist/api/main.js`), not through tsx (whose
 * name-keeping wrapper costs every closure made per request). Type errors elsewhere in a working tree do not stop
 * the emit; they are reported.
 */
async function compile(log: (line: string) => void): Promise<void> {
  await mkdir(DIST, { recursive: true });
  const config = path.join(DIST, 'tsconfig.json');
  const up = (p: string) => path.relative(DIST, path.join(PROJECT_ROOT, p));
  await writeFile(
    config,
    JSON.stringify({
      extends: up('tsconfig.build.json'),
      compilerOptions: {
        outDir: '.',
        rootDir: up('.'),
        incremental: true,
        tsBuildInfoFile: './.tsbuildinfo',
      },
      include: [...BUILT.map(up), up('bench/api-raw-server.ts')],
      exclude: [up('node_modules'), up('**/*.test.ts')],
    }),
  );
  log('compiling the API and the raw server (tsc, incremental)');
  const tsc = require.resolve('typescript/bin/tsc');
  await new Promise<void>((resolve) => {
    execFile(process.execPath, [tsc, '-p', config], { cwd: PROJECT_ROOT }, (error, stdout) => {
      if (error) log(`tsc reported errors (the emit goes on):\n${stdout.slice(0, 2000)}`);
      resolve();
    });
  });
}

/**
 * Spawns `node <compiled entry>` writing straight into `logFile` (not through a pipe: the parent's CPU goes to the
 * load generator); resolves once `ready` matches a line of the file.
 */
async function spawnNode(
  entry: string,
  env: NodeJS.ProcessEnv,
  nodeFlags: string[],
  logFile: string,
  ready: (line: string) => string | undefined,
): Promise<{ child: ChildProcess; found: string }> {
  const out = openSync(logFile, 'a');
  const child = spawn(process.execPath, [...nodeFlags, path.join(DIST, entry.replace(/\.ts$/, '.js'))], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const text = await readFile(logFile, 'utf8');
    for (const line of text.split('\n')) {
      const found = ready(line);
      if (found !== undefined) return { child, found };
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${entry} did not get ready (exit code ${child.exitCode}):\n${text.slice(-3000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/**
 * Brings everything up, registering each piece with `teardown`. `profile`: the API runs under `--cpu-prof` and
 * writes its profile into the returned `profileDir` when it stops.
 */
export async function startApiBench(
  teardown: Teardown,
  log: (line: string) => void,
  options: { steps: number; flows: number; profile: boolean },
): Promise<ApiBenchServices> {
  const cli = await findOrInstallTemporalCli({ log });
  await compile(log);
  const scratch = await mkdtemp(path.join(tmpdir(), 'flow-bench-api-'));
  teardown.push('scratch directory', () => rm(scratch, { recursive: true, force: true }));
  await chmod(scratch, 0o777);
  const [postgres, temporal] = await Promise.allSettled([
    findFreePort().then((port) =>
      startEmbeddedPostgres({
        dataDir: path.join(scratch, 'pg'),
        port,
        database: 'flow_bench',
        persistent: false,
      }),
    ),
    startTemporalDevServer({ cliPath: cli, headless: true }),
  ]);
  if (postgres.status === 'fulfilled') teardown.push('Postgres', () => postgres.value.stop());
  if (temporal.status === 'fulfilled') teardown.push('Temporal dev server', () => temporal.value.stop());
  if (postgres.status === 'rejected') throw postgres.reason;
  if (temporal.status === 'rejected') throw temporal.reason;
  const databaseUrl = postgres.value.url;
  await migrateDeploy(databaseUrl);
  log(`Postgres ${databaseUrl}, Temporal ${temporal.value.address}`);

  const prisma = createPrismaClient(databaseUrl, { poolSize: 2 });
  teardown.push('Prisma', () => prisma.$disconnect());
  const seeded = await seed(prisma, options.steps, options.flows);
  const apiKey = generateApiKey();
  await insertApiKey(prisma, { secret: apiKey, name: 'bench-editor', role: 'editor', createdBy: 'bench' });
  // The raw server's start sends the input the API's start sends: the flow's snapshot inline.
  const snapshot = await loadFlowSnapshot(prisma, seeded.flowIds[0]!);
  const startArgsFile = path.join(scratch, 'start-args.json');
  await writeFile(startArgsFile, JSON.stringify({ trigger: 'manual', snapshot }));

  const payloadKeys = KeyRing.generateText('bench');
  const common = {
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: temporal.value.address,
    TEMPORAL_NAMESPACE: temporal.value.namespace,
    PAYLOAD_KEYS: payloadKeys,
    OTEL_TRACES_EXPORTER: 'none',
  };
  const apiPort = await findFreePort();
  const profileDir = options.profile ? path.join(PROJECT_ROOT, '.data', 'profiles') : undefined;
  const apiLog = path.join(scratch, 'api.log');
  const api = await spawnNode(
    'api/main.ts',
    {
      ...common,
      NODE_ENV: 'production',
      PORT: String(apiPort),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      RATE_LIMIT_PER_MINUTE: UNLIMITED,
      RATE_LIMIT_WRITES_PER_MINUTE: UNLIMITED,
      RATE_LIMIT_STARTS_PER_MINUTE: UNLIMITED,
      AUTH_FAILURES_PER_MINUTE: UNLIMITED,
    },
    profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
    apiLog,
    (line) => (line.includes('API listening') ? line : undefined),
  );
  teardown.push('API', () => stopChild(api.child));
  const raw = await spawnNode(
    'bench/api-raw-server.ts',
    { ...common, START_ARGS_FILE: startArgsFile },
    [],
    path.join(scratch, 'raw.log'),
    (line) => /^listening (\d+)$/.exec(line)?.[1],
  );
  teardown.push('raw server', () => stopChild(raw.child));
  return {
    apiUrl: `http://127.0.0.1:${apiPort}`,
    rawUrl: `http://127.0.0.1:${raw.found}`,
    apiKey,
    ...seeded,
    ...(profileDir ? { profileDir } : {}),
    apiLog,
    pids: { api: api.child.pid!, raw: raw.child.pid! },
  };
}
