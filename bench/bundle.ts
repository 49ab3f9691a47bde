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
import { startBenchBase, startBenchProcessor, type Teardown } from './services';

export interface BundleFigures {
  steps: number;
  applyCreateMs: number;
  applyUnchangedMs: number;
  planMs: number;
  restMs: number;
  restSteps: number;
  documents: number;
  bodyBytes: number;
}

/** A workflow holds at most 1,000 steps (the REST rule, until issue 14 raises it); more are split into flows. */
const STEPS_PER_WORKFLOW = 1000;

/** N steps as chains of at most 1,000, each with its workflow and flow: N + 2 documents per 1,000 steps. */
function chainBundle(prefix: string, steps: number) {
  const name = (i: number) => `${prefix}-step-${String(i + 1).padStart(5, '0')}`;
  const documents: object[] = [];
  for (let first = 0, part = 1; first < steps; first += STEPS_PER_WORKFLOW, part++) {
    const last = Math.min(steps, first + STEPS_PER_WORKFLOW);
    for (let i = first; i < last; i++)
      documents.push({
        kind: 'Step',
        name: name(i),
        version: '1.0',
        processor: `${NOOP.name}@${NOOP.version}`,
        next: i + 1 < last ? [`${name(i + 1)}@1.0`] : [],
      });
    documents.push(
      {
        kind: 'Workflow',
        name: `${prefix}-chain-${part}`,
        version: '1.0',
        steps: Array.from({ length: last - first }, (_, k) => `${name(first + k)}@1.0`),
      },
      {
        kind: 'OrchestratedFlow',
        name: `${prefix}-flow-${part}`,
        version: '1.0',
        workflow: `${prefix}-chain-${part}@1.0`,
      },
    );
  }
  return documents;
}

export async function measureBundles(
  options: BenchOptions,
  teardown: Teardown,
  log: (line: string) => void,
): Promise<{ figures: BundleFigures; temporalVersion: string }> {
  const base = await startBenchBase(teardown, log);
  // Registers the processor the steps name.
  await startBenchProcessor(base, teardown, log, base.namespace, base.codec);
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
  if (created.summary.create !== bundle.length)
    throw new Error(`expected ${bundle.length} creates: ${JSON.stringify(created)}`);
  const unchanged = await post('apply', bundle);
  if (unchanged.summary.unchanged !== bundle.length)
    throw new Error(`expected no change: ${JSON.stringify(unchanged)}`);
  const planned = await post('plan', bundle);
  // The REST comparison for one workflow's worth (1,000 steps at most: the cost grows linearly).
  const restSteps = Math.min(steps, STEPS_PER_WORKFLOW);
  log(`bundle: ${restSteps} steps through ${restSteps + 2} REST calls`);
  const begin = performance.now();
  await new FlowFactory(base.apiUrl, base.apiKey).chain(restSteps, 'rest-chain');
  const restMs = performance.now() - begin;
  return {
    figures: {
      steps,
      applyCreateMs: created.ms,
      applyUnchangedMs: unchanged.ms,
      planMs: planned.ms,
      restMs,
      restSteps,
      documents: bundle.length,
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
    `${f.steps} steps as chains (each step naming the next) of at most 1,000 with their workflows and flows: ` +
      `${f.documents} documents, ${(f.bodyBytes / 1024).toFixed(0)} KB of JSON, through the API as shipped ` +
      '(authenticated, audited).',
    '',
    '| | time | goal |',
    '| --- | --- | --- |',
    `| one \`POST /api/Bundle/apply\`, creating everything | ${s(f.applyCreateMs)} | ${f.steps <= 1000 ? '< 3 s' : ''} |`,
    `| the same apply again (everything unchanged) | ${s(f.applyUnchangedMs)} | |`,
    `| \`POST /api/Bundle/plan\` of it | ${s(f.planMs)} | |`,
    `| ${f.restSteps} steps, their workflow and flow through ${f.restSteps + 2} REST calls, one at a time | ${s(f.restMs)} | |`,
    '',
  ].join('\n');
}
