/** The benchmark's settings: command-line flags, parsed once. */
import { parseArgs } from 'node:util';
import { z } from 'zod';

const count = (fallback: number, min = 1) => z.coerce.number().int().min(min).default(fallback);

const optionsSchema = z.object({
  /** Timed runs per shape and side, after the warm-up. */
  runs: count(20),
  /** Untimed runs per shape and side first (worker caches, JIT, connection pools). */
  warmup: count(3, 0),
  /** Steps of the chain. */
  chain: count(20),
  /** Branches of the fan-out (entry → W branches → join). */
  fanout: count(50),
  /** Concurrent runs at saturation. */
  concurrent: count(100),
  /** Steps of each chain at saturation. */
  saturationSteps: count(5),
  /** Saturation rounds per side, alternating which side goes first. */
  rounds: count(8),
  /** Measure the data plane instead (bench/data.ts). */
  data: z.boolean().default(false),
  /** Data plane: steps of the chain whose every step emits `dataMb`. */
  dataSteps: count(10),
  /** Data plane: megabytes each step emits. */
  dataMb: count(10),
  /** Data plane: timed runs of the large-data chain, after one warm-up run. */
  dataRuns: count(3),
  /** Measure bundle apply instead (bench/bundle.ts). */
  bundle: z.boolean().default(false),
  /** Bundles: steps of the chain applied in one bundle. */
  bundleSteps: count(1000),
  /** Measure the console in Chromium instead (bench/console.ts). */
  console: z.boolean().default(false),
  /** Measure 10,000-step flows instead (bench/large.ts). */
  large: z.boolean().default(false),
  /** Large flows: steps of the chain. */
  largeChain: count(10_000),
  /** Large flows: layers of the layered DAG. */
  largeLayers: count(100),
  /** Large flows: steps per layer of the layered DAG. */
  largeWidth: count(100),
  /** Large flows: a run still open after this many minutes is terminated (and reported as not finished). */
  largeTimeoutMin: count(40),
  /** Where to write the markdown report (default bench/results.md, with --data bench/data-results.md). */
  out: z.string().optional(),
});

export type BenchOptions = z.infer<typeof optionsSchema>;

export const USAGE = `Usage: npx tsx bench/run.ts [options]
  --runs K              timed runs per shape and side (default 20)
  --warmup N            untimed runs per shape and side first (default 3)
  --chain N             chain length (default 20)
  --fanout W            fan-out width: entry → W branches → join (default 50)
  --concurrent M        concurrent runs at saturation (default 100)
  --saturation-steps S  steps of each saturation chain (default 5)
  --rounds R            saturation rounds per side (default 8)
  --out FILE            report file (default bench/results.md; with --data bench/data-results.md)

  --data                measure the data plane instead (bench/data.ts): a chain whose steps each emit large
                        data, blob store against raw pg, and the codec's cost on the --chain chain (--runs,
                        --warmup runs per side, with and without the codec)
  --data-steps N        steps of the large-data chain (default 10)
  --data-mb M           megabytes each of its steps emits (default 10)
  --data-runs K         timed runs of the large-data chain, after one warm-up run (default 3)

  --bundle              measure bundle apply instead (bench/bundle.ts), report in bench/bundle-results.md
  --bundle-steps N      steps of the chain applied in one bundle (default 1000)

  --console             measure the console in Chromium instead (bench/console.ts): a 1,000-step DAG's
                        layout, live update latency, 1,000 flows; report in bench/console-results.md

  --large               measure 10,000-step flows instead (bench/large.ts): a chain and a layered DAG applied
                        by flowctl, run to the end; segments, RSS, status latency; bench/large-results.md
  --large-chain N       steps of the chain (default 10000)
  --large-layers L      layers of the DAG (default 100)
  --large-width W       steps per layer of the DAG (default 100)
  --large-timeout-min M a run still open after M minutes is terminated (default 40)`;

/** Raised for unknown or invalid flags; the message ends with the usage. */
export class BenchOptionsError extends Error {
  override name = 'BenchOptionsError';
}

/** @throws BenchOptionsError for an unknown flag or a value out of range. */
export function parseBenchOptions(argv: string[]): BenchOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        runs: { type: 'string' },
        warmup: { type: 'string' },
        chain: { type: 'string' },
        fanout: { type: 'string' },
        concurrent: { type: 'string' },
        'saturation-steps': { type: 'string' },
        rounds: { type: 'string' },
        out: { type: 'string' },
        data: { type: 'boolean' },
        'data-steps': { type: 'string' },
        'data-mb': { type: 'string' },
        'data-runs': { type: 'string' },
        bundle: { type: 'boolean' },
        'bundle-steps': { type: 'string' },
        console: { type: 'boolean' },
        large: { type: 'boolean' },
        'large-chain': { type: 'string' },
        'large-layers': { type: 'string' },
        'large-width': { type: 'string' },
        'large-timeout-min': { type: 'string' },
      },
      strict: true,
    }));
  } catch (error) {
    throw new BenchOptionsError(`${(error as Error).message}\n${USAGE}`);
  }
  const parsed = optionsSchema.safeParse({
    ...values,
    saturationSteps: values['saturation-steps'],
    dataSteps: values['data-steps'],
    dataMb: values['data-mb'],
    dataRuns: values['data-runs'],
    bundleSteps: values['bundle-steps'],
    largeChain: values['large-chain'],
    largeLayers: values['large-layers'],
    largeWidth: values['large-width'],
    largeTimeoutMin: values['large-timeout-min'],
  });
  if (!parsed.success)
    throw new BenchOptionsError(
      `${parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('\n')}\n${USAGE}`,
    );
  return parsed.data;
}
