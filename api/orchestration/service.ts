import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { BlobUnavailableError, isDataRef, offload, type DataPlane } from '../../activities/sdk';
import { refHash } from '../../activities/sdk/data-refs';
import { loadFlowSnapshot } from '../../activities/snapshot';
import { definitionProblems } from '../../domain/definition';
import { planRun } from '../../domain/flow-run';
import type {
  FlowRunInput,
  FlowSnapshot,
  HistoryBudget,
  RunSummary,
  RunTrigger,
  StepState,
} from '../../domain/flow-types';
import { changedSteps, selectRerun } from '../../domain/rerun';
import { runSearchAttributes } from '../../domain/search-attributes';
import {
  COMPENSATE_ON_STOP_SIGNAL,
  FLOW_WORKFLOW_TYPE,
  manualRunWorkflowId,
  ORCHESTRATOR_TASK_QUEUE,
  PAUSE_UPDATE,
  RESUME_UPDATE,
} from '../../domain/task-queue';
import type { ApiMetrics } from '../../infra/metrics';
import type { PrismaClient } from '../../prisma/client';
import { ApiError, ConflictError, NotFoundError } from '../errors';
import { translateDatabaseError } from '../prisma-errors';
import { runInputFromHistory } from './history-status';
import { runRecordFromHistory } from './run-record';
import { describeCurrentSegment } from '../../infra/run-chain';
import { ArchiveCache, LastKnownStatus, withArchivedSteps } from './run-chain';
import {
  chainOf,
  NO_WORKER_ANSWERED,
  readRunSummary,
  runListItem,
  runStatusOf,
  type RunListItem,
} from './run-status';
import { callTemporal } from './temporal-errors';
import { StartDefinitions } from './start-definition';

/** Definitions up to this size travel in the run's input (Temporal's payload limit is 2 MB). */
const MAX_INLINE_SNAPSHOT_BYTES = 256 * 1024;

export interface StartOptions {
  input?: unknown;
  correlationId: string;
  idempotencyKey?: string;
}

export interface StartedRun {
  message: string;
  orchestratedFlowId: string;
  workflowId: string;
  runId: string;
  correlationId: string;
  startedAt: string;
}

export interface RerunOptions {
  fromStepId?: string;
  /** The new run's input; absent: the original run's. */
  input?: unknown;
  hasInput: boolean;
  /** `recorded` (default): the original run's definition; `current`: the stored one, if the reused steps are unchanged. */
  definition: 'recorded' | 'current';
  correlationId: string;
}

export interface RerunStarted extends StartedRun {
  rerunOf: { workflowId: string; runId: string; fromStepId?: string };
  /** Step names, in workflow order. */
  reused: string[];
  rerun: string[];
}

/**
 * What a started run carries besides its input: the search attributes the runs list and the Web UI filter by, the
 * memo (its correlation ID, and whatever the start adds) and the Web UI's summary line.
 */
export function runStartMetadata(
  orchestratedFlowId: string,
  snapshot: FlowSnapshot,
  run: { trigger: RunTrigger; correlationId: string; memo?: Record<string, unknown> },
) {
  return {
    typedSearchAttributes: runSearchAttributes({
      orchestratedFlowId,
      orchestratedFlowName: snapshot.orchestratedFlow.name,
      trigger: run.trigger,
      correlationId: run.correlationId,
    }),
    memo: { correlationId: run.correlationId, ...run.memo },
    staticSummary: `${snapshot.orchestratedFlow.name} (${snapshot.workflow.name})`,
  };
}

/** Starts, stops and reads runs of orchestrated flows on Temporal. */
export class OrchestrationService {
  /** What starts load, and each flow's validated definition (made on the first start). */
  private startDefinitions?: StartDefinitions;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly client: Client,
    private readonly taskQueue: string = ORCHESTRATOR_TASK_QUEUE,
    private readonly metrics?: ApiMetrics,
    private readonly data?: DataPlane,
    private readonly options: { historyBudget?: HistoryBudget } = {},
  ) {}

  /** Archives never change (content-addressed): a running long run's status reads each once, not every poll. */
  private readonly archives = new ArchiveCache();
  /** The last status read of each open run lately (see `summaryOf`). */
  private readonly lastKnown = new LastKnownStatus();

  /**
   * Starts a manual run. One manual run per flow may be open: Temporal enforces it through the stable workflow ID
   * (conflict policy FAIL), so two simultaneous starts yield exactly one run. An Idempotency-Key returns the run it
   * started before, open or closed.
   *
   * @throws NotFoundError (404), ApiError 422 InvalidDefinition, ConflictError 409 RunAlreadyOpen, 503.
   */
  async start(orchestratedFlowId: string, options: StartOptions): Promise<StartedRun> {
    const key = options.idempotencyKey;
    /** The run recorded for an Idempotency-Key of this flow, if any. */
    const recorded = async (idempotencyKey: string) => {
      const row = await this.db(() =>
        this.prisma.runIdempotencyKey.findUnique({
          where: { orchestratedFlowId_key: { orchestratedFlowId, key: idempotencyKey } },
        }),
      );
      return (
        row && {
          workflowId: row.workflowId,
          runId: row.runId,
          correlationId: row.correlationId,
          startedAt: row.startedAt.toISOString(),
        }
      );
    };
    if (key) {
      const earlier = await recorded(key);
      if (earlier)
        return {
          message: 'Orchestration already started with this Idempotency-Key',
          orchestratedFlowId,
          ...earlier,
        };
    }

    // One query; a definition unchanged since the flow's last start keeps its snapshot and validation.
    this.startDefinitions ??= new StartDefinitions(this.prisma);
    const definition = await this.db(() => this.startDefinitions!.load(orchestratedFlowId));
    if (!definition) throw new NotFoundError('OrchestratedFlow', orchestratedFlowId);
    this.assertRunnable(definition.snapshot, definition.problems);
    const snapshot = definition.snapshot;

    // A start Temporal accepted whose key was never recorded (the API died in between, or the answer was lost) left
    // its run as the flow's latest, open or closed: that run is the answer to the retry, not a second run.
    const unrecorded = key ? await this.latestRunWithKey(orchestratedFlowId, key) : undefined;
    if (unrecorded) return this.recordKey(orchestratedFlowId, key!, unrecorded, recorded);

    let started: StartedRun;
    try {
      started = await this.startRun(orchestratedFlowId, snapshot, {
        trigger: 'manual',
        input: options.input,
        correlationId: options.correlationId,
        snapshotJsonLength: definition.jsonLength,
        ...(key ? { memo: { idempotencyKey: key } } : {}),
      });
    } catch (error) {
      if (!(key && error instanceof ConflictError && error.code === 'RunAlreadyOpen')) throw error;
      // A simultaneous start with the same key won: its run (still open) is the answer.
      const open = await this.latestRunWithKey(orchestratedFlowId, key);
      if (!open) throw error;
      started = open;
    }
    return key ? this.recordKey(orchestratedFlowId, key, started, recorded) : started;
  }

  /**
   * The flow's latest manual run, when it was started with this Idempotency-Key (its memo says), as a start answers
   * it again; undefined otherwise.
   */
  private async latestRunWithKey(orchestratedFlowId: string, key: string): Promise<StartedRun | undefined> {
    let latest;
    try {
      latest = await this.temporal(() =>
        this.client.workflow.getHandle(manualRunWorkflowId(orchestratedFlowId)).describe(),
      );
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return undefined;
      throw error;
    }
    if (latest.memo?.idempotencyKey !== key) return undefined;
    const run = runOf(latest);
    return {
      message: 'Orchestration already started with this Idempotency-Key',
      orchestratedFlowId,
      workflowId: run.workflowId,
      runId: run.runId,
      correlationId: typeof latest.memo.correlationId === 'string' ? latest.memo.correlationId : '',
      startedAt: chainOf(latest.memo)?.startedAt ?? latest.startTime.toISOString(),
    };
  }

  /**
   * Records the run an Idempotency-Key started. Simultaneous starts with one key each record it (one with the
   * API's clock, one with Temporal's start time); the record that won is the answer to all of them, so they agree.
   */
  private async recordKey(
    orchestratedFlowId: string,
    key: string,
    started: StartedRun,
    recorded: (key: string) => Promise<Omit<StartedRun, 'message' | 'orchestratedFlowId'> | null>,
  ): Promise<StartedRun> {
    await this.db(() =>
      this.prisma.runIdempotencyKey.createMany({
        data: [{ orchestratedFlowId, key, ...pick(started), startedAt: new Date(started.startedAt) }],
        skipDuplicates: true,
      }),
    );
    const stored = await recorded(key);
    return stored ? { ...started, ...stored } : started;
  }

  /**
   * Reruns a closed run as a new manual run (trigger `rerun`): the steps `selectRerun` picks execute again, the
   * others carry their recorded state over (outputs by reference stay references, claimed for the new run).
   *
   * @throws NotFoundError (unknown run), ConflictError 409 RunStillOpen / RunAlreadyOpen / NothingToRerun /
   *   DefinitionChanged, ApiError 422 UnknownStep / InvalidDefinition / RunNotRerunnable, 503.
   */
  async rerun(orchestratedFlowId: string, runId: string, options: RerunOptions): Promise<RerunStarted> {
    const described = await this.describeRun(orchestratedFlowId, runId);
    const workflowId = described.workflowId;
    if (described.status.name === 'RUNNING')
      throw new ConflictError('RunStillOpen', `Run ${runId} is still open: stop it or wait until it closes`, [
        {
          field: 'runId',
          rule: 'closed',
          message: 'only a closed run can be rerun',
          status: runStatusOf(described),
        },
      ]);
    const [summary, record] = await Promise.all([
      this.summaryOf(workflowId, runId),
      this.temporal(() => runRecordFromHistory(this.client, workflowId, runId)),
    ]);
    const original = record.snapshot;
    if (!original || !record.input)
      throw new ApiError(
        422,
        'RunNotRerunnable',
        `Run ${runId} never loaded its definition: start the flow again`,
      );
    const plan = planRun(original);
    if (options.fromStepId !== undefined && !plan.stepIds.includes(options.fromStepId))
      throw new ApiError(422, 'UnknownStep', `Step ${options.fromStepId} is not a step of run ${runId}`, [
        { field: 'fromStepId', rule: 'stepOfRun', message: "must be one of the run's steps" },
      ]);
    const recorded = new Map(summary.steps.map((step) => [step.stepId, step]));
    const compensated = new Set(
      (summary.compensation?.steps ?? []).filter((s) => s.status !== 'Pending').map((s) => s.stepId),
    );
    const selection = selectRerun(plan, recorded, {
      ...(options.fromStepId !== undefined ? { fromStepId: options.fromStepId } : {}),
      compensated,
    });
    if (selection.rerun.length === 0)
      throw new ConflictError('NothingToRerun', `Run ${runId} has no failed or cancelled step to rerun`, [
        { field: 'fromStepId', rule: 'required', message: 'name the step to rerun from' },
      ]);

    let snapshot: FlowSnapshot = original;
    if (options.definition === 'current') {
      const current = await this.db(() => loadFlowSnapshot(this.prisma, orchestratedFlowId));
      if (!current) throw new NotFoundError('OrchestratedFlow', orchestratedFlowId);
      const changed = changedSteps(original, current, selection.reused);
      if (changed.length > 0)
        throw new ConflictError(
          'DefinitionChanged',
          `Steps the rerun would reuse changed since run ${runId}: ${changed.map((n) => JSON.stringify(n)).join(', ')}`,
          changed.map((name) => ({
            field: 'definition',
            rule: 'reusedStepsUnchanged',
            message: `step "${name}" changed`,
            step: name,
          })),
        );
      this.assertRunnable(current);
      snapshot = current;
    }

    const reused: StepState[] = selection.reused.flatMap((id) => {
      const state = recorded.get(id);
      if (!state) return [];
      const { decision: _decision, reusedFrom: _reusedFrom, ...rest } = state;
      const output =
        state.status === 'Succeeded' ? (state.output ?? record.outputs.get(id) ?? null) : undefined;
      return [{ ...rest, ...(output !== undefined ? { output } : {}) }];
    });
    const rerunOf = {
      workflowId,
      runId,
      ...(options.fromStepId !== undefined ? { fromStepId: options.fromStepId } : {}),
    };
    const input = options.hasInput ? options.input : record.input.input;
    const started = await this.startRun(orchestratedFlowId, snapshot, {
      trigger: 'rerun',
      input,
      correlationId: options.correlationId,
      rerun: {
        of: { workflowId, runId },
        ...(options.fromStepId ? { fromStepId: options.fromStepId } : {}),
        reused,
      },
      memo: { rerunOf },
    });
    // The new run holds the reused outputs' blobs too (retention keeps them while either run needs them).
    if (this.data)
      for (const ref of reused.flatMap((state) => refsIn(state.output)))
        await this.db(() =>
          this.data!.store.claim(refHash(ref), { workflowId: started.workflowId, runId: started.runId }),
        );
    const names = (ids: string[]) => ids.map((id) => original.steps[id]?.name ?? id);
    return {
      ...started,
      message: 'Rerun started',
      rerunOf,
      reused: names(selection.reused),
      rerun: names(selection.rerun),
    };
  }

  /**
   * Pauses a run (no new step starts; running ones finish), or resumes it: a Temporal Update the run validates.
   * Without `runId`, the flow's one open run.
   *
   * @throws ApiError 404 NoOpenRun, ConflictError 409 AmbiguousRun / RunClosed / AlreadyPaused / NotPaused.
   */
  async pauseOrResume(
    action: 'pause' | 'resume',
    orchestratedFlowId: string,
    runId: string | undefined,
    request: { by: string; reason?: string },
  ): Promise<RunSummary> {
    // What this route knows of the run's state before asking it: described, or listed as open.
    // `segment`: the execution the Update goes to (a long run's current one; undefined: the workflow ID's open one).
    let target: { workflowId: string; runId: string; segment: string | undefined; status: string };
    if (runId !== undefined) {
      const described = await this.describeRun(orchestratedFlowId, runId);
      // A long run is updated at the segment it is at now.
      target = {
        workflowId: described.workflowId,
        runId,
        segment: described.runId,
        status: runStatusOf(described),
      };
    } else {
      const open = await this.openRuns(orchestratedFlowId);
      if (open.length === 0)
        throw new ApiError(404, 'NoOpenRun', `Flow ${orchestratedFlowId} has no open run`);
      if (open.length > 1)
        throw new ConflictError(
          'AmbiguousRun',
          `Flow ${orchestratedFlowId} has ${open.length} open runs: name one`,
          [
            {
              field: 'runId',
              rule: 'required',
              message: 'several runs are open',
              runIds: open.map((r) => r.runId),
            },
          ],
        );
      const [only] = open;
      target = {
        workflowId: only!.workflowId,
        runId: only!.runId,
        segment: only!.segmentRunId,
        status: 'Running',
      };
    }
    const closed = (status: string) =>
      new ConflictError('RunClosed', `Run ${target.runId} is ${status}: only an open run can be ${action}d`, [
        { field: 'runId', rule: 'open', message: `the run is ${status}` },
      ]);
    if (target.status !== 'Running') throw closed(target.status);
    for (let attempt = 1; ; attempt++) {
      const handle = this.client.workflow.getHandle(target.workflowId, target.segment, { followRuns: false });
      try {
        const summary = await this.temporal(() =>
          handle.executeUpdate<RunSummary, [typeof request]>(
            action === 'pause' ? PAUSE_UPDATE : RESUME_UPDATE,
            { args: [request] },
          ),
        );
        return withDataLinks(await this.whole(summary));
      } catch (error) {
        if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure) {
          const type = error.cause.type ?? 'Refused';
          throw new ConflictError(type, `The run refused to ${action}: ${error.cause.message}`, [
            {
              field: 'runId',
              rule: action === 'pause' ? 'notPaused' : 'paused',
              message: error.cause.message,
            },
          ]);
        }
        // A long run may have continued as new while the Update was on its way: send it to the segment it is at.
        const next = attempt < 3 ? await this.continuedSegment(target.workflowId, target.segment) : undefined;
        if (next === undefined) {
          if (error instanceof WorkflowNotFoundError) throw closed('closed');
          throw error;
        }
        target.segment = next;
      }
    }
  }

  /** The open segment a run continued into since `segment` was described (undefined: it did not, or it closed). */
  private async continuedSegment(
    workflowId: string,
    segment: string | undefined,
  ): Promise<string | undefined> {
    const now = await this.temporal(() =>
      segment
        ? describeCurrentSegment(this.client, workflowId, segment)
        : this.client.workflow.getHandle(workflowId).describe(),
    ).catch(() => undefined);
    if (now?.status.name !== 'RUNNING' || (segment !== undefined && now.runId === segment)) return undefined;
    return now.runId;
  }

  /**
   * Stops every open run of the flow: cancels it (running steps see the cancellation), or terminates it. With
   * `compensate`, a cancelled run first compensates its succeeded steps.
   * @throws NotFoundError (404 NoOpenRun) when none is open.
   */
  async stop(orchestratedFlowId: string, terminate: boolean, compensate = false) {
    const stopped: string[] = [];
    for (const run of await this.openRuns(orchestratedFlowId)) {
      let segment = run.segmentRunId;
      for (let attempt = 1; attempt <= 3; attempt++) {
        const handle = this.client.workflow.getHandle(run.workflowId, segment, { followRuns: false });
        try {
          await this.temporal(async () => {
            if (terminate) return handle.terminate('stopped through the API');
            if (compensate) await handle.signal(COMPENSATE_ON_STOP_SIGNAL);
            return handle.cancel();
          });
          stopped.push(run.runId);
          break;
        } catch (error) {
          // The visibility store lags: a run it still lists as Running may have closed meanwhile. A long run may
          // have continued as new: then the stop goes to the segment it is at.
          if (!(error instanceof WorkflowNotFoundError)) throw error;
          segment = segment && (await this.continuedSegment(run.workflowId, segment));
          if (segment === undefined) break;
        }
      }
    }
    if (stopped.length === 0)
      throw new ApiError(404, 'NoOpenRun', `Flow ${orchestratedFlowId} has no open run`);
    return {
      message: terminate ? 'Orchestration terminated' : 'Orchestration stop requested',
      orchestratedFlowId,
      runId: stopped[0]!,
      runIds: stopped,
      stoppedAt: new Date().toISOString(),
    };
  }

  /** @throws ApiError 422 InvalidDefinition naming each problem. */
  private assertRunnable(snapshot: FlowSnapshot, problems = definitionProblems(snapshot)): void {
    if (problems.length > 0)
      throw new ApiError(
        422,
        'InvalidDefinition',
        `The flow's definition cannot run: ${problems.map((p) => p.message).join('; ')}`,
        problems.map(({ message, ...problem }) => ({ field: 'definition', message, ...problem })),
      );
  }

  /**
   * Starts the flow's manual run (one open at a time) on `snapshot`: a large input goes to the blob store first.
   * @throws ConflictError 409 RunAlreadyOpen.
   */
  private async startRun(
    orchestratedFlowId: string,
    snapshot: FlowSnapshot,
    run: Pick<FlowRunInput, 'input' | 'correlationId' | 'rerun'> & {
      trigger: RunTrigger;
      correlationId: string;
      memo?: Record<string, unknown>;
      /** The snapshot's JSON length, when the caller knows it already. */
      snapshotJsonLength?: number;
    },
  ): Promise<StartedRun> {
    const workflowId = manualRunWorkflowId(orchestratedFlowId);
    const input = this.data
      ? await this.db(() => offload(run.input, this.data!, { workflowId, runId: 'starting' }))
      : run.input;
    const args: [FlowRunInput] = [
      {
        orchestratedFlowId,
        input,
        correlationId: run.correlationId,
        trigger: run.trigger,
        ...(run.rerun ? { rerun: run.rerun } : {}),
        ...(hasBudget(this.options.historyBudget) ? { historyBudget: this.options.historyBudget } : {}),
        ...((run.snapshotJsonLength ?? JSON.stringify(snapshot).length) <= MAX_INLINE_SNAPSHOT_BYTES
          ? { snapshot }
          : {}),
      },
    ];
    try {
      const handle = await this.temporal(() =>
        this.client.workflow.start(FLOW_WORKFLOW_TYPE, {
          taskQueue: this.taskQueue,
          workflowId,
          args,
          workflowIdConflictPolicy: 'FAIL',
          workflowIdReusePolicy: 'ALLOW_DUPLICATE',
          ...runStartMetadata(orchestratedFlowId, snapshot, run),
        }),
      );
      this.metrics?.runsStarted.inc({ trigger: run.trigger });
      if (this.data && isDataRef(input))
        await this.db(() =>
          this.data!.store.claim(refHash(input), { workflowId, runId: handle.firstExecutionRunId }),
        );
      return {
        message: 'Orchestration started successfully',
        orchestratedFlowId,
        workflowId,
        runId: handle.firstExecutionRunId,
        correlationId: run.correlationId,
        startedAt: new Date().toISOString(),
      };
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      const open = await this.temporal(() => this.client.workflow.getHandle(workflowId).describe());
      throw new ConflictError(
        'RunAlreadyOpen',
        `A manual run of flow ${orchestratedFlowId} is still open: ${open.runId}`,
        [
          {
            field: 'orchestratedFlowId',
            rule: 'oneOpenRun',
            message: 'stop it or wait until it closes',
            runId: open.runId,
          },
        ],
      );
    }
  }

  /** A run of the flow (its manual run, or a scheduled one), described. @throws NotFoundError */
  private describeRun(orchestratedFlowId: string, runId: string) {
    return this.onRun(orchestratedFlowId, runId, (workflowId) =>
      describeCurrentSegment(this.client, workflowId, runId),
    );
  }

  /** The latest run's status, whatever started it. @throws ApiError 404 NeverRan */
  async status(orchestratedFlowId: string): Promise<RunSummary> {
    const latest = await this.latestRun(orchestratedFlowId);
    if (!latest) throw new ApiError(404, 'NeverRan', `Flow ${orchestratedFlowId} has no runs`);
    return withDataLinks(await this.summaryOf(latest.workflowId, latest.runId));
  }

  /**
   * The data a step of a run produced: the bytes in the blob store for a reference, the inline value otherwise.
   * @throws NotFoundError (unknown run or step), ApiError 404 NoOutput / DataExpired.
   */
  async stepOutput(
    orchestratedFlowId: string,
    runId: string,
    stepId: string,
  ): Promise<{ bytes: Buffer; contentType: string }> {
    const summary = await this.readRun(orchestratedFlowId, runId);
    const step = summary.steps.find((candidate) => candidate.stepId === stepId);
    if (!step) throw new NotFoundError('Step', `${stepId} in run ${runId}`);
    const output = step.output;
    if (output === undefined)
      throw new ApiError(
        404,
        'NoOutput',
        `Step "${step.name}" has no output in run ${runId} (it is ${step.status})`,
      );
    return this.dataOf(output, `the output of step "${step.name}"`);
  }

  /**
   * The input a run was started with: the stored bytes when it travelled by reference.
   * @throws NotFoundError (unknown run), ApiError 404 NoInput / DataExpired.
   */
  async runInput(orchestratedFlowId: string, runId: string): Promise<{ bytes: Buffer; contentType: string }> {
    const input = await this.onRun(orchestratedFlowId, runId, (workflowId) =>
      runInputFromHistory(this.client, workflowId, runId),
    );
    if (input === undefined) throw new ApiError(404, 'NoInput', `Run ${runId} was started without input`);
    return this.dataOf(input, `the input of run ${runId}`);
  }

  /** Inline data as JSON, referenced data as stored. @throws ApiError 404 DataExpired when the blob is gone. */
  private async dataOf(value: unknown, what: string): Promise<{ bytes: Buffer; contentType: string }> {
    if (!isDataRef(value) || !this.data)
      return { bytes: Buffer.from(JSON.stringify(value)), contentType: 'application/json' };
    const ref = value;
    try {
      return await this.db(() => this.data!.store.get(refHash(ref)));
    } catch (error) {
      if (error instanceof BlobUnavailableError)
        throw new ApiError(404, 'DataExpired', `${ref.$ref} (${what}) is gone: ${error.message}`);
      throw error;
    }
  }

  /** One run's status. @throws NotFoundError when the flow has no such run. */
  async run(orchestratedFlowId: string, runId: string): Promise<RunSummary> {
    return withDataLinks(await this.readRun(orchestratedFlowId, runId));
  }

  /** One run's status as the run recorded it (references without links). */
  private readRun(orchestratedFlowId: string, runId: string): Promise<RunSummary> {
    return this.onRun(orchestratedFlowId, runId, (workflowId) => this.summaryOf(workflowId, runId));
  }

  /**
   * A run's summary whole: a long run's archived steps read back from the blob store. When no worker answers an
   * open run's status query in time — a long run's new segment is loading its definition, or the orchestrator is
   * down — the last status this API read of the run answers, saying so, rather than a summary without steps.
   */
  private async summaryOf(workflowId: string, runId: string): Promise<RunSummary> {
    const summary = await this.temporal(() => readRunSummary(this.client, workflowId, runId));
    if (summary.status === 'Running' && summary.error?.message === NO_WORKER_ANSWERED) {
      const known = this.lastKnown.get(`${workflowId}/${runId}`);
      if (known)
        return {
          ...known.summary,
          error: { message: `no worker answered the status query; showing the status as of ${known.at}` },
        };
      return summary;
    }
    const whole = await this.whole(summary);
    this.lastKnown.remember(`${workflowId}/${runId}`, whole);
    return whole;
  }

  /** A summary with a long run's archived steps read back. */
  private whole(summary: RunSummary): Promise<RunSummary> {
    return withArchivedSteps(summary, (hash) => this.archives.get(hash, () => this.readArchive(hash)));
  }

  /** An archive's states; [] when it expired with the run's data (its steps stay as the segment listed them). */
  private async readArchive(hash: string): Promise<StepState[]> {
    if (!this.data)
      throw new ApiError(503, 'NoBlobStore', 'the blob store holding this run is not configured');
    try {
      const { bytes } = await this.db(() => this.data!.store.get(hash));
      return JSON.parse(bytes.toString('utf8')) as StepState[];
    } catch (error) {
      if (error instanceof BlobUnavailableError) return [];
      throw error;
    }
  }

  /**
   * Reads a run of the flow: tried as the flow's manual run first (one call), then found in the visibility store
   * (scheduled runs have workflow IDs of their own). @throws NotFoundError when the flow has no such run.
   */
  private async onRun<T>(
    orchestratedFlowId: string,
    runId: string,
    read: (workflowId: string) => Promise<T>,
  ): Promise<T> {
    try {
      return await this.temporal(() => read(manualRunWorkflowId(orchestratedFlowId)));
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
    }
    const [info] = await this.list(orchestratedFlowId, `RunId = '${runId}'`, 1, 0);
    if (!info) throw new NotFoundError('Run', `${runId} of flow ${orchestratedFlowId}`);
    return this.temporal(() => read(info.workflowId));
  }

  /** Runs of a flow, newest first, from Temporal's visibility store. */
  async runs(orchestratedFlowId: string, limit: number, offset: number) {
    // A long run is listed once: its segments that continued as new are left out (the last one stands for it).
    const query = runsQuery(orchestratedFlowId, LISTED);
    // Both calls end before the answer: with Promise.all, one failing early (Temporal down) would answer 503 while
    // the other still had a retry pending, which throws once the connection is closed.
    const [listed, counted] = await Promise.allSettled([
      this.list(orchestratedFlowId, LISTED, limit, offset),
      this.temporal(() => this.client.workflow.count(query)),
    ]);
    if (listed.status === 'rejected') throw listed.reason;
    if (counted.status === 'rejected') throw counted.reason;
    return { items: listed.value, total: counted.value.count };
  }

  /** One page of the flow's runs (newest first); internal lookups need no total, so none is counted here. */
  private async list(orchestratedFlowId: string, extra: string | undefined, limit: number, offset: number) {
    const query = runsQuery(orchestratedFlowId, extra);
    return this.temporal(async () => {
      const items: RunListItem[] = [];
      let index = 0;
      for await (const info of this.client.workflow.list({
        query,
        pageSize: Math.min(limit + offset, 1000),
      })) {
        if (index++ >= offset) items.push(runListItem(info));
        if (items.length >= limit) break;
      }
      return items;
    });
  }

  private async latestRun(orchestratedFlowId: string) {
    const candidates: Array<{ workflowId: string; runId: string; startedAt: Date }> = [];
    try {
      const d = await this.temporal(() =>
        this.client.workflow.getHandle(manualRunWorkflowId(orchestratedFlowId)).describe(),
      );
      candidates.push({ workflowId: d.workflowId, runId: d.runId, startedAt: d.startTime });
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
    }
    const [listed] = await this.list(orchestratedFlowId, undefined, 1, 0);
    if (listed)
      candidates.push({
        workflowId: listed.workflowId,
        runId: listed.runId,
        startedAt: new Date(listed.startedAt),
      });
    return candidates.sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime())[0];
  }

  /**
   * The flow's open runs, by workflow ID (Temporal keeps at most one open execution per workflow ID): `runId` names
   * the run (a long run's first segment), `segmentRunId` the execution to act on — the open one, as described; for
   * runs only the visibility store lists, the workflow ID's open execution (undefined).
   */
  private async openRuns(
    orchestratedFlowId: string,
  ): Promise<Array<{ workflowId: string; runId: string; segmentRunId: string | undefined }>> {
    const open = new Map<string, { workflowId: string; runId: string; segmentRunId: string | undefined }>();
    const manual = manualRunWorkflowId(orchestratedFlowId);
    try {
      const d = await this.temporal(() => this.client.workflow.getHandle(manual).describe());
      if (d.status.name === 'RUNNING') open.set(d.workflowId, { ...runOf(d), segmentRunId: d.runId });
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
    }
    const listed = await this.list(orchestratedFlowId, `ExecutionStatus = 'Running'`, 100, 0);
    for (const item of listed)
      if (!open.has(item.workflowId))
        open.set(item.workflowId, {
          workflowId: item.workflowId,
          runId: item.runId,
          segmentRunId: undefined,
        });
    return [...open.values()];
  }

  private temporal<T>(work: () => Promise<T>): Promise<T> {
    return callTemporal(this.client.connection, work);
  }

  private async db<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw translateDatabaseError(error) ?? error;
    }
  }
}

/** The visibility query for a flow's runs (IDs are validated GUIDs, so no quoting issues). */
/** Runs as the listing shows them: not the segments of long runs that continued as new. */
const LISTED = `ExecutionStatus != 'ContinuedAsNew'`;

const hasBudget = (budget: HistoryBudget | undefined): budget is HistoryBudget =>
  budget?.events !== undefined || budget?.bytes !== undefined;

/** A described execution's run: a long run's segment names its first segment (its memo says). */
function runOf(d: { workflowId: string; runId: string; memo?: Record<string, unknown> }) {
  return { workflowId: d.workflowId, runId: chainOf(d.memo)?.runId ?? d.runId };
}

const runsQuery = (orchestratedFlowId: string, extra?: string) =>
  `OrchestratedFlowId = '${orchestratedFlowId}'${extra ? ` AND ${extra}` : ''}`;

const pick = (run: StartedRun) => ({
  workflowId: run.workflowId,
  runId: run.runId,
  correlationId: run.correlationId,
});

/** Each step output held by reference gets `href`: the data route that serves its bytes. */
function withDataLinks(summary: RunSummary): RunSummary {
  return {
    ...summary,
    steps: summary.steps.map((step) =>
      isDataRef(step.output)
        ? {
            ...step,
            output: {
              ...step.output,
              href: `/api/Orchestration/runs/${summary.orchestratedFlowId}/${summary.runId}/steps/${step.stepId}/output`,
            },
          }
        : step,
    ),
  };
}

/** Every data reference in a value, at any depth (a for-each step's output holds one per large item). */
function refsIn(value: unknown): Array<Parameters<typeof refHash>[0]> {
  if (isDataRef(value)) return [value];
  if (typeof value !== 'object' || value === null) return [];
  return Object.values(value).flatMap(refsIn);
}
