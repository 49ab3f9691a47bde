/**
 * `npm run bench:api`: the API as shipped against a raw node + `pg` server doing the same work on the same database,
 * in one run, driven by autocannon: GET by id, a list of 100, create, and start (at 32 connections, and start on one
 * connection for the per-call cost). Prints a markdown report and writes it to bench/api-results.md.
 */
import { loadavg, cpus } from 'node:os';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { format, resolveConfig } from 'prettier';
import { z } from 'zod';
import { PROJECT_ROOT } from '../infra/config';
import { load, mergeLoads, type LoadResult, type LoadSpec } from './api-load';
import { startApiBench, type ApiBenchServices } from './api-services';
import { Teardown } from './services';

const USAGE = `Usage: npm run bench:api -- [options]
  --seconds S       seconds of load per route and side (default 10)
  --connections C   concurrent connections (default 32)
  --starts N        starts per side at C connections (default 2000); 200 more on one connection
  --rounds R        rounds per route: the two servers take turns R times, each with 1/R of the load (default 4)
  --profile         run the API under node --cpu-prof (profile in .data/profiles/ when it stops)
  --only ROUTES     comma-separated subset of get,list,create,start
  --out FILE        report file (default bench/api-results.md)`;

const optionsSchema = z.object({
  seconds: z.coerce.number().int().min(1).default(10),
  connections: z.coerce.number().int().min(1).default(32),
  starts: z.coerce.number().int().min(1).default(2000),
  rounds: z.coerce.number().int().min(1).default(4),
  profile: z.boolean().default(false),
  only: z.string().default('get,list,create,start'),
  out: z.string().default(path.join(PROJECT_ROOT, 'bench', 'api-results.md')),
});
type Options = z.infer<typeof optionsSchema>;

const WARMUP_SECONDS = 3;
const WARMUP_STARTS = 100;
const SEQUENTIAL_STARTS = 200;
const STEPS = 1000;

type Side = 'api' | 'raw';
interface Row {
  route: string;
  api: LoadResult;
  raw: LoadResult;
}

/** The load of `route` against one side; `counter` makes created names and started flows unique per side. */
function routeSpec(
  route: string,
  side: Side,
  s: ApiBenchServices,
  counter: { created: number; started: number },
): Omit<LoadSpec, 'connections'> {
  const api = side === 'api';
  const url = api ? s.apiUrl : s.rawUrl;
  const pid = s.pids[side];
  const headers: Record<string, string> = api ? { authorization: `Bearer ${s.apiKey}` } : {};
  switch (route) {
    case 'get':
      return {
        url,
        pid,
        headers,
        method: 'GET',
        path: () => (api ? `/api/Step/${s.stepId}` : `/step/${s.stepId}`),
      };
    case 'list':
      return {
        url,
        pid,
        headers,
        method: 'GET',
        path: () => (api ? '/api/Step?limit=100' : '/step?limit=100'),
      };
    case 'create':
      return {
        url,
        pid,
        headers,
        method: 'POST',
        path: () => (api ? '/api/Step' : '/step'),
        body: () =>
          JSON.stringify({
            version: '1.0',
            name: `created-${side}-${++counter.created}`,
            processorId: s.processorId,
            nextStepIds: [s.stepId],
            configuration: { expression: '$' },
          }),
      };
    case 'start':
      return {
        url,
        pid,
        headers,
        method: 'POST',
        path: () => {
          const flowId = s.flowIds[counter.started++]!;
          return api ? `/api/Orchestration/start/${flowId}` : `/start/${flowId}`;
        },
        body: () => JSON.stringify({ input: { greeting: 'hi', n: counter.started } }),
      };
    default:
      throw new Error(`unknown route ${route}`);
  }
}

/** Round `round`'s part of `amount` split over `rounds`: the parts add up to `amount` exactly (the flows seeded). */
const share = (amount: number, round: number, rounds: number) =>
  Math.floor(((round + 1) * amount) / rounds) - Math.floor((round * amount) / rounds);

const ms = (value: number) => (value >= 100 ? value.toFixed(0) : value.toFixed(1));
const load1 = () =>
  loadavg()
    .map((v) => v.toFixed(2))
    .join(' / ');

function report(rows: Row[], options: Options, loadBefore: string, loadAfter: string): string {
  const lines = [
    '# API speed: the API as shipped against a raw node + pg server',
    '',
    `${new Date().toISOString().slice(0, 16)}Z, Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'CPU'}, ` +
      `load average (1 / 5 / 15 min) ${loadBefore} before, ${loadAfter} after. autocannon, ` +
      `${options.connections} connections, ${options.seconds} s per route and side after ${WARMUP_SECONDS} s of ` +
      `warm-up; start: ${options.starts} starts per side (and ${SEQUENTIAL_STARTS} on one connection). The two ` +
      `servers take turns in ${options.rounds} rounds per route, each with 1/${options.rounds} of the load, so a ` +
      "change in the machine's background load falls on both. The API runs " +
      'as shipped (compiled by tsc, `node api/main.js`: API-key auth as an editor, rate limits checked, audit, payload codec, info logs ' +
      'to a file); the raw server (bench/api-raw-server.ts, compiled alike) runs the same SQL through `pg` and a bare ' +
      '`client.workflow.start`. Same embedded Postgres, same in-memory Temporal dev server, each server in its ' +
      'own process.',
    '',
    '| route | server | req/s | p50 ms | p95 ms | p99 ms | CPU ms / request | API / raw req/s | API / raw p99 |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const { route, api, raw } of rows) {
    lines.push(
      `| ${route} | API | ${api.rps.toFixed(0)} | ${ms(api.p50)} | ${ms(api.p95)} | ${ms(api.p99)} | ` +
        `${api.cpuMsPerRequest.toFixed(2)} | **${(api.rps / raw.rps).toFixed(2)}** | ${(api.p99 / raw.p99).toFixed(2)} |`,
      `| | raw | ${raw.rps.toFixed(0)} | ${ms(raw.p50)} | ${ms(raw.p95)} | ${ms(raw.p99)} | ` +
        `${raw.cpuMsPerRequest.toFixed(2)} | | |`,
    );
  }
  const find = (route: string) => rows.find((row) => row.route.startsWith(route));
  const goals: string[] = [];
  const check = (ok: boolean, text: string) => goals.push(`- ${ok ? 'met' : '**not met**'}: ${text}`);
  const get = find('GET by id');
  if (get) {
    check(
      get.api.rps >= 0.7 * get.raw.rps,
      `GET by id ≥ 0.7× raw req/s (${(get.api.rps / get.raw.rps).toFixed(2)}×)`,
    );
    check(
      get.api.p99 <= 2 * get.raw.p99,
      `GET by id p99 ≤ 2× raw p99 (${(get.api.p99 / get.raw.p99).toFixed(2)}×)`,
    );
  }
  const list = find('list');
  if (list)
    check(
      list.api.rps >= 0.5 * list.raw.rps,
      `list ≥ 0.5× raw req/s (${(list.api.rps / list.raw.rps).toFixed(2)}×)`,
    );
  for (const row of rows.filter(
    (r) => r.route.includes(`${options.connections} connections`) || !r.route.includes('connection'),
  ))
    check(
      row.api.p95 < 100,
      `${row.route}: API p95 < 100 ms (${ms(row.api.p95)} ms; the raw server's ${ms(row.raw.p95)} ms)`,
    );
  const single = find('start, 1 connection');
  if (single)
    check(
      single.api.p50 <= 2 * single.raw.p50,
      `start ≤ 2× a bare client.workflow.start, per call (p50 ${ms(single.api.p50)} against ${ms(single.raw.p50)} ms: ` +
        `${(single.api.p50 / single.raw.p50).toFixed(2)}×)`,
    );
  lines.push('', 'Goals (issue 14):', '', ...goals, '');
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string' },
      connections: { type: 'string' },
      starts: { type: 'string' },
      rounds: { type: 'string' },
      profile: { type: 'boolean' },
      only: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) return console.log(USAGE);
  const options = optionsSchema.parse(values);
  const routes = new Set(options.only.split(',').map((r) => r.trim()));
  const log = (line: string) => console.error(`[bench:api] ${line}`);
  const teardown = new Teardown(log);
  const stop = () => void teardown.run().finally(() => process.exit(130));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const flows = routes.has('start') ? options.starts + 2 * WARMUP_STARTS + SEQUENTIAL_STARTS : 1;
    const services = await startApiBench(teardown, log, { steps: STEPS, flows, profile: options.profile });
    const counters: Record<Side, { created: number; started: number }> = {
      api: { created: 0, started: 0 },
      raw: { created: 0, started: 0 },
    };
    const loadBefore = load1();
    const rows: Row[] = [];
    const measure = async (label: string, route: string, connections: number, amount?: number) => {
      const specs = {
        api: { ...routeSpec(route, 'api', services, counters.api), connections },
        raw: { ...routeSpec(route, 'raw', services, counters.raw), connections },
      };
      for (const side of ['api', 'raw'] as const)
        await load(
          amount !== undefined
            ? { ...specs[side], amount: Math.min(WARMUP_STARTS, amount) }
            : { ...specs[side], seconds: WARMUP_SECONDS },
        );
      // The servers take turns, round by round, and the first to go alternates: drift falls on both sides.
      const parts: Record<Side, LoadResult[]> = { api: [], raw: [] };
      for (let round = 0; round < options.rounds; round++) {
        const order: Side[] = round % 2 === 0 ? ['api', 'raw'] : ['raw', 'api'];
        const starts = amount !== undefined ? share(amount, round, options.rounds) : undefined;
        // More rounds than starts: this round has none.
        if (starts === 0) continue;
        for (const side of order) {
          const part = await load(
            starts !== undefined
              ? { ...specs[side], amount: starts }
              : { ...specs[side], seconds: options.seconds / options.rounds },
          );
          if (part.failures > 0)
            throw new Error(
              `${label} (${side}): ${part.failures} failed requests ${JSON.stringify(part.statuses)}`,
            );
          parts[side].push(part);
        }
      }
      const result = { api: mergeLoads(parts.api), raw: mergeLoads(parts.raw) };
      for (const side of ['api', 'raw'] as const) {
        const r = result[side];
        const perRound = parts[side].map((part) => part.rps.toFixed(0)).join(', ');
        log(
          `${label} ${side}: ${r.rps.toFixed(0)} req/s (rounds: ${perRound}), p50 ${ms(r.p50)} p95 ${ms(r.p95)} ` +
            `p99 ${ms(r.p99)} ms, CPU ${r.cpuMsPerRequest.toFixed(2)} ms/request ` +
            `(${r.systemMsPerRequest.toFixed(2)} in the kernel), statuses ${JSON.stringify(r.statuses)}`,
        );
      }
      rows.push({ route: label, api: result.api, raw: result.raw });
    };
    const c = options.connections;
    if (routes.has('get')) await measure(`GET by id, ${c} connections`, 'get', c);
    if (routes.has('list')) await measure(`list of 100, ${c} connections`, 'list', c);
    if (routes.has('create')) await measure(`create, ${c} connections`, 'create', c);
    if (routes.has('start')) {
      await measure(`start, ${c} connections`, 'start', c, options.starts);
      await measure('start, 1 connection', 'start', 1, SEQUENTIAL_STARTS);
    }
    const text = report(rows, options, loadBefore, load1());
    console.log(text);
    // Formatted as the repository's prettier wants it, so a fresh report passes `npm run lint`.
    await writeFile(
      options.out,
      await format(text, { ...(await resolveConfig(options.out)), parser: 'markdown' }),
    );
    log(`report written to ${path.relative(PROJECT_ROOT, options.out)}`);
    if (services.profileDir) log(`the API's CPU profile goes to ${services.profileDir} as it stops`);
  } finally {
    await teardown.run();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
