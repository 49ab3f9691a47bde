/** The benchmark's figures as markdown: printed, and written to bench/results.md. Pure. */
import { eventDiff, type HistoryFacts } from './history';
import type { BenchOptions } from './options';
import type { CpuTimes, Memory } from './resources';
import { median, p95 } from './stats';

export interface SideFigures {
  wallMs: number[];
  startMs: number[];
  /** CPU spent during each run. */
  cpu: CpuTimes[];
  histories: HistoryFacts[];
}

export interface ShapeFigures {
  name: string;
  steps: number;
  ours: SideFigures;
  handWritten: SideFigures;
}

export interface Burst {
  /** First start → last result. */
  elapsedMs: number;
  cpu: CpuTimes;
}

export interface SaturationFigures {
  runs: number;
  steps: number;
  ours: Burst[];
  handWritten: Burst[];
  /** The hand-written chain with what the product adds to a run (bench/workflows.ts, `handWrittenChainWithExtras`). */
  withExtras: Burst[];
}

export interface Environment {
  date: string;
  cpus: string;
  node: string;
  platform: string;
  memory: string;
  temporal: string;
  sdk: string;
  load: string;
  /** Whether our side exported traces (the hand-written side never does). */
  tracing: string;
  totalSeconds: number;
}

export interface BenchFigures {
  environment: Environment;
  options: BenchOptions;
  shapes: ShapeFigures[];
  saturation: SaturationFigures;
  memory: Memory;
}

const SIDES = [
  ['ours', 'ours'],
  ['handWritten', 'hand-written'],
] as const;

const ms = (value: number) => (Number.isFinite(value) ? value.toFixed(1) : '–');
const mb = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MB`;
const goal = (ok: boolean) => (ok ? 'met' : '**missed**');
const eventCounts = (side: SideFigures) => side.histories.map((h) => h.types.length);
/** Events other than WorkflowTask*: independent of how activity completions happen to batch into workflow tasks. */
const nonTaskEvents = (h: HistoryFacts) => h.types.filter((t) => !t.startsWith('WorkflowTask')).length;
const signed = (n: number) => (n > 0 ? `+${n}` : String(n));
/** Median CPU ms of this process / of the Temporal server. */
const cpuCell = (cpu: CpuTimes[]) =>
  `${ms(median(cpu.map((c) => c.process)))} / ${ms(median(cpu.map((c) => c.temporal ?? NaN)))}`;

/** The event count of the runs, with the range when they differ (workflow-task batching varies with timing). */
function eventCount(side: SideFigures): string {
  const counts = eventCounts(side);
  const [lo, hi] = [Math.min(...counts), Math.max(...counts)];
  return lo === hi ? String(lo) : `${median(counts)} (${lo}–${hi})`;
}

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function heading({ environment: env, options: o }: BenchFigures): string[] {
  return [
    '# Benchmark: interpreter vs hand-written workflow',
    '',
    `${env.date} · ${env.cpus} · ${env.memory} · load average at the start ${env.load} · Node ${env.node} · ` +
      `${env.platform} · ${env.temporal}, in-memory dev server · Temporal TypeScript SDK ${env.sdk} · ` +
      `tracing ${env.tracing} · total ${env.totalSeconds.toFixed(0)} s`,
    '',
    `Settings: K = ${o.runs} timed runs per shape and side after ${o.warmup} warm-up runs each, interleaved (ours ` +
      `first on even runs, hand-written first on odd ones); chain N = ${o.chain}; fan-out W = ${o.fanout} ` +
      `(entry → ${o.fanout} branches → join: ${o.fanout + 2} steps); saturation M = ${o.concurrent} concurrent ` +
      `${o.saturationSteps}-step chains, ${o.rounds} rounds per side. Processor \`bench-noop\` returns its input.`,
    '',
  ];
}

function perRun(shapes: ShapeFigures[]): string[] {
  return [
    '## Wall time and history size per run',
    '',
    'Wall time: the start call → the result, in the client (ours through `OrchestrationService.start`, as the',
    'REST route does). Goals: ratio ours / hand-written ≤ 1.05; history events ours − hand-written ≤ 2. How many',
    'workflow tasks a fan-out takes depends on how its completions batch, so the last column leaves them out.',
    '',
    table(
      [
        'shape',
        'ours median ms',
        'ours p95 ms',
        'hand median ms',
        'hand p95 ms',
        'ratio of medians',
        'goal',
        'events ours',
        'events hand',
        'Δ events (medians)',
        'goal',
        'Δ without workflow-task events',
      ],
      shapes.map((s) => {
        const ratio = median(s.ours.wallMs) / median(s.handWritten.wallMs);
        const delta = median(eventCounts(s.ours)) - median(eventCounts(s.handWritten));
        return [
          `${s.name} (${s.steps} steps)`,
          ms(median(s.ours.wallMs)),
          ms(p95(s.ours.wallMs)),
          ms(median(s.handWritten.wallMs)),
          ms(p95(s.handWritten.wallMs)),
          ratio.toFixed(3),
          goal(ratio <= 1.05),
          eventCount(s.ours),
          eventCount(s.handWritten),
          signed(delta),
          goal(delta <= 2),
          signed(
            median(s.ours.histories.map(nonTaskEvents)) - median(s.handWritten.histories.map(nonTaskEvents)),
          ),
        ];
      }),
    ),
    '',
  ];
}

function breakdown(shapes: ShapeFigures[]): string[] {
  return [
    '## Where the time goes (medians)',
    '',
    'Start call: the client call alone (ours also loads and checks the definition in Postgres). Server: the',
    "history's first → last event time. First step: workflow started → first `bench-noop` activity scheduled.",
    'Task dispatch: a workflow or activity task scheduled → started (waiting for a poll), over every task of every',
    'run. CPU: used during the run by this process (API, clients, all three workers) / by the Temporal server.',
    '',
    table(
      [
        'shape',
        'side',
        'start call ms',
        'server ms',
        'first step ms',
        'server ms per step after it',
        'task dispatch ms',
        'CPU ms per run',
      ],
      shapes.flatMap((s) =>
        SIDES.map(([side, label]) => {
          const f = s[side];
          const server = median(f.histories.map((h) => h.serverMs));
          const firstStep = median(f.histories.map((h) => h.firstStepMs));
          return [
            s.name,
            label,
            ms(median(f.startMs)),
            ms(server),
            ms(firstStep),
            ms((server - firstStep) / s.steps),
            ms(median(f.histories.flatMap((h) => h.dispatchMs))),
            cpuCell(f.cpu),
          ];
        }),
      ),
    ),
    '',
  ];
}

function saturation(sat: SaturationFigures): string[] {
  return [
    '## Throughput at saturation',
    '',
    `${sat.runs} runs of a ${sat.steps}-step chain started at once (ours: ${sat.runs} orchestrated flows over one ` +
      'workflow, each with its own manual-run workflow ID); elapsed = first start → last result. CPU per flow: this',
    'process / the Temporal server, median over rounds. The third row is not a goal: the hand-written chain with what',
    'the product adds to every run (the definition loaded by the start path and passed in the input, search',
    'attributes, memo and summary, a patch marker, log lines, a run summary as result): ours against it is the',
    "interpreter's own cost; it against the plain hand-written chain is the cost of those features.",
    '',
    table(
      ['side', 'elapsed s per round', 'flows/s (median)', 'steps/s (median)', 'CPU ms per flow'],
      [...SIDES, ['withExtras', 'hand-written + the extras'] as const].map(([side, label]) => {
        const bursts = sat[side];
        const flowsPerSecond = median(bursts.map((b) => sat.runs / (b.elapsedMs / 1000)));
        return [
          label,
          bursts.map((b) => (b.elapsedMs / 1000).toFixed(2)).join(', '),
          flowsPerSecond.toFixed(1),
          (flowsPerSecond * sat.steps).toFixed(0),
          cpuCell(
            bursts.map((b) => ({
              process: b.cpu.process / sat.runs,
              temporal: (b.cpu.temporal ?? NaN) / sat.runs,
            })),
          ),
        ];
      }),
    ),
    '',
  ];
}

function memory(m: Memory): string[] {
  const row = (name: string, r: Memory['process']) => [name, mb(r.first), mb(r.peak), mb(r.last)];
  return [
    '## Memory (RSS)',
    '',
    table(
      ['process', 'after startup', 'peak', 'at the end'],
      [
        row('benchmark: API, orchestrator + hand-written + processor workers, clients', m.process),
        ...(m.temporal ? [row('Temporal dev server', m.temporal)] : []),
      ],
    ),
    '',
  ];
}

function eventTypes(shapes: ShapeFigures[]): string[] {
  const out = ['## History events by type (the first timed run of each side)', ''];
  for (const s of shapes) {
    const ours = s.ours.histories[0]?.types ?? [];
    const hand = s.handWritten.histories[0]?.types ?? [];
    out.push(
      `### ${s.name}`,
      '',
      table(
        ['event type', 'ours', 'hand-written', 'Δ'],
        [
          ...eventDiff(ours, hand).map((d) => [
            d.type,
            String(d.ours),
            String(d.handWritten),
            signed(d.delta),
          ]),
          ['**total**', String(ours.length), String(hand.length), signed(ours.length - hand.length)],
        ],
      ),
      '',
      `Ours begins: ${ours.slice(0, 11).join(' → ')} …`,
      '',
      `Hand-written begins: ${hand.slice(0, 5).join(' → ')} …`,
      '',
    );
  }
  return out;
}

/** The whole report. */
export function renderReport(figures: BenchFigures): string {
  return [
    ...heading(figures),
    ...perRun(figures.shapes),
    ...breakdown(figures.shapes),
    ...saturation(figures.saturation),
    ...memory(figures.memory),
    ...eventTypes(figures.shapes),
  ].join('\n');
}
