/**
 * `npm test`: starts embedded Postgres and a Temporal dev server on free ports (never the ones `npm run dev` uses),
 * migrates a template database, then runs every *.test.ts with Node's built-in runner. `npm test -- <files…>` runs
 * only those files. Everything started here is stopped on exit.
 */
import { KeyRing } from '../infra/payload-codec';
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig, PROJECT_ROOT } from '../infra/config';
import { migrateDeploy } from '../infra/migrate';
import { findFreePort } from '../infra/ports';
import { createDatabaseIfMissing, startEmbeddedPostgres } from '../infra/postgres';
import { findOrInstallChromium } from '../infra/chromium';
import { ensureConsoleBuilt } from '../infra/console-build';
import { findOrInstallTemporalCli } from '../infra/temporal-cli';
import { startTemporalDevServer } from '../infra/temporal-dev-server';

const TEST_DIRS = [
  'domain',
  'api',
  'activities',
  'workflows',
  'workers',
  'infra',
  'prisma',
  'console',
  'test',
];
/** Browser tests of the console: they need its build (console/dist), made here when stale. */
const CONSOLE_E2E_DIR = path.join(PROJECT_ROOT, 'test', 'console');
const TEMPLATE_DB = 'flow_template';
/** A namespace for tests whose processes use the default task queues (they would share them in `default`). */
const ISOLATED_NAMESPACE = 'flow-isolated';
/** For the examples test, whose workers serve the built-ins' own task queues (processor/transform/1.0.0, …). */
const EXAMPLES_NAMESPACE = 'flow-examples';

async function findTestFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const nested = await Promise.all(
    entries.map((entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory())
        return entry.name === 'node_modules' ? Promise.resolve([]) : findTestFiles(full);
      return Promise.resolve(entry.name.endsWith('.test.ts') ? [full] : []);
    }),
  );
  return nested.flat().sort();
}

function say(message: string): void {
  process.stdout.write(`[test] ${message}\n`);
}

async function main(): Promise<number> {
  const config = loadConfig();
  const requested = process.argv.slice(2).map((file) => path.resolve(file));
  const files =
    requested.length > 0
      ? requested
      : (await Promise.all(TEST_DIRS.map((d) => findTestFiles(path.join(PROJECT_ROOT, d))))).flat();
  if (files.length === 0) throw new Error('no test files found');

  const cleanups: Array<() => Promise<unknown>> = [];
  const cleanup = async () => {
    for (const step of cleanups.reverse())
      await step().catch((error: unknown) => say(`cleanup failed: ${String(error)}`));
    cleanups.length = 0;
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => {
      void cleanup().finally(() => process.exit(130));
    });

  try {
    const started = Date.now();
    const cli = await findOrInstallTemporalCli({ explicitPath: config.TEMPORAL_CLI, log: say });
    const chromium = await findOrInstallChromium({ explicitPath: config.CHROMIUM_PATH, log: say });

    // A throwaway cluster: world-writable parent so the unprivileged postgres user can own its data dir.
    const scratch = await mkdtemp(path.join(tmpdir(), 'flow-test-'));
    await chmod(scratch, 0o777);
    cleanups.push(() => rm(scratch, { recursive: true, force: true }));
    const pgPort = await findFreePort();
    const needsConsole = files.some((file) => file.startsWith(CONSOLE_E2E_DIR + path.sep));
    const [postgres, temporal] = await Promise.all([
      startEmbeddedPostgres({
        dataDir: path.join(scratch, 'pg'),
        port: pgPort,
        database: 'postgres',
        persistent: false,
      }),
      startTemporalDevServer({
        cliPath: cli,
        headless: true,
        extraNamespaces: [ISOLATED_NAMESPACE, EXAMPLES_NAMESPACE],
      }),
      needsConsole ? ensureConsoleBuilt(PROJECT_ROOT, say) : Promise.resolve(false),
    ]);
    cleanups.push(
      () => postgres.stop(),
      () => temporal.stop(),
    );
    await createDatabaseIfMissing(postgres.adminUrl, TEMPLATE_DB);
    const templateUrl = postgres.adminUrl.replace(/\/postgres$/, `/${TEMPLATE_DB}`);
    await migrateDeploy(templateUrl);
    say(
      `Postgres on ${pgPort}, Temporal on ${temporal.address}, ready in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );

    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--test',
        '--test-reporter=spec',
        '--test-concurrency=3',
        '--test-timeout=180000',
        ...files,
      ],
      {
        cwd: PROJECT_ROOT,
        stdio: 'inherit',
        env: {
          ...process.env,
          FLOW_TEST_ADMIN_URL: postgres.adminUrl,
          FLOW_TEST_TEMPLATE_DB: TEMPLATE_DB,
          FLOW_TEST_ISOLATED_NAMESPACE: ISOLATED_NAMESPACE,
          FLOW_TEST_EXAMPLES_NAMESPACE: EXAMPLES_NAMESPACE,
          TEMPORAL_ADDRESS: temporal.address,
          TEMPORAL_NAMESPACE: temporal.namespace,
          TEMPORAL_CLI: cli,
          // One key ring for the run: every test client and worker, in process or spawned, encrypts with it.
          PAYLOAD_KEYS: KeyRing.generateText('test'),
          PAYLOAD_ACTIVE_KEY: '',
          ...(chromium ? { CHROMIUM_PATH: chromium } : {}),
          LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
        },
      },
    );
    cleanups.push(() => Promise.resolve(child.exitCode === null && child.kill('SIGTERM')));
    return await new Promise<number>((resolve) => child.once('close', (code) => resolve(code ?? 1)));
  } finally {
    await cleanup();
  }
}

main()
  .then((code) => process.exit(code))
  .catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
