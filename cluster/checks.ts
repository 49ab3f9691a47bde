/**
 * The checks after the load: every run closed Completed; every step's successful result recorded exactly once in
 * Temporal's history and produced by an attempt the processor's ledger counted; no answer of the API was a 5xx
 * other than 503; the schedules are the ones made before the faults.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client, ScheduleDescription } from '@temporalio/client';
import { SCHEDULE_ID_PREFIX } from '../api/schedules/desired';
import { FLOW_WORKFLOW_TYPE, manualRunWorkflowId } from '../domain/task-queue';
import type { LedgerEntry } from './counting-processor';
import type { FlowDefinition } from './workload';

export interface Check {
  name: string;
  ok: boolean;
  /** One line each: what was counted, and every violation. */
  lines: string[];
}

export async function readLedger(dir: string): Promise<LedgerEntry[]> {
  const files = (await readdir(dir).catch(() => [])).filter((file) => file.endsWith('.jsonl'));
  const entries: LedgerEntry[] = [];
  for (const file of files)
    for (const line of (await readFile(path.join(dir, file), 'utf8')).split('\n'))
      if (line.trim()) entries.push(JSON.parse(line) as LedgerEntry);
  return entries;
}

interface RunInfo {
  workflowId: string;
  runId: string;
  status: string;
  startTime: Date;
  closeTime?: Date;
}

/** Every interpreter run of `flows` in the visibility store, once none is Running (or `timeoutMs` passed). */
export async function listRuns(
  client: Client,
  flows: FlowDefinition[],
  timeoutMs: number,
): Promise<RunInfo[]> {
  const ours = new Set(flows.map((flow) => manualRunWorkflowId(flow.flowId)));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const runs: RunInfo[] = [];
    for await (const execution of client.workflow.list({ query: `WorkflowType = '${FLOW_WORKFLOW_TYPE}'` }))
      if (ours.has(execution.workflowId))
        runs.push({
          workflowId: execution.workflowId,
          runId: execution.runId,
          status: execution.status.name,
          startTime: execution.startTime,
          ...(execution.closeTime ? { closeTime: execution.closeTime } : {}),
        });
    const listed = new Set(runs.map((run) => run.workflowId));
    const settled = runs.every((run) => run.status !== 'RUNNING') && [...ours].every((id) => listed.has(id));
    if (settled || Date.now() > deadline) return runs;
    await sleep(2_000);
  }
}

/** What the history of one run says about each step's activity. */
interface StepRecord {
  scheduled: number;
  completed: number;
  /** The attempt whose result Temporal recorded (the started event of the completion). */
  acceptedAttempt?: number;
}

async function stepRecords(
  client: Client,
  run: RunInfo,
  activityType: string,
): Promise<Map<string, StepRecord>> {
  const history = await client.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
  const byScheduledId = new Map<string, string>();
  const startedAttempt = new Map<string, number>();
  const steps = new Map<string, StepRecord>();
  for (const event of history.events ?? []) {
    const id = String(event.eventId);
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled && scheduled.activityType?.name === activityType) {
      const stepId = scheduled.activityId ?? '?';
      byScheduledId.set(id, stepId);
      const record = steps.get(stepId) ?? { scheduled: 0, completed: 0 };
      record.scheduled++;
      steps.set(stepId, record);
    }
    const started = event.activityTaskStartedEventAttributes;
    if (started) startedAttempt.set(id, started.attempt ?? 0);
    const completed = event.activityTaskCompletedEventAttributes;
    if (completed) {
      const stepId = byScheduledId.get(String(completed.scheduledEventId));
      if (stepId === undefined) continue; // another activity (the snapshot)
      const record = steps.get(stepId)!;
      record.completed++;
      record.acceptedAttempt = startedAttempt.get(String(completed.startedEventId));
    }
  }
  return steps;
}

/**
 * What is wrong with one step's ledger, given the attempt whose result Temporal recorded: that attempt must be in
 * it, no attempt twice, and no attempt after it (a success counted after the recorded one would be a second
 * execution of a completed step). Earlier attempts are fine: their results never reached Temporal.
 */
export function ledgerProblems(acceptedAttempt: number | undefined, attempts: number[]): string[] {
  const problems: string[] = [];
  if (acceptedAttempt === undefined || !attempts.includes(acceptedAttempt))
    problems.push(`the recorded attempt ${acceptedAttempt ?? '?'} is not in the ledger`);
  if (new Set(attempts).size !== attempts.length) problems.push('an attempt counted twice');
  if (attempts.some((attempt) => attempt > (acceptedAttempt ?? 0)))
    problems.push('a success counted after the recorded one');
  return problems;
}

/**
 * Checks every run of `flows`: closed Completed, each step scheduled and completed exactly once in its history, and
 * the completed attempt counted by the processor's ledger; a ledger entry of another attempt (one whose result
 * Temporal never recorded: its worker was killed, or its completion was lost) must be an earlier attempt.
 */
export async function checkRuns(
  client: Client,
  flows: FlowDefinition[],
  runs: RunInfo[],
  ledger: LedgerEntry[],
  activityType: string,
): Promise<Check[]> {
  const flowOf = new Map(flows.map((flow) => [manualRunWorkflowId(flow.flowId), flow]));
  const completed: Check = { name: 'every run closed Completed', ok: true, lines: [] };
  const once: Check = {
    name: 'every step completed exactly once in Temporal history',
    ok: true,
    lines: [],
  };
  const counted: Check = {
    name: 'every recorded result is one the processor counted (ledger), never a duplicate',
    ok: true,
    lines: [],
  };

  const byWorkflow = new Map<string, RunInfo[]>();
  for (const run of runs) byWorkflow.set(run.workflowId, [...(byWorkflow.get(run.workflowId) ?? []), run]);
  for (const workflowId of flowOf.keys())
    if (!byWorkflow.has(workflowId)) {
      completed.ok = false;
      completed.lines.push(`no run of ${workflowId}`);
    }
  const extraRuns = [...byWorkflow.values()].filter((list) => list.length > 1);
  const oneRunEach: Check = {
    name: 'each flow, started once (with an Idempotency-Key), ran once',
    ok: extraRuns.length === 0,
    lines: [`${byWorkflow.size} flows ran, ${extraRuns.length} of them more than once`],
  };
  for (const list of extraRuns)
    oneRunEach.lines.push(
      `${list[0]!.workflowId}: ${list
        .map((run) => `${run.runId} ${run.startTime.toISOString()}–${run.closeTime?.toISOString() ?? 'open'}`)
        .join(', ')}`,
    );
  for (const run of runs)
    if (run.status !== 'COMPLETED') {
      completed.ok = false;
      completed.lines.push(`${run.workflowId} run ${run.runId}: ${run.status}`);
    }
  completed.lines.unshift(
    `${runs.filter((run) => run.status === 'COMPLETED').length} of ${runs.length} runs Completed (${flowOf.size} flows` +
      `${extraRuns.length ? `; ${extraRuns.length} flows ran twice` : ''})`,
  );

  const ledgerByStep = new Map<string, LedgerEntry[]>();
  for (const entry of ledger) {
    const key = `${entry.runId}/${entry.stepId}`;
    ledgerByStep.set(key, [...(ledgerByStep.get(key) ?? []), entry]);
  }
  let steps = 0;
  let unrecorded = 0;
  const queue = [...runs];
  const work = async () => {
    for (let run = queue.shift(); run; run = queue.shift()) {
      const flow = flowOf.get(run.workflowId)!;
      const records = await stepRecords(client, run, activityType);
      for (const [name, stepId] of flow.stepIds) {
        steps++;
        const where = `${flow.shape.name} run ${run.runId} step ${name}`;
        const record = records.get(stepId);
        if (!record || record.scheduled !== 1 || record.completed !== 1) {
          once.ok = false;
          once.lines.push(
            `${where}: scheduled ${record?.scheduled ?? 0}×, completed ${record?.completed ?? 0}× in history`,
          );
          continue;
        }
        const entries = ledgerByStep.get(`${run.runId}/${stepId}`) ?? [];
        const attempts = entries.map((entry) => entry.attempt).sort((a, b) => a - b);
        const problems = ledgerProblems(record.acceptedAttempt, attempts);
        if (problems.length > 0) {
          counted.ok = false;
          counted.lines.push(
            `${where}: ${problems.join('; ')} (ledger attempts ${attempts.join(',') || 'none'})`,
          );
        }
        unrecorded += attempts.filter((attempt) => attempt !== record.acceptedAttempt).length;
      }
    }
  };
  await Promise.all(Array.from({ length: 6 }, work));
  once.lines.unshift(`${steps} steps in ${runs.length} runs`);
  counted.lines.unshift(
    `${ledger.length} successes in the ledger; ${unrecorded} of them from attempts whose result Temporal never ` +
      'recorded (the attempt was retried: its worker or a server went down)',
  );
  return [completed, oneRunEach, once, counted];
}

/** Schedule ID → when it was created and last updated. */
export type ScheduleSnapshot = Map<string, { createdAt: string; updatedAt: string }>;

export async function snapshotSchedules(client: Client): Promise<ScheduleSnapshot> {
  const snapshot: ScheduleSnapshot = new Map();
  for await (const listed of client.schedule.list()) {
    const description: ScheduleDescription = await client.schedule.getHandle(listed.scheduleId).describe();
    snapshot.set(listed.scheduleId, {
      createdAt: description.info.createdAt.toISOString(),
      updatedAt: description.info.lastUpdatedAt?.toISOString() ?? '-',
    });
  }
  return snapshot;
}

/**
 * The schedules after the faults are those before (none created, deleted or updated since), and every pass of the
 * reconciler the API logged changed nothing — one pass at least per start of the API (`apiStarts`).
 */
export function checkSchedules(
  before: ScheduleSnapshot,
  after: ScheduleSnapshot,
  apiLog: string,
  apiStarts: number,
): Check {
  const check: Check = { name: 'the schedule reconciler recreated nothing', ok: true, lines: [] };
  for (const [id, was] of before) {
    const now = after.get(id);
    // The reconciler's own schedules must be untouched; others (the data retention schedule, which the API updates
    // at every start on purpose) only must not have been made anew.
    const reconciled = id.startsWith(SCHEDULE_ID_PREFIX);
    if (!now) {
      check.ok = false;
      check.lines.push(`${id} is gone`);
    } else if (now.createdAt !== was.createdAt || (reconciled && now.updatedAt !== was.updatedAt)) {
      check.ok = false;
      check.lines.push(
        `${id}: created ${was.createdAt} → ${now.createdAt}, updated ${was.updatedAt} → ${now.updatedAt}`,
      );
    } else if (now.updatedAt !== was.updatedAt) {
      check.lines.push(
        `${id}: updated at ${now.updatedAt} (not a flow schedule: the API updates it at each start)`,
      );
    }
  }
  for (const id of after.keys())
    if (!before.has(id)) {
      check.ok = false;
      check.lines.push(`${id} is new`);
    }
  const passes = apiLog
    .split('\n')
    .filter((line) => line.includes('"flow schedules reconciled"'))
    .map((line) => JSON.parse(line) as Record<string, number>);
  const changed = passes.filter((pass) => pass.created || pass.updated || pass.deleted || pass.failed);
  if (changed.length > 0) {
    check.ok = false;
    for (const pass of changed)
      check.lines.push(
        `a reconciler pass changed something: created ${pass.created}, updated ${pass.updated}, deleted ${pass.deleted}, failed ${pass.failed}`,
      );
  }
  if (passes.length < apiStarts) {
    check.ok = false;
    check.lines.push(
      `the API logged ${passes.length} reconciler passes; expected one per start (${apiStarts})`,
    );
  }
  check.lines.unshift(
    `${before.size} schedules before the faults, ${after.size} after; ${passes.length} reconciler passes, ` +
      `each unchanged ${passes.map((pass) => pass.unchanged).join(', ')}`,
  );
  return check;
}
