/**
 * The generic interpreter: one workflow type that runs any stored flow. The semantics live in the pure modules
 * (domain/flow-run.ts: decisions, data, outcome; domain/definition.ts: validation); this file wires them to Temporal:
 * load the snapshot, run decided steps as activities on their processors' task queues, answer `status`, finish.
 */
import {
  ActivityCancellationType,
  ApplicationFailure,
  CancellationScope,
  condition,
  defineQuery,
  isCancellation,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  scheduleActivity,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { OrchestratorActivities } from '../activities/snapshot';
import { definitionProblems } from '../domain/definition';
import {
  applySkips,
  cancelPending,
  decide,
  initialStepStates,
  isFinished,
  planRun,
  progress,
  runOutcome,
  stepInput,
  withDecisions,
  withoutRepeatedOutputs,
  type RunPlan,
} from '../domain/flow-run';
import { CORRELATION_ID_ATTRIBUTE } from '../domain/search-attributes';
import type {
  FlowRunInput,
  FlowSnapshot,
  RunStatus,
  RunSummary,
  SnapshotStep,
  StepInvocation,
  StepResult,
  StepState,
} from '../domain/flow-types';
import { STATUS_QUERY } from '../domain/task-queue';
import { attemptsOf, stepError } from './failures';

/** The run's status: its summary as of now. */
export const statusQuery = defineQuery<RunSummary>(STATUS_QUERY);

const DEFAULT_MAX_CONCURRENT_STEPS = 100;
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
 * The run's definition: the one the starter passed (a manual start loads and validates it anyway, so passing it
 * saves an activity and its workflow task), else loaded here — by a local activity, or, in runs recorded before
 * that patch, by the regular activity they used.
 */
async function runDefinition(input: FlowRunInput): Promise<FlowSnapshot> {
  if (input.snapshot) return input.snapshot;
  if (patched(LOCAL_SNAPSHOT_PATCH)) return local.loadFlowSnapshot(input.orchestratedFlowId);
  return loadFlowSnapshot(input.orchestratedFlowId);
}

function activityOptions(
  step: SnapshotStep & { processor: NonNullable<SnapshotStep['processor']> },
): ActivityOptions {
  // A step's overrides win field by field over its processor's defaults, which win over the engine's.
  const timeouts = { ...step.processor.timeouts, ...step.timeouts };
  const retry = { ...step.processor.retryPolicy, ...step.retryPolicy };
  return {
    taskQueue: step.processor.taskQueue,
    activityId: step.id,
    summary: step.name,
    cancellationType: ActivityCancellationType.TRY_CANCEL,
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

export async function flowInterpreter(input: FlowRunInput): Promise<RunSummary> {
  const info = workflowInfo();
  // Scheduled runs start without a correlation ID (a schedule's action is the same every time): each gets its own,
  // from the workflow's deterministic uuid4, recorded as a search attribute. Runs started with one — every manual
  // run, and every run recorded before schedules existed — issue exactly the commands they always did.
  const correlationId = input.correlationId ?? uuid4();
  if (input.correlationId === undefined)
    upsertSearchAttributes([{ key: CORRELATION_ID_ATTRIBUTE, value: correlationId }]);
  const base = {
    orchestratedFlowId: input.orchestratedFlowId,
    orchestratedFlowName: '',
    workflowId: info.workflowId,
    runId: info.runId,
    trigger: input.trigger,
    correlationId,
    startedAt: info.startTime.toISOString(),
  };
  // Every line of the run's log carries these (and, from the workflow logger, workflowId and runId); never payloads.
  const logged = { correlationId, orchestratedFlowId: input.orchestratedFlowId };
  log.info('run started', { ...logged, trigger: input.trigger });
  // What the status query can show grows as the run loads its definition.
  const loaded: { snapshot?: FlowSnapshot; plan?: RunPlan } = {};
  let states: Record<string, StepState> = {};
  let status: RunStatus = 'Running';
  let completedAt: string | undefined;
  let unhandledFailures: string[] | undefined;

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
    status,
    ...(completedAt ? { completedAt } : {}),
    ...(loaded.plan
      ? progress(loaded.plan, states)
      : { completedSteps: 0, totalSteps: 0, currentSteps: [], steps: [] }),
    ...(unhandledFailures ? { unhandledFailures } : {}),
  });
  setHandler(statusQuery, summary);

  const finish = (final: RunStatus) => {
    status = final;
    completedAt = now();
    log.info('run finished', { ...logged, status: final });
    return summary();
  };

  const snapshot = await runDefinition(input);
  loaded.snapshot = snapshot;
  const problems = definitionProblems(snapshot);
  if (problems.length > 0)
    throw ApplicationFailure.create({
      type: 'InvalidDefinition',
      nonRetryable: true,
      message: `The flow's definition cannot run: ${problems.map((p) => p.message).join('; ')}`,
      details: [finish('Failed'), problems],
    });

  const runPlan = planRun(snapshot);
  loaded.plan = runPlan;
  states = initialStepStates(runPlan);
  const traced = patched(DECISION_TRACE_PATCH);
  // The flow's own limit (from its definition) wins over the starter's, which wins over the default.
  const maxConcurrent =
    snapshot.maxConcurrentSteps ?? input.maxConcurrentSteps ?? DEFAULT_MAX_CONCURRENT_STEPS;
  const inFlight = new Set<string>();
  const waiting: string[] = [];

  const runStep = async (stepId: string): Promise<void> => {
    const step = snapshot.steps[stepId]!;
    const processor = step.processor!;
    states = {
      ...states,
      [stepId]: { ...states[stepId]!, status: 'Running', startedAt: now(), attempts: 1 },
    };
    const { input: stepData, previous: allPrevious } = stepInput(runPlan, states, stepId, input.input);
    // Each output travels once: previous[] points into input instead of repeating it (the SDK restores it).
    const previous = patched(STEP_DATA_ONCE_PATCH)
      ? withoutRepeatedOutputs(runPlan, stepId, allPrevious)
      : allPrevious;
    const invocation: StepInvocation = {
      run: {
        workflowId: info.workflowId,
        runId: info.runId,
        orchestratedFlowId: input.orchestratedFlowId,
        orchestratedFlowName: snapshot.orchestratedFlow.name,
        correlationId,
      },
      step: { id: stepId, name: step.name },
      input: stepData,
      previous,
      assignments: step.assignments,
      configuration: step.configuration ?? {},
    };
    const options = activityOptions({ ...step, processor });
    try {
      const result = await scheduleActivity<StepResult>(processor.name, [invocation], options);
      states = {
        ...states,
        [stepId]: {
          ...states[stepId]!,
          status: 'Succeeded',
          completedAt: now(),
          attempts: result.attempt,
          output: result.output,
        },
      };
      log.info('step succeeded', { ...logged, stepId, attempts: result.attempt });
    } catch (error) {
      const failure = isCancellation(error) ? undefined : stepError(error);
      const attempts = attemptsOf(error, options.retry?.maximumAttempts ?? DEFAULT_MAX_ATTEMPTS);
      states = {
        ...states,
        [stepId]: {
          ...states[stepId]!,
          status: failure ? 'Failed' : 'Cancelled',
          completedAt: now(),
          attempts,
          ...(failure ? { error: failure } : { reason: 'the run was stopped while the step ran' }),
        },
      };
      if (failure) log.warn('step failed', { ...logged, stepId, attempts, errorType: failure.type });
      else log.info('step cancelled', { ...logged, stepId, attempts });
    }
  };

  const pump = () => {
    const decisions = decide(runPlan, states, new Set([...inFlight, ...waiting]));
    states = applySkips(states, decisions.skipped, now());
    if (traced)
      states = withDecisions(runPlan, states, [
        ...decisions.run.map((stepId) => ({ stepId, outcome: 'Run' as const })),
        ...decisions.skipped.map((skip) => ({ ...skip, outcome: 'Skipped' as const })),
      ]);
    waiting.push(...decisions.run);
    while (inFlight.size < maxConcurrent && waiting.length > 0) {
      const stepId = waiting.shift()!;
      inFlight.add(stepId);
      void runStep(stepId).finally(() => {
        inFlight.delete(stepId);
        if (!CancellationScope.current().consideredCancelled) pump();
      });
    }
  };

  try {
    pump();
    await condition(() => inFlight.size === 0 && isFinished(states));
  } catch (error) {
    if (!isCancellation(error)) throw error;
    // Stop: running steps were asked to cancel; wait for them to settle, mark the rest, end Cancelled.
    await CancellationScope.nonCancellable(() => condition(() => inFlight.size === 0));
    waiting.length = 0;
    const reason = 'the run was stopped before the step was decided';
    const undecided = runPlan.stepIds.filter(
      (id) => states[id]?.status === 'Pending' && !states[id].decision,
    );
    states = cancelPending(states, reason, now());
    if (traced)
      states = withDecisions(
        runPlan,
        states,
        undecided.map((stepId) => ({ stepId, outcome: 'Cancelled' as const, reason })),
      );
    const final = finish('Cancelled');
    upsertMemo({ summary: { ...final, steps: final.steps.map(({ output: _output, ...rest }) => rest) } });
    throw error;
  }

  const outcome = runOutcome(runPlan, states);
  if (outcome.status === 'Failed') {
    unhandledFailures = outcome.unhandledFailures;
    const names = outcome.unhandledFailures.map((id) => `"${snapshot.steps[id]?.name ?? id}"`).join(', ');
    throw ApplicationFailure.create({
      type: 'FlowFailed',
      nonRetryable: true,
      message: `Unhandled step failure: ${names}`,
      details: [finish('Failed')],
    });
  }
  return finish('Completed');
}
