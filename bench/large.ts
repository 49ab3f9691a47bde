/**
 * `npm run bench -- --large` (issue 14 §2): a 10,000-step chain and a 10,000-step layered DAG (100 layers × 100),
 * each applied as one bundle by `flowctl apply` (the CLI itself, as a child process), started with
 * `POST /api/Orchestration/start/{flowId}` and followed to the end. Per run: wall time, the history segments it
 * continued as new through (events and bytes of each), the orchestrator's resident memory every second (it runs in
 * its own process, `workers/orchestrator.ts`, as deployed), and the status route polled every second meanwhile.
 *
 * The DAG: step P of layer k feeds steps P and P+1 (mod the width) of layer k+1, so every step past the first layer
 * joins exactly two (19,800 edges for 100 × 100; connecting every step to every step of the next layer would be
 * 990,000 edges, and each join would wait for 100 predecessors).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { Client, type WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { defineProcessor } from '../activities/sdk';
import type { RunSummary } from '../domain/flow-types';
import { dataConverter } from '../infra/payload-keys';
import { PROJECT_ROOT } from '../infra/config';
import { NOOP } from './constants';
import type { BenchOptions } from './options';
import { rssOf } from './resources';
import {
  spawnBenchOrchestrator,
  startBenchBase,
  startBenchProcessor,
  type BenchBase,
  type Teardown,
} from './services';
import { median, quantile } from './stats';

const execFileAsync = promisify(execFile);

/**
 * The DAG's processor: returns nothing. `bench-noop` returns its input, and a join's input holds both its
 * predecessors' outputs, so echoed through 100 layers of joins of two the data would double per layer.
 */
export const VOID = { name: 'bench-void', version: '1.0.0' } as const;
const voidProcessor = defineProcessor<unknown, null>({
  name: VOID.name,
  version: VOID.version,
  description: 'Benchmark processor: ignores its input, returns null.',
  module: __filename,
  inputSchema: {},
  outputSchema: {},
  run: () => null,
});

export interface Sample {
  /** Seconds since the run started. */
  t: number;
  value: number;
}

export interface StatusPoll {
  t: number;
  ms: number;
  bytes: number;
  httpStatus: number;
  status?: string;
  completedSteps?: number;
  segment?: number;
  /** The answer's `error`: set when no worker answered the status query in time (describe's facts only). */
  error?: string;
}

export interface SegmentFacts {
  runId: string;
  events: number;
  /** Protobuf size of the fetched history. */
  encodedBytes: number;
  /** What Temporal counts (`workflowExecutionInfo.historySizeBytes`). */
  historySizeBytes: number;
  /** Steps (processor activities) completed in this segment. */
  steps: number;
  /** Markers: patches and local activities (definition pages, archives). */
  markers: number;
  /** First event to last event, server clock. */
  seconds: number;
  /** Start → its first workflow task completed (a query cannot be answered before). */
  firstTaskSeconds: number;
  /** The longest workflow task (started → completed): queries wait for the task in flight. */
  longestTaskSeconds: number;
}

export interface ShapeFigures {
  name: string;
  steps: number;
  edges: number;
  apply: {
    documents: number;
    yamlBytes: number;
    /** `flowctl apply -f` wall time, the CLI's own start (tsx) included. */
    ms: number;
    summary: Record<string, number>;
  };
  /** `POST /api/Orchestration/start` answered in. */
  startMs: number;
  /** Start call → the run's (last segment's) result. Absent when it did not finish in time. */
  wallMs?: number;
  outcome: string;
  completedSteps: number;
  segments: SegmentFacts[];
  rss: Sample[];
  temporalRss: Sample[];
  polls: StatusPoll[];
  /** `flowctl status <flow>` once during the run. */
  flowctlStatus?: { atS: number; ms: number; exitCode: number; status?: string; completedSteps?: number };
  /** The status route once the run closed. */
  finalStatus: { ms: number; bytes: number; steps: number; archivedLeft: number; segments?: number };
}

export interface LargeFigures {
  shapes: ShapeFigures[];
  /** Shapes that could not be applied or run, with why. */
  failures: Array<{ name: string; error: string }>;
  loadStart: number[];
  loadEnd: number[];
  /** The bench process (API in-process, processor workers) RSS at the end. */
  benchRss: number;
}

type Doc = string;

const stepDoc = (name: string, processor: string, next: string[]): Doc =>
  [
    'kind: Step',
    `name: ${name}`,
    "version: '1.0'",
    `processor: ${processor}`,
    ...(next.length > 0 ? [`next: [${next.map((n) => `${n}@1.0`).join(', ')}]`] : []),
  ].join('\n');

const flowDocs = (workflow: string, steps: string[]): Doc[] => [
  [
    'kind: Workflow',
    `name: ${workflow}`,
    "version: '1.0'",
    'steps:',
    ...steps.map((s) => `  - ${s}@1.0`),
  ].join('\n'),
  ['kind: OrchestratedFlow', `name: ${workflow}Flow`, "version: '1.0'", `workflow: ${workflow}@1.0`].join(
    '\n',
  ),
];

/** A chain of `n` steps on `bench-noop`, as the YAML documents `flowctl apply` reads. */
export function chainBundle(n: number): { docs: Doc[]; edges: number } {
  const name = (i: number) => `chain-${String(i + 1).padStart(5, '0')}`;
  const names = Array.from({ length: n }, (_, i) => name(i));
  const processor = `${NOOP.name}@${NOOP.version}`;
  const docs = names.map((step, i) => stepDoc(step, processor, i + 1 < n ? [names[i + 1]!] : []));
  return { docs: [...docs, ...flowDocs('LargeChain', names)], edges: n - 1 };
}

/** `layers` × `width` steps on `bench-void`: P of layer k feeds P and P+1 (mod width) of layer k+1. */
export function layeredBundle(layers: number, width: number): { docs: Doc[]; edges: number } {
  const name = (k: number, p: number) =>
    `dag-L${String(k + 1).padStart(3, '0')}-P${String(p + 1).padStart(3, '0')}`;
  const processor = `${VOID.name}@${VOID.version}`;
  const names: string[] = [];
  const docs: Doc[] = [];
  let edges = 0;
  for (let k = 0; k < layers; k++)
    for (let p = 0; p < width; p++) {
      const next = k + 1 < layers ? [...new Set([name(k + 1, p), name(k + 1, (p + 1) % width)])] : [];
      edges += next.length;
      names.push(name(k, p));
      docs.push(stepDoc(name(k, p), processor, next));
    }
  return { docs: [...docs, ...flowDocs('LargeDag', names)], edges };
}

/** Runs flowctl as a user would (bin/flowctl.cjs), against the bench's API with its key and no profile. */
async function flowctl(base: BenchBase, scratch: string, args: string[]) {
  const begin = performance.now();
  try {
    const { stdout } = await execFileAsync(
      process.execPath,
      [path.join(PROJECT_ROOT, 'bin/flowctl.cjs'), ...args],
      {
        cwd: scratch,
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          FLOW_API_URL: base.apiUrl,
          FLOW_API_KEY: base.apiKey,
          FLOWCTL_CONFIG: path.join(scratch, 'no-flowctl-config.yaml'),
          NO_COLOR: '1',
        },
        maxBuffer: 256 * 1024 * 1024,
      },
    );
    return { ms: performance.now() - begin, exitCode: 0, stdout, stderr: '' };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return {
      ms: performance.now() - begin,
      exitCode: typeof failed.code === 'number' ? failed.code : -1,
      stdout: failed.stdout ?? '',
      stderr: failed.stderr ?? String(error),
    };
  }
}

/** Samples a process's RSS every second from now on. */
function sampler(pid: number, since: () => number) {
  const samples: Sample[] = [];
  const sample = async () => {
    const rss = await rssOf(pid);
    if (rss !== undefined) samples.push({ t: since(), value: rss });
  };
  void sample();
  const timer = setInterval(() => void sample(), 1000);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await sample();
      return samples;
    },
  };
}

/** Each segment of a run, first to last, following continue-as-new through the histories. */
async function segmentsOf(client: Client, workflowId: string, firstRunId: string): Promise<SegmentFacts[]> {
  const segments: SegmentFacts[] = [];
  let next: string | null | undefined = firstRunId;
  while (next) {
    const handle: WorkflowHandle = client.workflow.getHandle(workflowId, next, { followRuns: false });
    const [history, described] = await Promise.all([handle.fetchHistory(), handle.describe()]);
    const events = history.events ?? [];
    const time = (event: temporal.api.history.v1.IHistoryEvent | undefined) =>
      Number(event?.eventTime?.seconds ?? 0) + (event?.eventTime?.nanos ?? 0) / 1e9;
    const at = new Map(events.map((e) => [String(e.eventId), time(e)]));
    const tasks = events.filter((e) => e.workflowTaskCompletedEventAttributes);
    const taskSeconds = tasks.map(
      (e) => time(e) - (at.get(String(e.workflowTaskCompletedEventAttributes!.startedEventId)) ?? NaN),
    );
    segments.push({
      runId: next,
      events: events.length,
      encodedBytes: temporal.api.history.v1.History.encode(history).finish().length,
      historySizeBytes: Number(described.raw.workflowExecutionInfo?.historySizeBytes ?? 0),
      steps: events.filter((e) => e.activityTaskCompletedEventAttributes).length,
      markers: events.filter((e) => e.markerRecordedEventAttributes).length,
      seconds: time(events.at(-1)) - time(events[0]),
      firstTaskSeconds: time(tasks[0]) - time(events[0]),
      longestTaskSeconds: Math.max(0, ...taskSeconds.filter(Number.isFinite)),
    });
    next = events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
  }
  return segments;
}

async function measureShape(
  base: BenchBase,
  client: Client,
  orchestratorPid: number,
  scratch: string,
  options: BenchOptions,
  shape: { name: string; file: string; flow: string; steps: number; bundle: { docs: Doc[]; edges: number } },
  log: (line: string) => void,
): Promise<ShapeFigures> {
  const api = async (method: string, route: string, body?: unknown) => {
    const begin = performance.now();
    const response = await fetch(`${base.apiUrl}${route}`, {
      method,
      headers: {
        authorization: `Bearer ${base.apiKey}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    return { ms: performance.now() - begin, status: response.status, text };
  };

  // 1. flowctl apply -f, as a user would.
  const yaml = `${shape.bundle.docs.join('\n---\n')}\n`;
  const file = path.join(scratch, shape.file);
  await writeFile(file, yaml);
  log(
    `${shape.name}: flowctl apply -f ${shape.file} (${shape.bundle.docs.length} documents, ${kb(yaml.length)})`,
  );
  const applied = await flowctl(base, scratch, ['-o', 'json', 'apply', '-f', file]);
  if (applied.exitCode !== 0)
    throw new Error(
      `flowctl apply exited ${applied.exitCode} after ${(applied.ms / 1000).toFixed(1)} s:\n` +
        `${applied.stderr.slice(0, 4000)}\n${applied.stdout.slice(0, 2000)}`,
    );
  const result = JSON.parse(applied.stdout) as { summary: Record<string, number> };
  // The apply's answer carries IDs only of entities that existed before: the flow is looked up as flowctl does.
  const found = await api('GET', `/api/OrchestratedFlow/composite/1.0/${shape.flow}`);
  if (found.status !== 200)
    throw new Error(`${shape.flow}@1.0 answered ${found.status}: ${found.text.slice(0, 500)}`);
  const flowId = (JSON.parse(found.text) as { id: string }).id;
  log(`${shape.name}: applied in ${(applied.ms / 1000).toFixed(1)} s: ${JSON.stringify(result.summary)}`);

  // 2. Start through the REST route; follow the run to its end, polling status every second meanwhile.
  const started = await api('POST', `/api/Orchestration/start/${flowId}`, {});
  if (started.status !== 202)
    throw new Error(`start answered ${started.status}: ${started.text.slice(0, 1000)}`);
  const begin = performance.now() - started.ms;
  const since = () => (performance.now() - begin) / 1000;
  const run = JSON.parse(started.text) as { workflowId: string; runId: string };
  log(`${shape.name}: started run ${run.runId}`);
  const rss = sampler(orchestratorPid, since);
  const temporalRss = sampler(base.temporalPid, since);

  let closed = false;
  let wallMs: number | undefined;
  const result$ = client.workflow
    .getHandle(run.workflowId, run.runId)
    .result()
    .then(
      () => undefined,
      (error: unknown) => log(`${shape.name}: the run ended with ${String(error).slice(0, 300)}`),
    )
    .finally(() => {
      closed = true;
      wallMs = performance.now() - begin;
    });

  const polls: StatusPoll[] = [];
  let flowctlStatus: ShapeFigures['flowctlStatus'];
  let flowctlStatus$: Promise<void> | undefined;
  const deadline = begin + options.largeTimeoutMin * 60_000;
  let lastLog = 0;
  while (!closed && performance.now() < deadline) {
    const at = since();
    const answer = await api('GET', `/api/Orchestration/status/${flowId}`).catch((error: unknown) => ({
      ms: NaN,
      status: 0,
      text: String(error),
    }));
    let body: Partial<RunSummary> = {};
    try {
      body = JSON.parse(answer.text) as RunSummary;
    } catch {
      /* not JSON: counted by its status */
    }
    polls.push({
      t: at,
      ms: answer.ms,
      bytes: Buffer.byteLength(answer.text),
      httpStatus: answer.status,
      ...(body.status ? { status: body.status } : {}),
      ...(body.completedSteps !== undefined ? { completedSteps: body.completedSteps } : {}),
      ...(body.segments ? { segment: body.segments.count } : {}),
      ...(body.error ? { error: body.error.message } : {}),
    });
    if (at - lastLog >= 30) {
      lastLog = at;
      log(
        `${shape.name}: ${at.toFixed(0)} s, ${body.completedSteps ?? '?'} steps done, segment ` +
          `${body.segments?.count ?? 1}, status ${answer.status} in ${answer.ms.toFixed(0)} ms (${kb(Buffer.byteLength(answer.text))})`,
      );
    }
    // flowctl status once, when the run has continued as new at least once (or after a minute).
    if (!flowctlStatus$ && ((body.segments?.count ?? 1) >= 2 || at >= 60) && !closed) {
      const atS = at;
      flowctlStatus$ = flowctl(base, scratch, ['-o', 'json', 'status', flowId]).then((answered) => {
        let summary: Partial<RunSummary> = {};
        try {
          summary = JSON.parse(answered.stdout) as RunSummary;
        } catch {
          /* left out */
        }
        flowctlStatus = {
          atS,
          ms: answered.ms,
          exitCode: answered.exitCode,
          ...(summary.status ? { status: summary.status } : {}),
          ...(summary.completedSteps !== undefined ? { completedSteps: summary.completedSteps } : {}),
        };
        log(
          `${shape.name}: flowctl status: exit ${answered.exitCode}, ${summary.status}, ${summary.completedSteps} steps`,
        );
      });
    }
    const pause = 1000 - (performance.now() - (begin + at * 1000));
    if (pause > 0) await Promise.race([sleep(pause), result$]);
  }
  if (!closed) {
    log(`${shape.name}: not finished after ${options.largeTimeoutMin} min; terminating it`);
    await api('POST', `/api/Orchestration/stop/${flowId}?terminate=true`);
    await result$;
    wallMs = undefined;
  }
  await flowctlStatus$;
  const rssSamples = await rss.stop();
  const temporalSamples = await temporalRss.stop();

  const final = await api('GET', `/api/Orchestration/status/${flowId}`);
  const summary = JSON.parse(final.text) as RunSummary;
  log(
    `${shape.name}: ${summary.status}, ${summary.completedSteps}/${shape.steps} steps` +
      (wallMs !== undefined ? ` in ${(wallMs / 1000).toFixed(0)} s` : '') +
      '; reading the histories',
  );
  const segments = await segmentsOf(client, run.workflowId, run.runId);
  return {
    name: shape.name,
    steps: shape.steps,
    edges: shape.bundle.edges,
    apply: {
      documents: shape.bundle.docs.length,
      yamlBytes: yaml.length,
      ms: applied.ms,
      summary: result.summary,
    },
    startMs: started.ms,
    ...(wallMs !== undefined ? { wallMs } : {}),
    outcome: summary.status,
    completedSteps: summary.completedSteps,
    segments,
    rss: rssSamples,
    temporalRss: temporalSamples,
    polls,
    ...(flowctlStatus ? { flowctlStatus } : {}),
    finalStatus: {
      ms: final.ms,
      bytes: Buffer.byteLength(final.text),
      steps: summary.steps.length,
      archivedLeft: summary.steps.filter((s) => s.archived).length,
      ...(summary.segments ? { segments: summary.segments.count } : {}),
    },
  };
}

/** Brings the services up, the orchestrator in its own process, and measures both shapes. */
export async function measureLarge(
  options: BenchOptions,
  teardown: Teardown,
  log: (line: string) => void,
): Promise<{ figures: LargeFigures; temporalVersion: string }> {
  const loadStart = os.loadavg();
  const base = await startBenchBase(teardown, log);
  const scratch = await mkdtemp(path.join(tmpdir(), 'flow-bench-large-'));
  teardown.push('bundle files', () => rm(scratch, { recursive: true, force: true }));
  log('orchestrator process (workers/orchestrator.ts)');
  const orchestrator = spawnBenchOrchestrator(base, teardown);
  await startBenchProcessor(base, teardown, log, base.namespace, base.codec);
  await startBenchProcessor(base, teardown, log, base.namespace, base.codec, voidProcessor);
  await orchestrator.waitFor('metrics and health listening', 180_000);
  const client = new Client({
    connection: base.clientConnection,
    namespace: base.namespace,
    dataConverter: dataConverter(base.codec),
  });

  const { largeLayers: layers, largeWidth: width, largeChain: chain } = options;
  const shapes: ShapeFigures[] = [];
  const failures: LargeFigures['failures'] = [];
  // The DAG first: it is the shorter run.
  const plans = [
    {
      name: `layered DAG ${layers} × ${width}`,
      file: 'large-dag.yaml',
      flow: 'LargeDagFlow',
      steps: layers * width,
      bundle: layeredBundle(layers, width),
    },
    {
      name: `chain ${chain}`,
      file: 'large-chain.yaml',
      flow: 'LargeChainFlow',
      steps: chain,
      bundle: chainBundle(chain),
    },
  ];
  for (const shape of plans)
    try {
      shapes.push(await measureShape(base, client, orchestrator.child.pid!, scratch, options, shape, log));
    } catch (error) {
      // A shape that cannot be applied or run is a finding: reported, and the other shape still measured.
      log(`${shape.name} failed: ${String(error)}`);
      failures.push({ name: shape.name, error: error instanceof Error ? error.message : String(error) });
    }
  return {
    figures: { shapes, failures, loadStart, loadEnd: os.loadavg(), benchRss: process.memoryUsage.rss() },
    temporalVersion: base.temporalVersion,
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const kb = (bytes: number) =>
  bytes >= 1024 * 1024 ? `${(bytes / 2 ** 20).toFixed(2)} MB` : `${(bytes / 1024).toFixed(0)} KB`;
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;
const ms = (value: number) => `${value.toFixed(0)} ms`;
const thousands = (n: number) => n.toLocaleString('en-US');

/** first / peak / last of a series. */
function flat(samples: Sample[]) {
  const values = samples.map((s) => s.value);
  return { first: values[0] ?? NaN, peak: Math.max(...values), last: values.at(-1) ?? NaN };
}

/** The series every `every` seconds, for the report: `0 s 312, 60 s 318, …` (MB). */
function series(samples: Sample[], every: number): string {
  const picked: Sample[] = [];
  for (const sample of samples)
    if (picked.length === 0 || sample.t >= picked.length * every) picked.push(sample);
  if (samples.length > 0 && picked.at(-1) !== samples.at(-1)) picked.push(samples.at(-1)!);
  return picked.map((s) => `${s.t.toFixed(0)} s: ${(s.value / 2 ** 20).toFixed(0)}`).join(', ');
}

export function renderLargeReport(f: LargeFigures, heading: string): string {
  const lines: string[] = ['# Benchmark: 10,000-step flows', '', heading, ''];
  lines.push(
    'Each flow is one bundle (its steps, its workflow, its flow) applied by `flowctl apply -f` (bin/flowctl.cjs, ' +
      'a child process: offline checks, `POST /api/Bundle/plan`, `POST /api/Bundle/apply`), started with ' +
      '`POST /api/Orchestration/start/{flowId}` and followed to its end; `GET /api/Orchestration/status/{flowId}` ' +
      'polled every second meanwhile (one request at a time). The orchestrator runs in its own process ' +
      '(`workers/orchestrator.ts`, as deployed, default history budget: 10,000 events / 10 MB per segment, or ' +
      "Temporal's suggestion); its RSS is read from /proc every second. The API and the processor workers " +
      `run in the bench process (${mb(f.benchRss)} RSS at the end). Load average at the start ` +
      `${f.loadStart.map((l) => l.toFixed(2)).join(' ')}, at the end ${f.loadEnd.map((l) => l.toFixed(2)).join(' ')} ` +
      '(2 cores shared with other work: times are noisy).',
    '',
    'The layered DAG: step P of layer k feeds steps P and P+1 (mod the width) of layer k+1, so each step after the ' +
      'first layer joins two; a fully connected layering would be 100 × 100 × 99 = 990,000 edges. Its processor ' +
      '`bench-void` returns null (`bench-noop` echoes its input, which through joins of two doubles per layer); the ' +
      'chain uses `bench-noop`.',
    '',
  );
  lines.push('| | ' + f.shapes.map((s) => s.name).join(' | ') + ' |');
  lines.push('| --- |' + f.shapes.map(() => ' --- |').join(''));
  const row = (label: string, cell: (s: ShapeFigures) => string) =>
    lines.push(`| ${label} | ${f.shapes.map(cell).join(' | ')} |`);
  row('steps / edges', (s) => `${thousands(s.steps)} / ${thousands(s.edges)}`);
  row('bundle: documents, YAML', (s) => `${thousands(s.apply.documents)}, ${kb(s.apply.yamlBytes)}`);
  row('`flowctl apply` (the CLI started with tsx included)', (s) => `${(s.apply.ms / 1000).toFixed(1)} s`);
  row('start call', (s) => ms(s.startMs));
  row('outcome, steps completed', (s) => `${s.outcome}, ${thousands(s.completedSteps)}`);
  row('wall time, start → result', (s) =>
    s.wallMs !== undefined
      ? `${(s.wallMs / 1000).toFixed(0)} s (${(s.wallMs / s.steps).toFixed(0)} ms per step)`
      : 'did not finish',
  );
  row('history segments', (s) => String(s.segments.length));
  row('events per segment, min / median / max', (s) => {
    const e = s.segments.map((g) => g.events);
    return `${thousands(Math.min(...e))} / ${thousands(median(e))} / ${thousands(Math.max(...e))}`;
  });
  row('history bytes per segment (Temporal), max', (s) =>
    kb(Math.max(...s.segments.map((g) => g.historySizeBytes))),
  );
  row('events, all segments', (s) => thousands(s.segments.reduce((a, g) => a + g.events, 0)));
  row('orchestrator RSS first / peak / last', (s) => {
    const r = flat(s.rss);
    return `${mb(r.first)} / ${mb(r.peak)} / ${mb(r.last)}`;
  });
  row('Temporal dev server RSS first / peak / last', (s) => {
    const r = flat(s.temporalRss);
    return `${mb(r.first)} / ${mb(r.peak)} / ${mb(r.last)}`;
  });
  row('status route while running: polls, p50 / p95 / max', (s) => {
    const running = s.polls.filter((p) => p.httpStatus === 200);
    const t = running.map((p) => p.ms);
    return `${running.length}, ${ms(quantile(t, 0.5))} / ${ms(quantile(t, 0.95))} / ${ms(Math.max(...t))}`;
  });
  row('status route answers other than 200', (s) => {
    const other = s.polls.filter((p) => p.httpStatus !== 200);
    return other.length === 0
      ? 'none'
      : other
          .map((p) => `${p.httpStatus} at ${p.t.toFixed(0)} s`)
          .slice(0, 5)
          .join(', ');
  });
  row('status answers without steps (no worker answered the query in 5 s)', (s) => {
    const fallback = s.polls.filter((p) => p.error);
    return fallback.length === 0
      ? 'none'
      : `${fallback.length} of ${s.polls.length}, at ${fallback.map((p) => `${p.t.toFixed(0)}`).join(', ')} s`;
  });
  row('status response size, median / max', (s) => {
    const b = s.polls.map((p) => p.bytes);
    return `${kb(median(b))} / ${kb(Math.max(...b))}`;
  });
  row('`flowctl status` during the run', (s) =>
    s.flowctlStatus
      ? `exit ${s.flowctlStatus.exitCode} at ${s.flowctlStatus.atS.toFixed(0)} s in ${(s.flowctlStatus.ms / 1000).toFixed(1)} s: ${s.flowctlStatus.status}, ${s.flowctlStatus.completedSteps} steps`
      : 'not run',
  );
  row(
    'status once closed: time, size, steps (stubs left)',
    (s) =>
      `${ms(s.finalStatus.ms)}, ${kb(s.finalStatus.bytes)}, ${thousands(s.finalStatus.steps)} (${s.finalStatus.archivedLeft})`,
  );
  lines.push('');
  for (const failure of f.failures)
    lines.push(`**${failure.name} failed:**`, '', '```', failure.error.slice(0, 3000), '```', '');
  for (const s of f.shapes) {
    lines.push(`## ${s.name}: segments`, '');
    lines.push(
      '| segment | events | bytes (Temporal) | bytes (encoded) | steps completed | markers (patches, local activities) | ' +
        'seconds | first workflow task done after | longest workflow task |',
    );
    lines.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    s.segments.forEach((g, i) =>
      lines.push(
        `| ${i + 1} | ${thousands(g.events)} | ${kb(g.historySizeBytes)} | ${kb(g.encodedBytes)} | ${thousands(g.steps)} | ${g.markers} | ${g.seconds.toFixed(0)} | ${g.firstTaskSeconds.toFixed(1)} s | ${g.longestTaskSeconds.toFixed(1)} s |`,
      ),
    );
    lines.push('');
    lines.push(
      `Orchestrator RSS (MB) over the run: ${series(s.rss, Math.max(30, Math.ceil((s.rss.at(-1)?.t ?? 0) / 20)))}.`,
      '',
    );
  }
  return lines.join('\n');
}
