/**
 * `npm run bench -- --bundle [--bundle-steps N]`: a flow of N chained steps (default 1,000) created by one bundle
 * apply, applied again (everything unchanged), and planned; against the same flow created with one REST call per
 * entity, on the same API and database.
 */
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import { FlowFactory } from './flows';
import { NOOP } from './constants';
import type { BenchOptions } from './options';
import { startBenchBase, startNoopProcessor, type Teardown } from './services';

export interface BundleFigures {
  steps: number;
  applyCreateMs: number;
  applyUnchangedMs: number;
  planMs: number;
  restMs: number;
  bodyBytes: number;
}

function chainBundle(prefix: string, steps: number) {
  const name = (i: number) => `${prefix}-step-${String(i + 1).padStart(5, '0')}`;
  return [
    ...Array.from({ length: steps }, (_, i) => ({
      kind: 'Step',
      name: name(i),
      version: '1.0',
      processor: `${NOOP.name}@${NOOP.version}`,
      next: i + 1 < steps ? [`${name(i + 1)}@1.0`] : [],
    })),
    {
      kind: 'Workflow',
      name: `${prefix}-chain`,
      version: '1.0',
      steps: Array.from({ length: steps }, (_, i) => `${name(i)}@1.0`),
    },
    { kind: 'OrchestratedFlow', name: `${prefix}-flow`, version: '1.0', workflow: `${prefix}-chain@1.0` },
  ];
}

export async function measureBundles(
  options: BenchOptions,
  teardown: Teardown,
  log: (line: string) => void,
): Promise<{ figures: BundleFigures; temporalVersion: string }> {
  const base = await startBenchBase(teardown, log);
  // Registers the processor the steps name.
  await startNoopProcessor(base, teardown, log, base.namespace, base.codec);
  const steps = options.bundleSteps;
  const post = async (route: string, documents: unknown[]) => {
    const body = JSON.stringify({ documents });
    const begin = performance.now();
    const response = await fetch(`${base.apiUrl}/api/Bundle/${route}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${base.apiKey}`, 'content-type': 'application/json' },
      body,
    });
    const text = await response.text();
    const ms = performance.now() - begin;
    if (response.status !== 200)
      throw new Error(`${route} answered ${response.status}: ${text.slice(0, 500)}`);
    return {
      ms,
      bytes: body.length,
      summary: (JSON.parse(text) as { summary: Record<string, number> }).summary,
    };
  };
  // Warm-up: a small bundle, so the first measurement does not pay for connections and JIT.
  await post('apply', chainBundle(`warm-${randomUUID().slice(0, 8)}`, 10));
  const bundle = chainBundle(`b-${randomUUID().slice(0, 8)}`, steps);
  log(`bundle: applying ${steps} steps`);
  const created = await post('apply', bundle);
  if (created.summary.create !== steps + 2)
    throw new Error(`expected ${steps + 2} creates: ${JSON.stringify(created)}`);
  const unchanged = await post('apply', bundle);
  if (unchanged.summary.unchanged !== steps + 2)
    throw new Error(`expected no change: ${JSON.stringify(unchanged)}`);
  const planned = await post('plan', bundle);
  log(`bundle: the same flow through ${steps + 2} REST calls`);
  const begin = performance.now();
  await new FlowFactory(base.apiUrl, base.apiKey).chain(steps, 'rest-chain');
  const restMs = performance.now() - begin;
  return {
    figures: {
      steps,
      applyCreateMs: created.ms,
      applyUnchangedMs: unchanged.ms,
      planMs: planned.ms,
      restMs,
      bodyBytes: created.bytes,
    },
    temporalVersion: base.temporalVersion,
  };
}

export function renderBundleReport(f: BundleFigures, heading: string): string {
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  return [
    '# Benchmark: bundles',
    '',
    heading,
    '',
    `A chain of ${f.steps} steps (each naming the next) with its workflow and flow: ${f.steps + 2} documents, ` +
      `${(f.bodyBytes / 1024).toFixed(0)} KB of JSON, through the API as shipped (authenticated, audited).`,
    '',
    '| | time | goal |',
    '| --- | --- | --- |',
    `| one \`POST /api/Bundle/apply\`, creating everything | ${s(f.applyCreateMs)} | < 3 s |`,
    `| the same apply again (everything unchanged) | ${s(f.applyUnchangedMs)} | |`,
    `| \`POST /api/Bundle/plan\` of it | ${s(f.planMs)} | |`,
    `| the same flow through ${f.steps + 2} REST calls, one at a time | ${s(f.restMs)} | |`,
    '',
  ].join('\n');
}
