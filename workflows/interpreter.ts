/**
 * The generic interpreter: one workflow type that runs any stored flow. The semantics live in the pure modules
 * (domain/flow-run.ts: decisions, data, outcome; domain/definition.ts: validation); this file wires them to Temporal:
 * load the snapshot, run decided steps as activities on their processors' task queues, answer `status`, finish.
 */
import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  CancellationScope,
  condition,
  defineQuery,
  defineSignal,
  defineUpdate,
  isCancellation,
  log,
  makeContinueAsNewFunc,
  patched,
  proxyActivities,
  proxyLocalActivities,
  scheduleActivity,
  setHandler,
  TimeoutFailure,
  upsertMemo,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { ForEachActivities } from '../activities/for-each';
import type { SegmentActivities } from '../activities/segments';
import type { OrchestratorActivities } from '../activities/snapshot';
import { definitionProblems } from '../domain/definition';
import {
  decisionOf,
  initialStepStates,
  planRun,
  progress,
  Readiness,
  runOutcome,
  statusOfCode,
  stepInput,
  withoutRepeatedOutputs,
  type DecidedStep,
  type RunPlan,
} from '../domain/flow-run';
import { unpageSnapshot, type SnapshotPage } from '../domain/snapshot-pages';
import { CORRELATION_ID_ATTRIBUTE } from '../domain/search-attributes';
import {
  DEFAULT_MAX_CONCURRENT_STEPS,
  STEP_STATUSES,
  type CompensationInput,
  type CompensationSummary,
  type FlowRunInput,
  type FlowSnapshot,
  type HistoryBudget,
  type PauseInfo,
  type PauseRequest,
  type ResumeRequest,
  type RunStatus,
  type RunSummary,
  type SnapshotProcessor,
  type SnapshotStep,
  type StepError,
  type StepInvocation,
  type StepResult,
  type StepState,
} from '../domain/flow-types';
import { COMPENSATE_ON_STOP_SIGNAL, PAUSE_UPDATE, RESUME_UPDATE, STATUS_QUERY } from '../domain/task-queue';
import { attemptsOf, stepError } from './failures';
import { runForEach, type ActivityGate } from './for-each';

/** The run's status: its summary as of now. */
export const statusQuery = defineQuery<RunSummary>(STATUS_QUERY);
/** Pauses the run: no step (or for-each item) starts until it is resumed; running ones finish. */
export const pauseUpdate = defineUpdate<RunSummary, [PauseRequest]>(PAUSE_UPDATE);
/** Resumes a paused run. */
export const resumeUpdate = defineUpdate<RunSummary, [ResumeRequest]>(RESUME_UPDATE);
/** Sent just before a stop that asks for compensation. */
export const compensateOnStopSignal = defineSignal(COMPENSATE_ON_STOP_SIGNAL);

const DEFAULT_START_TO_CLOSE_MS = 5 * 60_000;
const DEFAULT_MAX_ATTEMPTS = 3;
/** Failure types that never retry, whatever a step's retry policy says. */
const NON_RETRYABLE_TYPES = ['SchemaViolation', 'InvalidConfiguration'];

const { loadFlowSnapshot } = proxyActivities<OrchestratorActivities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 5, nonRetryableErrorTypes: ['FlowNotFound'] },
  summary: 'load flow definition',
});

/** The snapshot load of runs started without one (scheduled runs): a local activity, one marker in history. */
const local = proxyLocalActivities<OrchestratorActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 5, nonRetryableErrorTypes: ['FlowNotFound'] },
  summary: 'load flow definition',
});

/** Patch: load the snapshot with a local activity instead of a regular one (runs started before keep replaying). */
export const LOCAL_SNAPSHOT_PATCH = 'snapshot-local-activity';
/** Runs from this change on send each predecessor's output once per invocation (in `input` only). */
export const STEP_DATA_ONCE_PATCH = 'step-data-once';
/** Runs from this change on record how each step was decided (`StepState.decision`) in their status. */
export const DECISION_TRACE_PATCH = 'decision-trace';
/**
 * Scheduled runs from this change on take their first execution's run ID as correlation ID, instead of a `uuid4()`
 * whose value depended on what else drew from the workflow's random stream (the tracing interceptor does).
 */
export const CORRELATION_FROM_RUN_PATCH = 'correlation-id-from-run';
/**
 * Runs from this change on wait, when stopped, for each running step whose processor can be told (it has a heartbeat
 * timeout) to acknowledge the cancellation, and record the others as abandoned.
 */
export const STOP_WAITS_PATCH = 'stop-waits-for-steps';
/** Runs from this change on run for-each steps, compensations and reruns (issue 13). */
export const RUN_CONTROL_PATCH = 'run-control';
/** Pauses from this change on are written to the memo too, so the runs listing can say Paused. */
export const PAUSE_MEMO_PATCH = 'pause-memo';
/**
 * Runs from this change on continue as new before their history grows too large (issue 14 §2), and load a
 * definition that did not travel inline in pages from the blob store (`loadSnapshotPage`).
 */
export const SEGMENTS_PATCH = 'continue-as-new';
/**
 * A stop that lands while a long run hands over from one segment to the next — the segment saving its archive, or
 * the next one loading its definition — is a stop like any other: the run ends Cancelled with its summary. Before
 * it, such a stop ended the segment without one (the status then showed no steps). Recorded only by runs that
 * continue as new.
 */
export const STOP_AT_SEGMENT_EDGE_PATCH = 'stop-at-segment-edge';
/**
 * Runs from this change on settle a step in its activity's own promise callbacks, not in an `async` wrapper with a
 * `finally` (and take a definition that travelled inline without awaiting it). The SDK records a stack trace for
 * every promise a workflow creates, so each one costs CPU: a 5-step chain now creates 33 instead of 68. Being the
 * newest, its one marker stands for every patch above, as `continue-as-new`'s did before it.
 */
export const LEAN_STEPS_PATCH = 'lean-steps';

/**
 * A segment continues as new past this much history of its own (since its definition loaded), or when Temporal
 * suggests it once the segment has grown by {@link SUGGESTION_FLOOR_EVENTS}: a segment whose definition alone is
 * near the suggestion still gets work done.
 */
export const DEFAULT_HISTORY_BUDGET: Required<HistoryBudget> = { events: 10_000, bytes: 10 * 1024 * 1024 };
const SUGGESTION_FLOOR_EVENTS = 500;

/** How long past a step's heartbeat timeout a stop still waits for it (the server times it out by then). */
const STOP_GRACE_MS = 5_000;

const segmentActivities = proxyLocalActivities<SegmentActivities>({
  startToCloseTimeout: '1 minute',
  retry: {
    maximumAttempts: 5,
    nonRetryableErrorTypes: ['FlowNotFound', 'NoBlobStore', 'SnapshotPageMissing'],
  },
  summary: 'long run',
});

const { forEachItems } = proxyLocalActivities<ForEachActivities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 5, nonRetryableErrorTypes: ['ForEachItemsInvalid', 'DataUnavailable'] },
  summary: 'for-each items',
});

/**
 * The run's definition: the one the starter passed (a manual start loads and validates it anyway, so passing it
 * saves an activity and its workflow task), else loaded here — by a local activity, or, in runs recorded before
 * that patch, by the regular activity they used.
 */
async function runDefinition(
  input: FlowRunInput,
  segmented: boolean,
  owner: { workflowId: string; runId: string },
): Promise<{ snapshot: FlowSnapshot; ref?: string }> {
  if (input.snapshot) return { snapshot: input.snapshot };
  if (segmented) return loadPages(input, owner);
  if (patched(LOCAL_SNAPSHOT_PATCH))
    return { snapshot: await local.loadFlowSnapshot(input.orchestratedFlowId) };
  return { snapshot: await loadFlowSnapshot(input.orchestratedFlowId) };
}

/** The definition from the blob store, page by page (see activities/segments.ts); the first page stores it. */
async function loadPages(
  input: FlowRunInput,
  owner: { workflowId: string; runId: string },
): Promise<{ snapshot: FlowSnapshot; ref: string }> {
  const first = await segmentActivities.loadSnapshotPage(
    input.snapshotRef !== undefined
      ? { ref: input.snapshotRef, page: 0, owner }
      : { orchestratedFlowId: input.orchestratedFlowId, page: 0, owner },
  );
  const pages: SnapshotPage[] = [first];
  for (let page = 1; page < first.pages; page++)
    pages.push(await segmentActivities.loadSnapshotPage({ ref: first.ref, page, owner }));
  return {
    snapshot: unpageSnapshot(
      first.head!,
      pages.map((p) => p.steps),
    ),
    ref: first.ref,
  };
}

function activityOptions(
  step: Pick<SnapshotStep, 'id' | 'name' | 'timeouts' | 'retryPolicy'> & { processor: SnapshotProcessor },
  cancellationType: ActivityCancellationType = ActivityCancellationType.TRY_CANCEL,
): ActivityOptions {
  // A step's overrides win field by field over its processor's defaults, which win over the engine's.
  const timeouts = { ...step.processor.timeouts, ...step.timeouts };
  const retry = { ...step.processor.retryPolicy, ...step.retryPolicy };
  return {
    taskQueue: step.processor.taskQueue,
    activityId: step.id,
    summary: step.name,
    cancellationType,
    startToCloseTimeout: timeouts.startToCloseMs ?? DEFAULT_START_TO_CLOSE_MS,
    ...(timeouts.scheduleToCloseMs ? { scheduleToCloseTimeout: timeouts.scheduleToCloseMs } : {}),
    ...(timeouts.heartbeatMs ? { heartbeatTimeout: timeouts.heartbeatMs } : {}),
    retry: {
      maximumAttempts: retry.maximumAttempts ?? DEFAULT_MAX_ATTEMPTS,
      ...(retry.initialIntervalMs ? { initialInterval: retry.initialIntervalMs } : {}),
      ...(retry.backoffCoefficient ? { backoffCoefficient: retry.backoffCoefficient } : {}),
      ...(retry.maximumIntervalMs ? { maximumInterval: retry.maximumIntervalMs } : {}),
      nonRetryableErrorTypes: [...NON_RETRYABLE_TYPES, ...(retry.nonRetryableErrorTypes ?? [])],
    },
  };
}

const now = () => new Date().toISOString();

/** Why a step still running when the run was stopped ended as it did. */
const ABANDONED =
  'abandoned: the run was stopped and the processor did not acknowledge the cancellation in time (it may still be running)';
const UNTOLD =
  'abandoned: the run was stopped; the step has no heartbeat timeout, so its processor cannot be told (it may still be running)';

export async function flowInterpreter(input: FlowRunInput): Promise<RunSummary> {
  // Runs from patch `continue-as-new` on have every earlier patch too: that one marker stands for all of them, so a
  // run records one patch marker (and one TemporalChangeVersion upsert) instead of one per patch. Runs recorded
  // before it ask for the patches they have, in the order they always did.
  const lean = patched(LEAN_STEPS_PATCH);
  const modern = lean || patched(SEGMENTS_PATCH);
  const has = (patch: string) => modern || patched(patch);
  const edgeStops = () => lean || patched(STOP_AT_SEGMENT_EDGE_PATCH);
  const info = workflowInfo();
  const continued = input.continued;
  // A long run's identity is its first segment: status, data ownership and reruns all name that run.
  const runId = continued?.runId ?? info.runId;
  // Scheduled runs start without a correlation ID (a schedule's action is the same every time): each gets its own,
  // recorded as a search attribute — its first run ID from patch `correlation-id-from-run` on, before that a uuid4.
  // Runs started with one — every manual run, and every run recorded before schedules existed — issue exactly the
  // commands they always did.
  const correlationId =
    input.correlationId ?? (has(CORRELATION_FROM_RUN_PATCH) ? info.firstExecutionRunId : uuid4());
  if (input.correlationId === undefined)
    upsertSearchAttributes([{ key: CORRELATION_ID_ATTRIBUTE, value: correlationId }]);
  const base = {
    orchestratedFlowId: input.orchestratedFlowId,
    orchestratedFlowName: '',
    workflowId: info.workflowId,
    runId,
    trigger: input.trigger,
    correlationId,
    startedAt: continued?.startedAt ?? info.startTime.toISOString(),
    ...(input.rerun
      ? {
          rerunOf: {
            ...input.rerun.of,
            ...(input.rerun.fromStepId ? { fromStepId: input.rerun.fromStepId } : {}),
          },
        }
      : {}),
  };
  // Every line of the run's log carries these (and, from the workflow logger, workflowId and runId); never payloads.
  const logged = { correlationId, orchestratedFlowId: input.orchestratedFlowId };
  log.info(continued ? 'run continued' : 'run started', {
    ...logged,
    trigger: input.trigger,
    ...(continued ? { segment: continued.segment } : {}),
  });
  // What the status query can show grows as the run loads its definition.
  const loaded: { snapshot?: FlowSnapshot; plan?: RunPlan } = {};
  let states: Record<string, StepState> = {};
  let status: RunStatus = 'Running';
  let completedAt: string | undefined;
  let unhandledFailures: string[] | undefined;
  let paused: PauseInfo | undefined = continued?.paused;
  let compensation: CompensationSummary | undefined;
  let compensateOnStop = false;
  let stopping = false;

  const summary = (): RunSummary => ({
    ...base,
    ...(loaded.snapshot
      ? {
          orchestratedFlowName: loaded.snapshot.orchestratedFlow.name,
          definition: {
            orchestratedFlow: loaded.snapshot.orchestratedFlow,
            workflow: loaded.snapshot.workflow,
            hash: loaded.snapshot.hash,
          },
        }
      : {}),
    status: status === 'Running' && paused ? 'Paused' : status,
    ...(completedAt ? { completedAt } : {}),
    ...(loaded.plan
      ? progress(loaded.plan, states)
      : { completedSteps: 0, totalSteps: 0, currentSteps: [], steps: [] }),
    ...(unhandledFailures ? { unhandledFailures } : {}),
    ...(paused && status === 'Running' ? { paused } : {}),
    ...(compensation ? { compensation } : {}),
    ...(continued ? { segments: { count: continued.segment, archives: continued.archives } } : {}),
  });
  setHandler(statusQuery, summary);

  // Pause and resume: workflow state, so a pause outlives worker restarts. Validators refuse what cannot apply.
  let wake = (): void => undefined;
  const refuse = (type: string, message: string) =>
    ApplicationFailure.create({ type, message, nonRetryable: true });
  setHandler(
    pauseUpdate,
    (request) => {
      paused = { by: request.by, at: now(), ...(request.reason ? { reason: request.reason } : {}) };
      if (has(PAUSE_MEMO_PATCH)) upsertMemo({ paused });
      log.info('run paused', { ...logged, by: request.by });
      return summary();
    },
    {
      validator: (request: PauseRequest | undefined) => {
        if (status !== 'Running' || stopping)
          throw refuse('RunNotRunning', `the run is ${stopping ? 'stopping' : status}`);
        if (paused) throw refuse('AlreadyPaused', `the run was paused by ${paused.by} at ${paused.at}`);
        if (typeof request?.by !== 'string') throw refuse('InvalidRequest', 'a pause names who asks for it');
      },
    },
  );
  setHandler(
    resumeUpdate,
    (request) => {
      paused = undefined;
      if (has(PAUSE_MEMO_PATCH)) upsertMemo({ paused: null });
      log.info('run resumed', { ...logged, by: request.by });
      wake();
      return summary();
    },
    {
      validator: (request: ResumeRequest | undefined) => {
        if (status !== 'Running' || stopping)
          throw refuse('RunNotRunning', `the run is ${stopping ? 'stopping' : status}`);
        if (!paused) throw refuse('NotPaused', 'the run is not paused');
        if (typeof request?.by !== 'string') throw refuse('InvalidRequest', 'a resume names who asks for it');
      },
    },
  );
  setHandler(compensateOnStopSignal, () => {
    compensateOnStop = true;
  });

  const finish = (final: RunStatus) => {
    status = final;
    completedAt = now();
    log.info('run finished', { ...logged, status: final });
    return summary();
  };

  const segmented = modern;
  const owner = { workflowId: info.workflowId, runId };
  // A later segment loads its definition whatever happens meanwhile: a stop then reaches the step loop below.
  const { snapshot, ref: snapshotRef }: { snapshot: FlowSnapshot; ref?: string } =
    lean && input.snapshot
      ? { snapshot: input.snapshot }
      : continued && edgeStops()
        ? await CancellationScope.nonCancellable(() => runDefinition(input, segmented, owner))
        : await runDefinition(input, segmented, owner);
  loaded.snapshot = snapshot;
  // The segment's own history starts here: its budget does not count the definition it had to load.
  const { historyLength: loadedLength, historySize: loadedSize } = workflowInfo();
  const problems = definitionProblems(snapshot);
  if (problems.length > 0)
    throw ApplicationFailure.create({
      type: 'InvalidDefinition',
      nonRetryable: true,
      message: `The flow's definition cannot run: ${problems.map((p) => p.message).join('; ')}`,
      details: [finish('Failed'), problems],
    });

  /** Who is calling, as every processor invocation of this run says it. */
  const runInfo: StepInvocation['run'] = {
    workflowId: info.workflowId,
    runId,
    orchestratedFlowId: input.orchestratedFlowId,
    orchestratedFlowName: snapshot.orchestratedFlow.name,
    correlationId,
  };
  const runPlan = planRun(snapshot);
  loaded.plan = runPlan;
  states = initialStepStates(runPlan);
  const traced = has(DECISION_TRACE_PATCH);
  const waitsOnStop = has(STOP_WAITS_PATCH);
  const runControl = has(RUN_CONTROL_PATCH);
  // The flow's own limit (from its definition) wins over the starter's, which wins over the default.
  const maxConcurrent =
    snapshot.maxConcurrentSteps ?? input.maxConcurrentSteps ?? DEFAULT_MAX_CONCURRENT_STEPS;
  const inFlight = new Set<string>();
  const waiting: string[] = [];
  /** Steps that succeeded, in order of completion: compensation undoes them in reverse. */
  const completed: string[] = [];
  // Activities running now (steps, and for-each items one each): the run's concurrency limit counts these.
  let active = 0;
  const gate: ActivityGate = {
    open: () => !paused && active < maxConcurrent,
    acquire: () => void active++,
    release: () => void active--,
  };
  // States change in place (the status query copies what it answers); a step that ends settles its successors.
  const setState = (stepId: string, change: Partial<StepState>) => {
    states[stepId] = { ...states[stepId]!, ...change };
    if (change.status !== undefined) decider.settle(stepId, change.status);
  };
  const recordDecisions = (decided: readonly DecidedStep[]) => {
    for (const step of decided)
      states[step.stepId] = { ...states[step.stepId]!, decision: decisionOf(runPlan, states, step) };
  };

  // A later segment starts from what the earlier ones decided: kept states whole, the rest as archived stubs.
  if (continued) {
    const kept = new Map(continued.kept.map((state) => [state.stepId, state]));
    runPlan.stepIds.forEach((stepId, position) => {
      const stepStatus = statusOfCode(continued.codes[position] ?? '0');
      if (stepStatus === 'Pending') return;
      states[stepId] = kept.get(stepId) ?? { ...states[stepId]!, status: stepStatus, archived: true };
    });
    completed.push(...continued.completed);
  }

  // A rerun carries the recorded state of the steps it does not execute again.
  if (runControl && input.rerun) {
    const { of, reused } = input.rerun;
    for (const state of reused) if (states[state.stepId]) states[state.stepId] = { ...state, reusedFrom: of };
    if (traced)
      recordDecisions(
        reused
          .filter((state) => states[state.stepId])
          .map((state) => ({
            stepId: state.stepId,
            outcome: 'Reused' as const,
            reason: `reused: ${state.status} in run ${of.runId}`,
          })),
      );
    completed.push(
      ...reused
        .filter((state) => state.status === 'Succeeded' && states[state.stepId])
        .sort((a, b) => (a.completedAt ?? '').localeCompare(b.completedAt ?? ''))
        .map((state) => state.stepId),
    );
  }

  /** A step about to start: its state set Running, its invocation and activity options built. */
  interface StartingStep {
    stepId: string;
    step: SnapshotStep;
    processor: SnapshotProcessor;
    invocation: StepInvocation;
    options: ActivityOptions;
    /** Its processor is told of a stop (heartbeats), so the run waits for its answer. */
    told: boolean;
    maximumAttempts: number;
  }

  const startStep = (stepId: string): StartingStep => {
    const step = snapshot.steps[stepId]!;
    const processor = step.processor!;
    setState(stepId, { status: 'Running', startedAt: now(), attempts: 1 });
    const { input: stepData, previous: allPrevious } = stepInput(runPlan, states, stepId, input.input);
    // Each output travels once: previous[] points into input instead of repeating it (the SDK restores it).
    const previous = has(STEP_DATA_ONCE_PATCH)
      ? withoutRepeatedOutputs(runPlan, stepId, allPrevious)
      : allPrevious;
    const invocation: StepInvocation = {
      run: runInfo,
      step: { id: stepId, name: step.name },
      input: stepData,
      previous,
      assignments: step.assignments,
      configuration: step.configuration ?? {},
    };
    // Told of a stop through its heartbeats, a step is waited for; one without a heartbeat timeout cannot be told.
    const told = waitsOnStop && (step.timeouts?.heartbeatMs ?? processor.timeouts?.heartbeatMs) !== undefined;
    const options = activityOptions(
      { ...step, processor },
      told ? ActivityCancellationType.WAIT_CANCELLATION_COMPLETED : ActivityCancellationType.TRY_CANCEL,
    );
    const maximumAttempts = options.retry?.maximumAttempts ?? DEFAULT_MAX_ATTEMPTS;
    return { stepId, step, processor, invocation, options, told, maximumAttempts };
  };

  const stepSucceeded = (stepId: string, result: StepResult) => {
    setState(stepId, {
      status: 'Succeeded',
      completedAt: now(),
      attempts: result.attempt,
      output: result.output,
    });
    completed.push(stepId);
    log.info('step succeeded', { ...logged, stepId, attempts: result.attempt });
  };

  const stepEndedWith = ({ stepId, told, maximumAttempts }: StartingStep, error: unknown) => {
    const attempts = attemptsOf(error, maximumAttempts);
    if (isCancellation(error)) {
      const reason = !waitsOnStop
        ? 'the run was stopped while the step ran'
        : told
          ? 'the run was stopped; the processor acknowledged the cancellation'
          : UNTOLD;
      setState(stepId, { status: 'Cancelled', completedAt: now(), attempts, reason });
      log.info('step cancelled', { ...logged, stepId, attempts });
    } else if (stopping && waitsOnStop && isTimeout(error)) {
      // It stopped heartbeating after the stop: the server timed it out.
      setState(stepId, { status: 'Cancelled', completedAt: now(), attempts, reason: ABANDONED });
    } else {
      const failure = stepError(error);
      setState(stepId, { status: 'Failed', completedAt: now(), attempts, error: failure });
      log.warn('step failed', { ...logged, stepId, attempts, errorType: failure.type });
    }
  };

  /** Runs a started step to its end: its activity, or a for-each step's items. */
  const runStep = async (starting: StartingStep): Promise<void> => {
    const { stepId, step, processor, invocation, options } = starting;
    if (runControl && step.forEach) {
      const outcome = await runForEachStep(stepId, step, invocation, {
        ...options,
        activityType: processor.name,
      });
      if (outcome.status === 'Succeeded') {
        setState(stepId, {
          status: 'Succeeded',
          completedAt: now(),
          attempts: outcome.attempts,
          output: outcome.output,
        });
        completed.push(stepId);
      } else if (outcome.status === 'Failed') {
        setState(stepId, {
          status: 'Failed',
          completedAt: now(),
          attempts: outcome.attempts,
          error: outcome.error,
        });
        log.warn('step failed', {
          ...logged,
          stepId,
          attempts: outcome.attempts,
          errorType: outcome.error.type,
        });
      } else
        setState(stepId, {
          status: 'Cancelled',
          completedAt: now(),
          attempts: outcome.attempts,
          reason: 'the run was stopped while the step ran',
        });
      return;
    }
    try {
      stepSucceeded(stepId, await scheduleActivity<StepResult>(processor.name, [invocation], options));
    } catch (error) {
      stepEndedWith(starting, error);
    }
  };

  /** A for-each step: its items from its input (or its assignments), then one activity per item. */
  const runForEachStep = async (
    stepId: string,
    step: SnapshotStep,
    invocation: StepInvocation,
    options: ActivityOptions & { activityType: string },
  ) => {
    const spec = step.forEach!;
    let items: unknown[];
    try {
      items =
        spec.items === 'assignments'
          ? step.assignments
          : await forEachItems({
              expression: spec.items,
              input: invocation.input,
              owner,
            });
    } catch (error) {
      if (isCancellation(error)) return { status: 'Cancelled' as const, attempts: 0 };
      return { status: 'Failed' as const, attempts: 1, error: stepError(error) };
    }
    setState(stepId, { items: { total: items.length, done: 0, failed: 0, running: 0 } });
    return runForEach(spec, items, invocation, options, gate, (counts) =>
      setState(stepId, { items: counts }),
    );
  };

  // Built once the states it starts from are in (a rerun's reused ones, an earlier segment's).
  const decider = new Readiness(runPlan, (stepId) => states[stepId]!.status);
  // Past its history budget a segment starts no more steps; once the running ones end, it continues as new.
  let draining = false;
  const budget = { ...DEFAULT_HISTORY_BUDGET, ...input.historyBudget };
  const overBudget = () => {
    const { historyLength, historySize, continueAsNewSuggested } = workflowInfo();
    const events = historyLength - loadedLength;
    return (
      events >= budget.events ||
      historySize - loadedSize >= budget.bytes ||
      (continueAsNewSuggested && events >= SUGGESTION_FLOOR_EVENTS)
    );
  };

  const pump = () => {
    const decisions = decider.decide();
    const at = now();
    for (const { stepId, reason } of decisions.skipped)
      states[stepId] = { ...states[stepId]!, status: 'Skipped', reason, completedAt: at };
    if (traced)
      recordDecisions([
        ...decisions.run.map((stepId) => ({ stepId, outcome: 'Run' as const })),
        ...decisions.skipped.map((skip) => ({ ...skip, outcome: 'Skipped' as const })),
      ]);
    waiting.push(...decisions.run);
    if (segmented && !draining && overBudget()) draining = true;
    while (waiting.length > 0 && gate.open() && !draining) {
      const stepId = waiting.shift()!;
      inFlight.add(stepId);
      // A for-each step holds no slot itself: each of its items takes one.
      const slot = !(runControl && snapshot.steps[stepId]?.forEach);
      if (slot) gate.acquire();
      const ended = () => {
        if (slot) gate.release();
        inFlight.delete(stepId);
        if (!CancellationScope.current().consideredCancelled) pump();
      };
      const starting = startStep(stepId);
      // Patch lean-steps: the activity's promise settles the step itself, one promise instead of five.
      if (lean && slot)
        void scheduleActivity<StepResult>(
          starting.processor.name,
          [starting.invocation],
          starting.options,
        ).then(
          (result) => {
            // As in runStep: a result that cannot be recorded (no attempt, say) fails the step, not the task.
            try {
              stepSucceeded(stepId, result);
            } catch (error) {
              stepEndedWith(starting, error);
            }
            ended();
          },
          (error: unknown) => {
            stepEndedWith(starting, error);
            ended();
          },
        );
      else void runStep(starting).finally(ended);
    }
  };
  wake = () => {
    if (!stopping) pump();
  };

  /** The saga: each succeeded step's compensation, newest completion first; a failed one does not stop the rest. */
  const compensate = async (runError: StepError): Promise<void> => {
    const order = [...completed].reverse().filter((id) => snapshot.steps[id]?.compensation);
    if (!runControl || order.length === 0) return;
    const entries = order.map((stepId) => ({
      stepId,
      name: snapshot.steps[stepId]!.name,
      status: 'Pending' as const,
      attempts: 0,
    }));
    compensation = { status: 'Running', steps: entries };
    log.info('compensating', { ...logged, steps: order.length });
    const update = (index: number, change: Partial<CompensationSummary['steps'][number]>) => {
      const steps = [...compensation!.steps];
      steps[index] = { ...steps[index]!, ...change };
      compensation = { ...compensation!, steps };
    };
    for (const [index, stepId] of order.entries()) {
      const step = snapshot.steps[stepId]!;
      const { processor, configuration } = step.compensation!;
      const state = states[stepId]!;
      const compensationInput: CompensationInput = {
        input: stepInput(runPlan, states, stepId, input.input).input,
        output: state.output ?? null,
        error: runError,
      };
      update(index, { status: 'Running', startedAt: now() });
      // Checked by definitionProblems: a compensation's processor exists when the run starts.
      const options = activityOptions({
        id: stepId,
        name: step.name,
        retryPolicy: null,
        timeouts: null,
        processor: processor!,
      });
      try {
        const result = await scheduleActivity<StepResult>(
          processor!.name,
          [
            {
              run: runInfo,
              step: { id: stepId, name: step.name },
              input: compensationInput,
              previous: [],
              assignments: step.assignments,
              configuration: configuration ?? {},
            } satisfies StepInvocation,
          ],
          { ...options, activityId: `${stepId}/compensate`, summary: `compensate ${step.name}` },
        );
        update(index, { status: 'Succeeded', attempts: result.attempt, completedAt: now() });
      } catch (error) {
        const failure = stepError(error);
        update(index, {
          status: 'Failed',
          attempts: attemptsOf(error, options.retry?.maximumAttempts ?? DEFAULT_MAX_ATTEMPTS),
          completedAt: now(),
          error: failure,
        });
        log.warn('compensation failed', { ...logged, stepId, errorType: failure.type });
      }
    }
    compensation = {
      ...compensation,
      status: compensation.steps.some((s) => s.status === 'Failed') ? 'Failed' : 'Completed',
    };
  };

  /**
   * Hands the run to its next segment: the states still needed travel in the input, the others go to this
   * segment's archive in the blob store; the definition travels inline again or by its blob.
   */
  const continueRun = async (): Promise<never> => {
    await condition(allHandlersFinished);
    const keep = new Set(decider.frontier());
    const compensable = completed.filter((stepId) => snapshot.steps[stepId]?.compensation);
    for (const stepId of compensable) {
      keep.add(stepId);
      for (const p of runPlan.predecessors[stepId] ?? []) keep.add(p);
    }
    const decided = (stepId: string) => states[stepId]!.status !== 'Pending';
    const archived = runPlan.stepIds.filter(
      (stepId) => decided(stepId) && !states[stepId]!.archived && !keep.has(stepId),
    );
    const archives = [...(continued?.archives ?? [])];
    if (archived.length > 0)
      archives.push(
        await segmentActivities.saveRunArchive({ owner, states: archived.map((stepId) => states[stepId]!) }),
      );
    const segment = (continued?.segment ?? 1) + 1;
    log.info('run continues as new', { ...logged, segment, archived: archived.length });
    const next = makeContinueAsNewFunc<typeof flowInterpreter>({
      // The runs listing shows the last segment under the run's own ID and start (api/orchestration/run-status.ts).
      memo: { ...workflowInfo().memo, chain: { runId, startedAt: base.startedAt, segment } },
      typedSearchAttributes: workflowInfo().typedSearchAttributes,
    });
    return next({
      orchestratedFlowId: input.orchestratedFlowId,
      ...(input.input !== undefined ? { input: input.input } : {}),
      correlationId,
      trigger: input.trigger,
      ...(input.maxConcurrentSteps !== undefined ? { maxConcurrentSteps: input.maxConcurrentSteps } : {}),
      ...(input.historyBudget ? { historyBudget: input.historyBudget } : {}),
      ...(input.rerun ? { rerun: { ...input.rerun, reused: [] } } : {}),
      ...(input.snapshot ? { snapshot: input.snapshot } : { snapshotRef: snapshotRef! }),
      continued: {
        segment,
        runId,
        startedAt: base.startedAt,
        // Steps decided to run but not started yet are Pending: the next segment decides them again.
        codes: runPlan.stepIds.map((stepId) => STEP_STATUSES.indexOf(states[stepId]!.status)).join(''),
        kept: [...keep].filter((stepId) => !states[stepId]!.archived).map((stepId) => states[stepId]!),
        archives,
        completed: compensable,
        ...(paused ? { paused } : {}),
      },
    });
  };

  try {
    pump();
    await condition(() => inFlight.size === 0 && (decider.finished || draining));
    // Handing over to the next segment inside the stop's reach (before the patch, a stop then ended it bare).
    if (!decider.finished && edgeStops()) await continueRun();
  } catch (error) {
    if (!isCancellation(error)) throw error;
    stopping = true;
    // Stop: running steps were asked to cancel; wait for them to settle (those that can be told, at most a little
    // past their heartbeat timeout), mark the rest, end Cancelled.
    const running = [...inFlight].map((id) => snapshot.steps[id]!);
    const bound = Math.max(
      0,
      ...running.map(
        (step) => (step.timeouts?.heartbeatMs ?? step.processor?.timeouts?.heartbeatMs ?? 0) * 2,
      ),
    );
    await CancellationScope.nonCancellable(async () => {
      if (waitsOnStop) await condition(() => inFlight.size === 0, bound + STOP_GRACE_MS);
      else await condition(() => inFlight.size === 0);
    });
    for (const stepId of inFlight)
      setState(stepId, { status: 'Cancelled', completedAt: now(), reason: ABANDONED });
    waiting.length = 0;
    const reason = 'the run was stopped before the step was decided';
    const undecided = runPlan.stepIds.filter(
      (id) => states[id]?.status === 'Pending' && !states[id].decision,
    );
    const at = now();
    for (const id of runPlan.stepIds)
      if (states[id]!.status === 'Pending')
        states[id] = { ...states[id]!, status: 'Cancelled', reason, completedAt: at };
    if (traced)
      recordDecisions(undecided.map((stepId) => ({ stepId, outcome: 'Cancelled' as const, reason })));
    if (compensateOnStop)
      await CancellationScope.nonCancellable(() =>
        compensate({ message: 'the run was stopped', type: 'Cancelled' }),
      );
    const final = finish('Cancelled');
    upsertMemo({ summary: { ...final, steps: final.steps.map(({ output: _output, ...rest }) => rest) } });
    throw error;
  }
  if (!decider.finished) await continueRun();

  const outcome = runOutcome(runPlan, states);
  if (outcome.status === 'Failed') {
    unhandledFailures = outcome.unhandledFailures;
    const names = outcome.unhandledFailures.map((id) => `"${snapshot.steps[id]?.name ?? id}"`).join(', ');
    const message = `Unhandled step failure: ${names}`;
    // The run has failed: status says so while its compensations run, which a stop does not interrupt.
    status = 'Failed';
    await CancellationScope.nonCancellable(() => compensate({ message, type: 'FlowFailed' }));
    throw ApplicationFailure.create({
      type: 'FlowFailed',
      nonRetryable: true,
      message,
      details: [finish('Failed')],
    });
  }
  return finish('Completed');
}

/** An activity that ended because it timed out (after a stop: it stopped heartbeating, or never acknowledged). */
function isTimeout(error: unknown): boolean {
  return error instanceof ActivityFailure && error.cause instanceof TimeoutFailure;
}
