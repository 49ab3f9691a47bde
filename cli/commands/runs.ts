/** `flowctl run`, `status`, `runs`, `stop`: runs of a flow, followed live. */
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunListItem } from '../../api/orchestration/run-status';
import type { RunStatus, RunSummary, StepError, StepState } from '../../domain/flow-types';
import { CliError, EXIT, type FlowApi } from '../client';
import { duration, table } from '../output';
import { findEntity, type Context } from './context';

const POLL_MS = 500;
const OPEN: readonly RunStatus[] = ['Running'];

/** The exit code a closed run ends flowctl with. */
export function exitCodeOf(status: RunStatus): number {
  if (status === 'Completed') return EXIT.ok;
  if (status === 'Failed') return EXIT.failed;
  if (status === 'Cancelled') return EXIT.cancelled;
  return EXIT.terminated;
}

async function readInput(text: string | undefined): Promise<unknown> {
  if (text === undefined) return undefined;
  const source = text.startsWith('@') ? await readFile(text.slice(1), 'utf8').catch(() => undefined) : text;
  if (source === undefined) throw new CliError(`cannot read ${text.slice(1)}`, EXIT.usage);
  try {
    return JSON.parse(source) as unknown;
  } catch (error) {
    throw new CliError(`--input is not JSON: ${(error as Error).message}`, EXIT.usage);
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
  ].filter(Boolean);
  return `  ${mark} ${step.name}  ${step.status}${extra.length ? `  ${extra.join(' · ')}` : ''}`;
}

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
        for (const step of run.steps) {
          const state = `${step.status}/${step.attempts}`;
          if (seen.get(step.stepId) === state || step.status === 'Pending') continue;
          seen.set(step.stepId, state);
          ctx.out.line(stepLine(ctx, step));
        }
        // Redrawn after every poll (the last one too, then cleared for the closing line).
        if (tty) process.stdout.write(bar(run));
      }
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
  return exitCodeOf(run.status);
}

export async function run(
  ctx: Context,
  ref: string,
  options: { input?: string; wait?: boolean; idempotencyKey?: string },
): Promise<number> {
  const input = await readInput(options.input);
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
  return EXIT.ok;
}

function printRun(ctx: Context, flow: string, current: RunSummary): void {
  ctx.out.line(
    `Run ${current.runId} of ${flow}: ${current.status} (${current.trigger}, started ${current.startedAt})`,
  );
  for (const step of current.steps) ctx.out.line(stepLine(ctx, step));
  if (current.error) ctx.out.line(`  ${errorText(current.error)}`);
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
        body.map((r) => [r.runId, r.status, r.trigger ?? '', r.startedAt ?? '', r.completedAt ?? '']),
      ),
    );
    ctx.out.line(`${body.length} of ${headers.get('X-Total-Count') ?? body.length} runs`);
  });
  return EXIT.ok;
}

export async function stop(ctx: Context, ref: string, options: { terminate?: boolean }): Promise<number> {
  const api = await ctx.api();
  const flow = await findEntity(api, 'OrchestratedFlow', ref);
  const { body } = await api.request<{ message: string; runIds: string[] }>(
    'POST',
    `/api/Orchestration/stop/${flow.id}${options.terminate ? '?terminate=true' : ''}`,
  );
  ctx.out.show(body, () => ctx.out.line(`${body.message}: ${body.runIds.join(', ')}`));
  return EXIT.ok;
}
