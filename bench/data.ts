/**
 * `npm run bench -- --data` (see bench/README.md): what the data plane costs, in one run on one dev server.
 *
 * 1. Large data: a chain of `--data-steps` steps whose every step emits `--data-mb` MB (`bench-blob`), through the
 *    orchestrator as shipped, in its own process (`workers/orchestrator.ts`), so its resident memory is its own. Wall time, history bytes per run, orchestrator RSS, and one step's download through the
 *    data route.
 * 2. Blob store: `PostgresBlobStore.put` / `get` (hash, encrypt, insert / select, decrypt, check) against a raw `pg`
 *    insert / select of the same bytes in the same database.
 * 3. Codec: the chain of the main benchmark (`--chain`, `bench-noop`) with the codec (namespace `bench-codec`) and
 *    without it (namespace `bench-plain`, a pass-through codec), interleaved; and the time spent inside the codec.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Client, type WorkflowHandle } from '@temporalio/client';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import pg from 'pg';
import { PostgresBlobStore } from '../activities/data/blob-store';
import { OrchestrationService } from '../api/orchestration/service';
import type { RunSummary } from '../domain/flow-types';
import { dataConverter } from '../infra/payload-keys';
import { createOrchestratorWorker } from '../workers/orchestrator-worker';
import { blobProcessor, BLOB } from './blob-processor';
import { FlowFactory, type BenchFlow } from './flows';
import type { BenchOptions } from './options';
import { rssOf } from './resources';
import { BenchRunError, runOurs } from './runners';
import { median, p95 } from './stats';
import {
  spawnBenchOrchestrator,
  startBenchBase,
  startBenchProcessor,
  type BenchBase,
  type Teardown,
} from './services';

const CODEC_NAMESPACE = 'bench-codec';
const PLAIN_NAMESPACE = 'bench-plain';
const MB = 1024 * 1024;

export interface DataFigures {
  options: BenchOptions;
  large: {
    wallMs: number[];
    historyBytes: number[];
    historyEvents: number[];
    /** Orchestrator RSS: after startup, after the warm-up run (the baseline), peak during the timed runs, last. */
    rss: { started: number; baseline: number; peak: number; last: number };
    /** One step's output through `GET …/steps/{stepId}/output`. */
    download: { bytes: number; ms: number };
  };
  blobs: {
    count: number;
    bytes: number;
    storeWriteMs: number;
    storeReadMs: number;
    rawWriteMs: number;
    rawReadMs: number;
  };
  codec: {
    runs: number;
    withCodecMs: number[];
    plainMs: number[];
    /** The codec alone on every payload the timed runs with it encoded: encode, decode, how many, their bytes. */
    encodeMs: number;
    decodeMs: number;
    payloads: number;
    payloadBytes: number;
  };
}

/** A codec that keeps what it encodes while `recording`, to time the codec on exactly those payloads afterwards. */
class RecordingCodec implements PayloadCodec {
  recording = false;
  readonly seen: Payload[] = [];

  constructor(private readonly inner: PayloadCodec) {}

  encode(payloads: Payload[]): Promise<Payload[]> {
    if (this.recording) this.seen.push(...payloads);
    return this.inner.encode(payloads);
  }

  decode(payloads: Payload[]): Promise<Payload[]> {
    return this.inner.decode(payloads);
  }
}

/** Encrypts and decrypts each payload once, one at a time: the codec's own cost, without the runs' waits. */
async function timeCodec(codec: PayloadCodec, payloads: Payload[]) {
  let encodeMs = 0;
  let decodeMs = 0;
  for (const payload of payloads) {
    const begin = performance.now();
    const encoded = await codec.encode([payload]);
    const middle = performance.now();
    await codec.decode(encoded);
    encodeMs += middle - begin;
    decodeMs += performance.now() - middle;
  }
  return { encodeMs, decodeMs };
}

const passThrough: PayloadCodec = {
  encode: (payloads) => Promise.resolve(payloads),
  decode: (payloads) => Promise.resolve(payloads),
};

/** Samples one process's RSS every `everyMs` from a moment on. */
function rssSampler(pid: number, everyMs = 200) {
  let peak = 0;
  let last = 0;
  const sample = async () => {
    last = (await rssOf(pid)) ?? last;
    peak = Math.max(peak, last);
  };
  const timer = setInterval(() => void sample(), everyMs);
  timer.unref();
  return {
    now: async () => {
      await sample();
      return last;
    },
    resetPeak: () => (peak = last),
    stop: async () => {
      clearInterval(timer);
      await sample();
      return { peak, last };
    },
  };
}

async function historyOf(handle: WorkflowHandle) {
  const history = await handle.fetchHistory();
  return {
    bytes: temporal.api.history.v1.History.encode(history).finish().length,
    events: history.events?.length ?? 0,
  };
}

/** Runs the three measurements; every service it starts is registered with `teardown`. */
export async function measureDataPlane(
  options: BenchOptions,
  teardown: Teardown,
  log: (line: string) => void,
): Promise<{ figures: DataFigures; base: BenchBase }> {
  const base = await startBenchBase(teardown, log, [CODEC_NAMESPACE, PLAIN_NAMESPACE]);
  const large = await measureLargeData(base, options, teardown, log);
  log('blob store against raw pg');
  const blobs = await measureBlobStore(base, options);
  const codec = await measureCodec(base, options, teardown, log);
  return { figures: { options, large, blobs, codec }, base };
}

async function measureLargeData(
  base: BenchBase,
  options: BenchOptions,
  teardown: Teardown,
  log: (line: string) => void,
): Promise<DataFigures['large']> {
  const bytes = options.dataMb * MB;
  // On the API's namespace, so the data route finds the runs.
  log(`orchestrator process; ${BLOB.name} worker (${options.dataMb} MB per step)`);
  const orchestrator = spawnBenchOrchestrator(base, teardown);
  const blob = blobProcessor(bytes);
  await startBenchProcessor(base, teardown, log, base.namespace, base.codec, blob.definition);
  await orchestrator.waitFor('metrics and health listening', 120_000);
  const pid = orchestrator.child.pid!;
  const rss = rssSampler(pid);
  const started = await rss.now();

  const client = new Client({
    connection: base.clientConnection,
    namespace: base.namespace,
    dataConverter: dataConverter(base.codec),
  });
  const orchestration = new OrchestrationService(base.prisma, client);
  const flow = await new FlowFactory(base.apiUrl, base.apiKey, BLOB).chain(options.dataSteps, 'data-chain');
  const run = async () => {
    blob.received.length = 0;
    const begin = performance.now();
    const runStart = await orchestration.start(flow.flowId, { input: { n: 1 }, correlationId: randomUUID() });
    const handle = client.workflow.getHandle(runStart.workflowId, runStart.runId);
    const summary = (await handle.result()) as RunSummary;
    const wallMs = performance.now() - begin;
    const resolved = blob.received.slice(1).every((length) => length === bytes);
    if (summary.status !== 'Completed' || summary.completedSteps !== flow.steps.length || !resolved)
      throw new BenchRunError(
        `run ${runStart.runId} ended ${summary.status} after ${summary.completedSteps} steps; ` +
          `received ${blob.received.join(', ')}`,
      );
    return { wallMs, handle, runId: runStart.runId };
  };
  log('large data: warm-up run');
  await run();
  const baseline = await rss.now();
  rss.resetPeak();
  const timed = [];
  for (let i = 0; i < options.dataRuns; i++) {
    timed.push(await run());
    log(`large data: run ${i + 1}/${options.dataRuns} ${(timed.at(-1)!.wallMs / 1000).toFixed(1)} s`);
  }
  const { peak, last } = await rss.stop();
  const histories = await Promise.all(timed.map((t) => historyOf(t.handle)));
  const download = await downloadStep(base, flow, timed.at(-1)!.runId);
  await orchestrator.stop();
  return {
    wallMs: timed.map((t) => t.wallMs),
    historyBytes: histories.map((h) => h.bytes),
    historyEvents: histories.map((h) => h.events),
    rss: { started, baseline, peak, last },
    download,
  };
}

/** The middle step's output through the data route, as a client would download it. */
async function downloadStep(base: BenchBase, flow: BenchFlow, runId: string) {
  const step = flow.steps[Math.floor(flow.steps.length / 2)]!;
  const url = `${base.apiUrl}/api/Orchestration/runs/${flow.flowId}/${runId}/steps/${step.id}/output`;
  const begin = performance.now();
  const response = await fetch(url, { headers: { authorization: `Bearer ${base.apiKey}` } });
  const body = Buffer.from(await response.arrayBuffer());
  const ms = performance.now() - begin;
  if (response.status !== 200)
    throw new BenchRunError(`${url} answered ${response.status}: ${body.toString()}`);
  return { bytes: body.length, ms };
}

async function measureBlobStore(base: BenchBase, options: BenchOptions): Promise<DataFigures['blobs']> {
  const count = options.dataSteps;
  const blobs = Array.from({ length: count }, () => randomBytes(options.dataMb * MB));
  const store = new PostgresBlobStore(base.prisma, base.codec.keyRing);
  const owner = { workflowId: `bench-blobs-${randomUUID()}`, runId: randomUUID() };
  const time = async (work: () => Promise<unknown>) => {
    const begin = performance.now();
    await work();
    return performance.now() - begin;
  };
  const hashes: string[] = [];
  const storeWriteMs = await time(async () => {
    for (const bytes of blobs) hashes.push(await store.put(bytes, 'application/octet-stream', owner));
  });
  const storeReadMs = await time(async () => {
    for (const hash of hashes) await store.get(hash);
  });
  const raw = new pg.Client({ connectionString: base.postgresUrl });
  await raw.connect();
  try {
    await raw.query('CREATE TABLE bench_raw_blob (id int PRIMARY KEY, data bytea NOT NULL)');
    const rawWriteMs = await time(async () => {
      for (const [id, bytes] of blobs.entries())
        await raw.query('INSERT INTO bench_raw_blob (id, data) VALUES ($1, $2)', [id, bytes]);
    });
    const rawReadMs = await time(async () => {
      for (const id of blobs.keys()) await raw.query('SELECT data FROM bench_raw_blob WHERE id = $1', [id]);
    });
    return { count, bytes: options.dataMb * MB, storeWriteMs, storeReadMs, rawWriteMs, rawReadMs };
  } finally {
    await raw.query('DROP TABLE IF EXISTS bench_raw_blob').catch(() => undefined);
    await raw.end();
  }
}

async function measureCodec(
  base: BenchBase,
  options: BenchOptions,
  teardown: Teardown,
  log: (line: string) => void,
): Promise<DataFigures['codec']> {
  log('codec: bundling workflows, starting workers with and without the codec');
  const recording = new RecordingCodec(base.codec);
  const sides = [
    { namespace: CODEC_NAMESPACE, codec: recording as PayloadCodec },
    { namespace: PLAIN_NAMESPACE, codec: passThrough },
  ];
  const services = [];
  for (const { namespace, codec } of sides) {
    const worker = await createOrchestratorWorker({
      connection: base.connection,
      namespace,
      prisma: base.prisma,
      logger: base.logger,
      codec,
    });
    base.run(`orchestrator worker (${namespace})`, worker);
    await startBenchProcessor(base, teardown, log, namespace, codec);
    const client = new Client({
      connection: base.clientConnection,
      namespace,
      dataConverter: dataConverter(codec),
    });
    services.push({ client, orchestration: new OrchestrationService(base.prisma, client) });
  }
  const [withCodec, plain] = services as [(typeof services)[0], (typeof services)[0]];
  const flow = await new FlowFactory(base.apiUrl, base.apiKey).chain(options.chain, 'codec-chain');
  const once = async (side: typeof withCodec) =>
    (await runOurs(side.orchestration, side.client, flow)).wallMs;
  for (let i = 0; i < options.warmup; i++) {
    await once(withCodec);
    await once(plain);
  }
  recording.recording = true;
  const figures = { withCodecMs: [] as number[], plainMs: [] as number[] };
  for (let i = 0; i < options.runs; i++) {
    const order = i % 2 === 0 ? ([withCodec, plain] as const) : ([plain, withCodec] as const);
    for (const side of order)
      (side === withCodec ? figures.withCodecMs : figures.plainMs).push(await once(side));
  }
  recording.recording = false;
  log(
    `codec: ${options.runs} runs per side done; timing the codec on their ${recording.seen.length} payloads`,
  );
  await timeCodec(base.codec, recording.seen.slice(0, 100)); // warm-up
  return {
    runs: options.runs,
    ...figures,
    ...(await timeCodec(base.codec, recording.seen)),
    payloads: recording.seen.length,
    payloadBytes: recording.seen.reduce((sum, p) => sum + (p.data?.length ?? 0), 0),
  };
}

const mbps = (bytes: number, ms: number) => (bytes / MB / (ms / 1000)).toFixed(0);
const mb = (bytes: number) => (bytes / MB).toFixed(1);
const kb = (bytes: number) => (bytes / 1024).toFixed(0);
const goal = (met: boolean) => (met ? 'met' : '**missed**');

/** The report, in markdown. */
export function renderDataReport(figures: DataFigures, heading: string): string {
  const { options: o, large, blobs, codec } = figures;
  const total = o.dataSteps * o.dataMb;
  const growth = large.rss.peak - large.rss.baseline;
  const maxHistory = Math.max(...large.historyBytes);
  const codecRatio = median(codec.withCodecMs) / median(codec.plainMs);
  const perStepUs = ((codec.encodeMs + codec.decodeMs) * 1000) / (codec.runs * o.chain);
  const blobTotal = blobs.count * blobs.bytes;
  return [
    '# Benchmark: the data plane',
    '',
    heading,
    '',
    `## Large data: ${o.dataSteps}-step chain, ${o.dataMb} MB per step (${total} MB through one run)`,
    '',
    `Each step (\`${BLOB.name}\`) receives its predecessor's output resolved from the blob store and emits ` +
      `${o.dataMb} MB of new random text, stored by reference. The orchestrator runs in its own process ` +
      `(\`workers/orchestrator.ts\`, as deployed); ${o.dataRuns} timed runs after one warm-up run.`,
    '',
    '| figure | value | goal |',
    '| --- | --- | --- |',
    `| wall time per run, median (min – max) | ${(median(large.wallMs) / 1000).toFixed(2)} s ` +
      `(${(Math.min(...large.wallMs) / 1000).toFixed(2)} – ${(Math.max(...large.wallMs) / 1000).toFixed(2)}) | |`,
    `| throughput through the steps | ${mbps(total * MB, median(large.wallMs))} MB/s | |`,
    `| history per run (protobuf bytes), largest | ${kb(maxHistory)} KB, ${Math.max(...large.historyEvents)} events ` +
      `| < 1 MB: ${goal(maxHistory < 1_000_000)} |`,
    `| orchestrator RSS: after start / after warm-up / peak / last | ${mb(large.rss.started)} / ` +
      `${mb(large.rss.baseline)} / ${mb(large.rss.peak)} / ${mb(large.rss.last)} MB | |`,
    `| orchestrator RSS growth over the timed runs (peak − after warm-up) | ${mb(growth)} MB ` +
      `| < 50 MB: ${goal(growth < 50 * MB)} |`,
    `| one step's output through the data route | ${mb(large.download.bytes)} MB in ` +
      `${large.download.ms.toFixed(0)} ms (${mbps(large.download.bytes, large.download.ms)} MB/s) | |`,
    '',
    `## Blob store against raw pg: ${blobs.count} blobs of ${o.dataMb} MB, one at a time`,
    '',
    'The store hashes (SHA-256), encrypts (AES-256-GCM) and inserts through Prisma, and on reading selects, ' +
      'decrypts and checks the hash; raw pg inserts and selects the same bytes (`bytea`) with the `pg` driver.',
    '',
    '| | blob store MB/s | raw pg MB/s | ratio |',
    '| --- | --- | --- | --- |',
    `| write | ${mbps(blobTotal, blobs.storeWriteMs)} | ${mbps(blobTotal, blobs.rawWriteMs)} | ` +
      `${(blobs.rawWriteMs / blobs.storeWriteMs).toFixed(2)} |`,
    `| read | ${mbps(blobTotal, blobs.storeReadMs)} | ${mbps(blobTotal, blobs.rawReadMs)} | ` +
      `${(blobs.rawReadMs / blobs.storeReadMs).toFixed(2)} |`,
    '',
    `## Codec: chain N = ${o.chain} (\`bench-noop\`), with and without`,
    '',
    `${codec.runs} timed runs per side after ${o.warmup} warm-up runs each, interleaved; the same orchestrator and ` +
      `processor code in this process, one side with the AES-256-GCM codec (namespace \`${CODEC_NAMESPACE}\`), the ` +
      `other with a pass-through codec (namespace \`${PLAIN_NAMESPACE}\`). The codec's own cost: every payload the ` +
      "codec side's client and workers encoded during its timed runs, encrypted and decrypted once more, one at a " +
      'time, after the runs.',
    '',
    '| figure | value | goal |',
    '| --- | --- | --- |',
    `| wall time median / p95, with codec | ${median(codec.withCodecMs).toFixed(0)} / ` +
      `${p95(codec.withCodecMs).toFixed(0)} ms | |`,
    `| wall time median / p95, without | ${median(codec.plainMs).toFixed(0)} / ${p95(codec.plainMs).toFixed(0)} ms | |`,
    `| ratio of medians | ${codecRatio.toFixed(3)} | ≤ 1.05: ${goal(codecRatio <= 1.05)} |`,
    `| codec time per step (encrypt + decrypt) | ${perStepUs.toFixed(0)} µs | |`,
    `| codec time per payload: encrypt / decrypt | ${((codec.encodeMs * 1000) / codec.payloads).toFixed(0)} / ` +
      `${((codec.decodeMs * 1000) / codec.payloads).toFixed(0)} µs (${codec.payloads} payloads, ` +
      `${(codec.payloadBytes / codec.payloads).toFixed(0)} bytes each on average, in ${codec.runs} runs) | |`,
    '',
  ].join('\n');
}
