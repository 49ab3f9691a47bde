/**
 * `npx tsx bench/run.ts [--runs K] [--chain N] [--fanout W] [--concurrent M] …` (see bench/README.md): our
 * interpreter against a hand-written Temporal workflow, same processor activity, same DAG shapes, on one dev server
 * this command starts and stops. Prints a markdown report and writes it to bench/results.md.
 * With OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_TRACES_EXPORTER) set, our side runs with tracing on.
 */
import '../infra/instrument';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { format, resolveConfig } from 'prettier';
import { PROJECT_ROOT } from '../infra/config';
import { telemetry } from '../infra/telemetry';
import { measureBundles, renderBundleReport } from './bundle';
import { measureConsole, renderConsoleReport } from './console';
import { measureDataPlane, renderDataReport } from './data';
import { FlowFactory, type BenchFlow, type FanOutFlow } from './flows';
import { historyFacts } from './history';
import { measureLarge, renderLargeReport } from './large';
import { BenchOptionsError, parseBenchOptions, USAGE, type BenchOptions } from './options';
import { renderReport, type Environment, type SaturationFigures, type ShapeFigures } from './report';
import { cpuSpent, cpuTimes, sampleMemory, type CpuTimes } from './resources';
import { runHandWritten, runHandWrittenWithExtras, runOurs, type Side, type TimedRun } from './runners';
import { startBenchServices, Teardown, type BenchServices } from './services';

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

/** Warm-up, then K runs per side, interleaved (ours first on even runs) so drift hits both sides alike. */
async function measureShape(
  services: BenchServices,
  options: BenchOptions,
  name: string,
  flow: BenchFlow | FanOutFlow,
): Promise<ShapeFigures> {
  // CPU is read around each run (outside its wall time): runs go one at a time, so the delta is that run's cost.
  const withCpu = async (run: () => Promise<TimedRun>) => {
    const before = await cpuTimes(services.temporalPid);
    const result = await run();
    return { ...result, cpu: cpuSpent(before, await cpuTimes(services.temporalPid)) };
  };
  const ours = () => withCpu(() => runOurs(services.orchestration, services.client, flow));
  const hand = () => withCpu(() => runHandWritten(services.client, flow));
  for (let i = 0; i < options.warmup; i++) {
    await ours();
    await hand();
  }
  type Measured = TimedRun & { cpu: CpuTimes };
  const timed: { ours: Measured[]; handWritten: Measured[] } = { ours: [], handWritten: [] };
  const sides = [
    [ours, timed.ours],
    [hand, timed.handWritten],
  ] as const;
  for (let i = 0; i < options.runs; i++)
    for (const [run, runs] of i % 2 === 0 ? sides : [...sides].reverse()) runs.push(await run());
  log(`${name}: ${options.runs} runs per side done, reading histories`);
  const figures = async (runs: Measured[]) => ({
    wallMs: runs.map((r) => r.wallMs),
    startMs: runs.map((r) => r.startMs),
    cpu: runs.map((r) => r.cpu),
    histories: await Promise.all(runs.map((r) => historyFacts(r.handle))),
  });
  return {
    name,
    steps: flow.steps.length,
    ours: await figures(timed.ours),
    handWritten: await figures(timed.handWritten),
  };
}

/** M runs at once per side, for R rounds, alternating which side goes first. */
async function measureSaturation(
  services: BenchServices,
  options: BenchOptions,
  flows: BenchFlow[],
): Promise<SaturationFigures> {
  const start = {
    ours: (flow: BenchFlow) => runOurs(services.orchestration, services.client, flow),
    handWritten: (flow: BenchFlow) => runHandWritten(services.client, flow),
    withExtras: (flow: BenchFlow) => runHandWrittenWithExtras(services.client, services.definitions, flow),
  };
  const burst = async (side: Side) => {
    const cpuBefore = await cpuTimes(services.temporalPid);
    const begin = performance.now();
    await Promise.all(flows.map(start[side]));
    const elapsedMs = performance.now() - begin;
    return { elapsedMs, cpu: cpuSpent(cpuBefore, await cpuTimes(services.temporalPid)) };
  };
  const figures: SaturationFigures = {
    runs: flows.length,
    steps: options.saturationSteps,
    ours: [],
    handWritten: [],
    withExtras: [],
  };
  for (let round = 0; round < options.rounds; round++) {
    const order: Side[] =
      round % 2 === 0 ? ['ours', 'handWritten', 'withExtras'] : ['withExtras', 'handWritten', 'ours'];
    for (const side of order) figures[side].push(await burst(side));
  }
  return figures;
}

function environment(temporalVersion: string, load: number[], totalSeconds: number): Environment {
  const cpus = os.cpus();
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the installed SDK's version, for the record
  const sdk = (require('@temporalio/worker/package.json') as { version: string }).version;
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    cpus: `${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}`,
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    memory: `${Math.round(os.totalmem() / 2 ** 30)} GB RAM`,
    temporal: temporalVersion,
    sdk,
    load: load.map((l) => l.toFixed(2)).join(' '),
    tracing: telemetry().enabled ? `on (${telemetry().exporters.join(', ')})` : 'off',
    totalSeconds,
  };
}

/** Prints the report and writes it to `file`, formatted like the rest of the repository (so lint stays green). */
async function writeReport(report: string, file: string): Promise<void> {
  const out = path.resolve(PROJECT_ROOT, file);
  const formatted = await format(report, { ...(await resolveConfig(out)), parser: 'markdown' });
  process.stdout.write(formatted);
  await writeFile(out, formatted);
  log(`written to ${path.relative(process.cwd(), out)}`);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const options = parseBenchOptions(argv);
  const begin = performance.now();
  const load = os.loadavg();
  // Quiet workers; signals are ours to handle (the runtime would otherwise shut the workers down on its own).
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
  const teardown = new Teardown(log);
  // `on`, not `once`: Ctrl-C reaches this process twice (from the terminal and relayed by tsx), and a second signal
  // without a handler would kill it mid-teardown.
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.on(signal, () => {
      log(`${signal}: stopping everything`);
      void teardown.run().finally(() => process.exit(130));
    });

  try {
    if (options.bundle) {
      const { figures, temporalVersion } = await measureBundles(options, teardown, log);
      const env = environment(temporalVersion, load, (performance.now() - begin) / 1000);
      const heading =
        `${env.date} · ${env.cpus} · ${env.memory} · load average at the start ${env.load} · Node ${env.node} · ` +
        `embedded Postgres · total ${env.totalSeconds.toFixed(0)} s`;
      await writeReport(renderBundleReport(figures, heading), options.out ?? 'bench/bundle-results.md');
      return;
    }
    if (options.console) {
      const { figures, temporalVersion } = await measureConsole(options, teardown, log);
      const env = environment(temporalVersion, load, (performance.now() - begin) / 1000);
      const heading =
        `${env.date} · ${env.cpus} · ${env.memory} · load average at the start ${env.load} · Node ${env.node} · ` +
        `Chromium (Debian) · embedded Postgres · total ${env.totalSeconds.toFixed(0)} s`;
      await writeReport(renderConsoleReport(figures, heading), options.out ?? 'bench/console-results.md');
      return;
    }
    if (options.large) {
      const { figures, temporalVersion } = await measureLarge(options, teardown, log);
      const env = environment(temporalVersion, load, (performance.now() - begin) / 1000);
      const heading =
        `${env.date} · ${env.cpus} · ${env.memory} · Node ${env.node} · ${env.temporal}, in-memory dev server · ` +
        `Temporal TypeScript SDK ${env.sdk} · embedded Postgres · total ${env.totalSeconds.toFixed(0)} s`;
      await writeReport(renderLargeReport(figures, heading), options.out ?? 'bench/large-results.md');
      return;
    }
    if (options.data) {
      const { figures, base } = await measureDataPlane(options, teardown, log);
      const env = environment(base.temporalVersion, load, (performance.now() - begin) / 1000);
      const heading =
        `${env.date} · ${env.cpus} · ${env.memory} · load average at the start ${env.load} · Node ${env.node} · ` +
        `${env.temporal}, in-memory dev server · Temporal TypeScript SDK ${env.sdk} · embedded Postgres · ` +
        `total ${env.totalSeconds.toFixed(0)} s`;
      await writeReport(renderDataReport(figures, heading), options.out ?? 'bench/data-results.md');
      return;
    }
    const services = await startBenchServices(teardown, log);
    const memory = sampleMemory(services.temporalPid);
    const factory = new FlowFactory(services.apiUrl, services.apiKey);
    const chain = await factory.chain(options.chain);
    const fanOut = await factory.fanOut(options.fanout);
    const saturationChain = await factory.chain(options.saturationSteps, 'saturation');
    const saturationFlows = [saturationChain];
    while (saturationFlows.length < options.concurrent)
      saturationFlows.push(await factory.sameWorkflow(saturationChain, 'saturation'));
    log('definitions created; measuring');

    const shapes = [
      await measureShape(services, options, `chain N=${options.chain}`, chain),
      await measureShape(services, options, `fan-out W=${options.fanout} + join`, fanOut),
    ];
    log(`saturation: ${options.concurrent} × ${options.saturationSteps}-step chains`);
    const saturation = await measureSaturation(services, options, saturationFlows);
    const report = renderReport({
      environment: environment(services.temporalVersion, load, (performance.now() - begin) / 1000),
      options,
      shapes,
      saturation,
      memory: await memory.stop(),
    });
    await writeReport(report, options.out ?? 'bench/results.md');
  } finally {
    await teardown.run();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof BenchOptionsError ? error.message : error);
  process.exit(1);
});
