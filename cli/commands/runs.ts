/** `flowctl run`, `status`, `runs`, `stop`, `pause`, `resume`, `rerun`: runs of a flow, followed live. */
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunListItem } from '../../api/orchestration/run-status';
import type { PauseInfo, RunStatus, RunSummary, StepError, StepState } from '../../domain/flow-types';
import { CliError, EXIT, type FlowApi } from '../client';
import { duration, table } from '../output';
import { findEntity, UUID, type Context } from './context';

const POLL_MS = 500;
const OPEN: readonly RunStatus[] = ['Running', 'Paused'];

/** The exit code a closed run ends flowctl with. */
export function exitCodeOf(status: RunStatus): number {
  if (status === 'Completed') return EXIT.ok;
  if (status === 'Failed') return EXIT.failed;
  if (status === 'Cancelled') return EXIT.cancelled;
  return EXIT.terminated;
}

/** A run input: `--input` JSON (or `@file.json`), or the JSON file `--input-file` names. @throws CliError (exit 4) */
async function readInput(options: { input?: string; inputFile?: string }): Promise<unknown> {
  const { input, inputFile } = options;
  if (input === undefined && inputFile === undefined) return undefined;
  const file = inputFile ?? (input?.startsWith('@') ? input.slice(1) : undefined);
  const source = file === undefined ? input : await readFile(file, 'utf8').catch(() => undefined);
  if (source === undefined) throw new CliError(`cannot read ${file}`, EXIT.usage);
  try {
    return JSON.parse(source) as unknown;
  } catch (error) {
    const what = inputFile === undefined ? '--input' : `--input-file ${inputFile}`;
    throw new CliError(`${what} is not JSON: ${(error as Error).message}`, EXIT.usage);
  }
}

const errorText = (error: StepError) => `${error.type ? `${error.type}: ` : ''}${error.message}`;

const MARKS: Record<StepState['status'], string> = {
  Pending: '·',
  Running: '▶',
  Succeeded: '✔',
  Failed: '✖',
  Skipped: '↷',
  Cancelled: '■',
};

function stepLine(ctx: Context, step: StepState): string {
  const { color } = ctx.out;
  const tint = {
    Succeeded: 'green',
    Failed: 'red',
    Skipped: 'gray',
    Cancelled: 'yellow',
    Running: 'blue',
  } as const;
  const mark =
    step.status in tint
      ? color(tint[step.status as keyof typeof tint], MARKS[step.status])
      : MARKS[step.status];
  const took =
    step.startedAt && step.completedAt
      ? duration(Date.parse(step.completedAt) - Date.parse(step.startedAt))
      : undefined;
  const extra = [
    took,
    step.attempts > 1 ? `${step.attempts} attempts` : undefined,
    step.error ? errorText(step.error) : undefined,
    step.reason,
    step.reusedFrom ? `reused from run ${step.reusedFrom.runId}` : undefined,
  ].filter(Boolean);
  return `  ${mark} ${step.name}  ${step.status}${extra.length ? `  ${extra.join(' · ')}` : ''}`;
}

const pausedText = (paused: PauseInfo) =>
  `Paused by ${paused.by} at ${paused.at}${paused.reason ? `: ${paused.reason}` : ''}`;

/** The saga after a failure or a compensating stop: `Compensation Completed: Charge Succeeded, …`. */
const compensationText = ({ compensation }: RunSummary) =>
  compensation
    ? `Compensation ${compensation.status}: ${compensation.steps.map((s) => `${s.name} ${s.status}`).join(', ')}`
    : undefined;

const decided = (run: RunSummary) =>
  run.steps.filter((s) => !['Pending', 'Running'].includes(s.status)).length;

function bar(run: RunSummary): string {
  const total = Math.max(run.totalSteps, run.steps.length, 1);
  const done = decided(run);
  const width = 30;
  const filled = Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} steps`;
}

/** Follows a run until it closes: a line per step change, a progress bar on a terminal. Answers the closed run. */
async function follow(
  ctx: Context,
  api: FlowApi,
  flowId: string,
  runId: string,
  ref: string,
): Promise<RunSummary> {
  const seen = new Map<string, string>();
  let shown: RunStatus = 'Running';
  const live = ctx.out.format === 'table';
  const tty = live && ctx.out.tty;
  let detached = false;
  const onInterrupt = () => {
    detached = true;
    if (tty) process.stdout.write('\r\u001b[2K');
    process.stderr.write(
      `\nDetached: run ${runId} goes on. Follow it again with: flowctl status ${ref} --run ${runId} --wait\n`,
    );
    process.exit(130);
  };
  process.once('SIGINT', onInterrupt);
  try {
    for (;;) {
      const run = (await api.request<RunSummary>('GET', `/api/Orchestration/runs/${flowId}/${runId}`)).body;
      if (live) {
        if (tty) process.stdout.write('\r\u001b[2K');
        // A pause or a resume first: the steps a resume lets start come after it.
        if (OPEN.includes(run.status) && run.status !== shown)
          ctx.out.line(
            run.status === 'Paused'
              ? ctx.out.color('yellow', run.paused ? pausedText(run.paused) : 'Paused')
              : 'Resumed',
          );
        for (const step of run.steps) {
          const state = `${step.status}/${step.attempts}`;
          if (seen.get(step.stepId) === state || step.status === 'Pending') continue;
          seen.set(step.stepId, state);
          ctx.out.line(stepLine(ctx, step));
        }
        // Redrawn after every poll (the last one too, then cleared for the closing line).
        if (tty) process.stdout.write(bar(run));
      }
      shown = run.status;
      if (!OPEN.includes(run.status) || detached) {
        if (tty) process.stdout.write('\r\u001b[2K');
        return run;
      }
      await sleep(POLL_MS);
    }
  } finally {
    process.off('SIGINT', onInterrupt);
  }
}

function closing(ctx: Context, run: RunSummary): number {
  if (ctx.out.format !== 'table') {
    ctx.out.data(run);
    return exitCodeOf(run.status);
  }
  const took = run.completedAt
    ? ` in ${duration(Date.parse(run.completedAt) - Date.parse(run.startedAt))}`
    : '';
  const tint = run.status === 'Completed' ? 'green' : run.status === 'Failed' ? 'red' : 'yellow';
  ctx.out.line(
    ctx.out.color(
      'bold',
      `Run ${run.runId} ${ctx.out.color(tint, run.status)}${took}: ${decided(run)}/${run.totalSteps} steps decided`,
    ) + (run.error ? `\n  ${errorText(run.error)}` : ''),
  );
  const compensation = compensationText(run);
  if (compensation) ctx.out.line(`  ${compensation}`);
  return exitCodeOf(run.status);
}

export async function run(
  ctx: Context,
  ref: string,
  options: { input?: string; wait?: boolean; idempotencyKey?: string },
): Promise<number> {
  const input = await readInput(options);
  const api = await ctx.api();
  const flow = await findEntity(api, 'OrchestratedFlow', ref);
  const started = (
    await api.request<{ runId: string; correlationId: string }>(
      'POST',
      `/api/Orchestration/start/${flow.id}`,
      {
        body: input === undefined ? {} : { input },
        ...(options.idempotencyKey ? { headers: { 'Idempotency-Key': options.idempotencyKey } } : {}),
      },
    )
  ).body;
  if (!options.wait) {
    ctx.out.show(started, () => ctx.out.line(`Started run ${started.runId} of ${flow.name}@${flow.version}`));
    return EXIT.ok;
  }
  if (ctx.out.format === 'table')
    ctx.out.line(
      `Run ${started.runId} of ${flow.name}@${flow.version} (correlation ${started.correlationId})`,
    );
  const closed = await follow(ctx, api, flow.id, started.runId, ref);
  return closing(ctx, closed);
}

export async function status(
  ctx: Context,
  ref: string,
  options: { run?: string; wait?: boolean },
): Promise<number> {
  const api = await ctx.api();
  const flow = await findEntity(api, 'OrchestratedFlow', ref);
  const current = (
    await api.request<RunSummary>(
      'GET',
      options.run
        ? `/api/Orchestration/runs/${flow.id}/${options.run}`
        : `/api/Orchestration/status/${flow.id}`,
    )
  ).body;
  if (options.wait && OPEN.includes(current.status)) {
    const closed = await follow(ctx, api, flow.id, current.runId, ref);
    return closing(ctx, closed);
  }
  ctx.out.show(current, () => printRun(ctx, `${flow.name}@${flow.version}`, current));
  // A run that closed before --wait looked: the exit code still tells its outcome.
  return options.wait ? exitCodeOf(current.status) : EXIT.ok;
}

function printRun(ctx: Context, flow: string, current: RunSummary): void {
  const trigger = current.rerunOf ? `rerun of ${current.rerunOf.runId}` : current.trigger;
  ctx.out.line(
    `Run ${current.runId} of ${flow}: ${current.status} (${trigger}, started ${current.startedAt}${
      current.segments ? `, ${current.segments.count} segments` : ''
    })`,
  );
  if (current.paused) ctx.out.line(`  ${pausedText(current.paused)}`);
  for (const step of current.steps) ctx.out.line(stepLine(ctx, step));
  if (current.error) ctx.out.line(`  ${errorText(current.error)}`);
  const compensation = compensationText(current);
  if (compensation) ctx.out.line(`  ${compensation}`);
}

export async function runs(ctx: Context, ref: string, options: { limit?: string }): Promise<number> {
  const api = await ctx.api();
  const flow = await findEntity(api, 'OrchestratedFlow', ref);
  const { body, headers } = await api.request<RunListItem[]>(
    'GET',
    `/api/Orchestration/runs/${flow.id}?limit=${encodeURIComponent(options.limit ?? '20')}`,
  );
  ctx.out.show(body, () => {
    ctx.out.line(
      table(
        ['RUN', 'STATUS', 'TRIGGER', 'STARTED', 'CLOSED'],
        body.map((r) => [
          r.runId,
          r.status,
          r.rerunOf ? `rerun of ${r.rerunOf.runId}` : (r.trigger ?? ''),
          r.startedAt ?? '',
          r.completedAt ?? '',
        ]),
      ),
    );
    ctx.out.line(`${body.length} of ${headers.get('X-Total-Count') ?? body.length} runs`);
  });
  return EXIT.ok;
}

export async function stop(
  ctx: Context,
  ref: string,
  options: { terminate?: boolean; compensate?: boolean },
): Promise<number> {
  const api = await ctx.api();
  const flow = await findEntity(api, 'OrchestratedFlow', ref);
  const query = options.terminate ? '?terminate=true' : options.compensate ? '?compensate=true' : '';
  const { body } = await api.request<{ message: string; runIds: string[] }>(
    'POST',
    `/api/Orchestration/stop/${flow.id}${query}`,
  );
  ctx.out.show(body, () =>
    ctx.out.line(`${body.message}${options.compensate ? ' (compensating)' : ''}: ${body.runIds.join(', ')}`),
  );
  return EXIT.ok;
}

/** Pauses (no new step starts; running ones finish) or resumes a run: the flow's one open run unless `--run`. */
export async function pauseOrResume(
  ctx: Context,
  action: 'pause' | 'resume',
  ref: string,
  options: { run?: string; reason?: string },
): Promise<number> {
  const api = await ctx.api();
  const flow = await findEntity(api, 'OrchestratedFlow', ref);
  const query = options.run ? `?runId=${encodeURIComponent(options.run)}` : '';
  let current: RunSummary;
  try {
    current = (
      await api.request<RunSummary>('POST', `/api/Orchestration/${action}/${flow.id}${query}`, {
        body: options.reason !== undefined ? { reason: options.reason } : {},
      })
    ).body;
  } catch (error) {
    const runIds = error instanceof CliError && error.code === 'AmbiguousRun' ? openRunIds(error) : [];
    if (runIds.length === 0) throw error;
    throw new CliError(
      `${(error as CliError).message}: ${runIds.map((id) => `--run ${id}`).join(' or ')}`,
      EXIT.failed,
    );
  }
  ctx.out.show(current, () => printRun(ctx, `${flow.name}@${flow.version}`, current));
  return EXIT.ok;
}

const openRunIds = (error: CliError) =>
  error.details.flatMap((d) => (Array.isArray(d.runIds) ? d.runIds.map(String) : []));

interface RerunStarted {
  runId: string;
  correlationId: string;
  rerunOf: { runId: string; fromStepId?: string };
  reused: string[];
  rerun: string[];
}

/**
 * Reruns a closed run (the flow's latest unless `runId`): its failed and cancelled steps, or `--from` a step (name or
 * ID) on, and what follows; the other steps keep their recorded outcome. With `--wait`, follows the new run.
 */
export async function rerun(
  ctx: Context,
  ref: string,
  runId: string | undefined,
  options: { from?: string; input?: string; inputFile?: string; currentDefinition?: boolean; wait?: boolean },
): Promise<number> {
  const input = await readInput(options);
  const api = await ctx.api();
  const flow = await findEntity(api, 'OrchestratedFlow', ref);
  const of = runId ?? (await latestRunId(api, flow.id, ref));
  const fromStepId = options.from === undefined ? undefined : await stepIdOf(api, flow.id, of, options.from);
  const started = (
    await api.request<RerunStarted>('POST', `/api/Orchestration/rerun/${flow.id}/${of}`, {
      body: {
        ...(fromStepId !== undefined ? { fromStepId } : {}),
        ...(input !== undefined ? { input } : {}),
        ...(options.currentDefinition ? { definition: 'current' } : {}),
      },
    })
  ).body;
  const describe = () => {
    ctx.out.line(
      `Rerun ${started.runId} of ${flow.name}@${flow.version}: rerun of ${of}${options.from ? ` from ${options.from}` : ''}`,
    );
    ctx.out.line(`  reused: ${started.reused.join(', ') || '(none)'}`);
    ctx.out.line(`  rerun:  ${started.rerun.join(', ')}`);
  };
  if (!options.wait) {
    ctx.out.show(started, describe);
    return EXIT.ok;
  }
  if (ctx.out.format === 'table') describe();
  return closing(ctx, await follow(ctx, api, flow.id, started.runId, ref));
}

/** The flow's newest run. @throws CliError (exit 1) when it never ran */
async function latestRunId(api: FlowApi, flowId: string, ref: string): Promise<string> {
  const [latest] = (await api.request<RunListItem[]>('GET', `/api/Orchestration/runs/${flowId}?limit=1`))
    .body;
  if (!latest) throw new CliError(`${ref} has no runs to rerun`, EXIT.failed);
  return latest.runId;
}

/** A step of the run by ID (as given; the API checks it) or name. @throws CliError (exit 4) for an unknown name */
async function stepIdOf(api: FlowApi, flowId: string, runId: string, step: string): Promise<string> {
  if (UUID.test(step)) return step;
  const { steps } = (await api.request<RunSummary>('GET', `/api/Orchestration/runs/${flowId}/${runId}`)).body;
  const named = steps.filter((s) => s.name === step);
  if (named.length === 1) return named[0]!.stepId;
  throw new CliError(
    named.length === 0
      ? `--from: run ${runId} has no step "${step}" (its steps: ${steps.map((s) => s.name).join(', ')})`
      : `--from: run ${runId} has ${named.length} steps named "${step}": give the step ID (${named.map((s) => s.stepId).join(', ')})`,
    EXIT.usage,
  );
}
