import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { BlobUnavailableError, isDataRef, offload, type DataPlane } from '../../activities/sdk';
import { refHash } from '../../activities/sdk/data-refs';
import { loadFlowSnapshot } from '../../activities/snapshot';
import { definitionProblems } from '../../domain/definition';
import type { FlowRunInput, RunSummary } from '../../domain/flow-types';
import { runSearchAttributes } from '../../domain/search-attributes';
import { FLOW_WORKFLOW_TYPE, manualRunWorkflowId, ORCHESTRATOR_TASK_QUEUE } from '../../domain/task-queue';
import type { ApiMetrics } from '../../infra/metrics';
import type { PrismaClient } from '../../prisma/client';
import { ApiError, ConflictError, NotFoundError } from '../errors';
import { translateDatabaseError } from '../prisma-errors';
import { runInputFromHistory } from './history-status';
import { readRunSummary, runListItem, type RunListItem } from './run-status';
import { callTemporal } from './temporal-errors';

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

/** Starts, stops and reads runs of orchestrated flows on Temporal. */
export class OrchestrationService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly client: Client,
    private readonly taskQueue: string = ORCHESTRATOR_TASK_QUEUE,
    private readonly metrics?: ApiMetrics,
    private readonly data?: DataPlane,
  ) {}

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

    const snapshot = await this.db(() => loadFlowSnapshot(this.prisma, orchestratedFlowId));
    if (!snapshot) throw new NotFoundError('OrchestratedFlow', orchestratedFlowId);
    const problems = definitionProblems(snapshot);
    if (problems.length > 0)
      throw new ApiError(
        422,
        'InvalidDefinition',
        `The flow's definition cannot run: ${problems.map((p) => p.message).join('; ')}`,
        problems.map(({ message, ...problem }) => ({ field: 'definition', message, ...problem })),
      );

    const workflowId = manualRunWorkflowId(orchestratedFlowId);
    // A large input goes to the blob store first and travels as a reference (the run claims it once started).
    const input = this.data
      ? await this.db(() => offload(options.input, this.data!, { workflowId, runId: 'starting' }))
      : options.input;
    const args: [FlowRunInput] = [
      {
        orchestratedFlowId,
        input,
        correlationId: options.correlationId,
        trigger: 'manual',
        // The run takes the definition validated here (one Postgres read, no loading activity); a very large one
        // it loads itself, keeping the start event well under Temporal's payload limits.
        ...(JSON.stringify(snapshot).length <= MAX_INLINE_SNAPSHOT_BYTES ? { snapshot } : {}),
      },
    ];
    let started: StartedRun;
    try {
      const handle = await this.temporal(() =>
        this.client.workflow.start(FLOW_WORKFLOW_TYPE, {
          taskQueue: this.taskQueue,
          workflowId,
          args,
          workflowIdConflictPolicy: 'FAIL',
          workflowIdReusePolicy: 'ALLOW_DUPLICATE',
          typedSearchAttributes: runSearchAttributes({
            orchestratedFlowId,
            orchestratedFlowName: snapshot.orchestratedFlow.name,
            trigger: 'manual',
            correlationId: options.correlationId,
          }),
          memo: { correlationId: options.correlationId, ...(key ? { idempotencyKey: key } : {}) },
          staticSummary: `${snapshot.orchestratedFlow.name} (${snapshot.workflow.name})`,
        }),
      );
      this.metrics?.runsStarted.inc({ trigger: 'manual' });
      if (this.data && isDataRef(input))
        await this.db(() =>
          this.data!.store.claim(refHash(input), { workflowId, runId: handle.firstExecutionRunId }),
        );
      started = {
        message: 'Orchestration started successfully',
        orchestratedFlowId,
        workflowId,
        runId: handle.firstExecutionRunId,
        correlationId: options.correlationId,
        startedAt: new Date().toISOString(),
      };
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      const open = await this.temporal(() => this.client.workflow.getHandle(workflowId).describe());
      if (key && open.memo?.idempotencyKey === key)
        started = {
          message: 'Orchestration already started with this Idempotency-Key',
          orchestratedFlowId,
          workflowId,
          runId: open.runId,
          correlationId:
            typeof open.memo.correlationId === 'string' ? open.memo.correlationId : options.correlationId,
          startedAt: open.startTime.toISOString(),
        };
      else
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
    if (key) {
      await this.db(() =>
        this.prisma.runIdempotencyKey.createMany({
          data: [{ orchestratedFlowId, key, ...pick(started), startedAt: new Date(started.startedAt) }],
          skipDuplicates: true,
        }),
      );
      // Simultaneous starts with one key each record the run (one with the API's clock, one with Temporal's start
      // time); the record that won is the answer to all of them, so they agree.
      const stored = await recorded(key);
      if (stored) started = { ...started, ...stored };
    }
    return started;
  }

  /**
   * Stops every open run of the flow: cancels it (running steps see the cancellation), or terminates it.
   * @throws NotFoundError (404 NoOpenRun) when none is open.
   */
  async stop(orchestratedFlowId: string, terminate: boolean) {
    const stopped: string[] = [];
    for (const run of await this.openRuns(orchestratedFlowId)) {
      const handle = this.client.workflow.getHandle(run.workflowId, run.runId, { followRuns: false });
      try {
        await this.temporal(() =>
          terminate ? handle.terminate('stopped through the API') : handle.cancel(),
        );
        stopped.push(run.runId);
      } catch (error) {
        // The visibility store lags: a run it still lists as Running may have closed meanwhile.
        if (!(error instanceof WorkflowNotFoundError)) throw error;
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

  /** The latest run's status, whatever started it. @throws ApiError 404 NeverRan */
  async status(orchestratedFlowId: string): Promise<RunSummary> {
    const latest = await this.latestRun(orchestratedFlowId);
    if (!latest) throw new ApiError(404, 'NeverRan', `Flow ${orchestratedFlowId} has no runs`);
    return withDataLinks(
      await this.temporal(() => readRunSummary(this.client, latest.workflowId, latest.runId)),
    );
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
    return this.onRun(orchestratedFlowId, runId, (workflowId) =>
      readRunSummary(this.client, workflowId, runId),
    );
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
    const query = runsQuery(orchestratedFlowId);
    // Both calls end before the answer: with Promise.all, one failing early (Temporal down) would answer 503 while
    // the other still had a retry pending, which throws once the connection is closed.
    const [listed, counted] = await Promise.allSettled([
      this.list(orchestratedFlowId, undefined, limit, offset),
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

  private async openRuns(orchestratedFlowId: string) {
    const open = new Map<string, { workflowId: string; runId: string }>();
    try {
      const d = await this.temporal(() =>
        this.client.workflow.getHandle(manualRunWorkflowId(orchestratedFlowId)).describe(),
      );
      if (d.status.name === 'RUNNING') open.set(d.runId, { workflowId: d.workflowId, runId: d.runId });
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
    }
    const listed = await this.list(orchestratedFlowId, `ExecutionStatus = 'Running'`, 100, 0);
    for (const item of listed) open.set(item.runId, { workflowId: item.workflowId, runId: item.runId });
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
