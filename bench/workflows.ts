/**
 * The hand-written baseline: the same DAG shapes as the benchmark's stored flows, written directly against Temporal.
 * Each step is the same activity (type `bench-noop`, same task queue), with the same `StepInvocation` and the same
 * activity options as the interpreter gives a step with no overrides (workflows/interpreter.ts, `activityOptions`),
 * so any difference measured is the interpreter's own cost. Workflow sandbox: no Node builtins, types only.
 */
import { ActivityCancellationType, log, patched, scheduleActivity, workflowInfo } from '@temporalio/workflow';
import type {
  FlowSnapshot,
  PreviousStepResult,
  RunSummary,
  StepInvocation,
  StepResult,
  StepState,
} from '../domain/flow-types';
import { NOOP, NOOP_TASK_QUEUE } from './constants';

export interface BenchStep {
  id: string;
  name: string;
}

/** What a hand-written run knows up front: the stored flow's IDs and names, so invocations match ours exactly. */
export interface HandWrittenInput {
  orchestratedFlowId: string;
  orchestratedFlowName: string;
  correlationId: string;
  input: unknown;
}

export interface ChainInput extends HandWrittenInput {
  steps: BenchStep[];
}

export interface FanOutInput extends HandWrittenInput {
  entry: BenchStep;
  branches: BenchStep[];
  /** Omitted: the run ends when every branch has finished. */
  join?: BenchStep;
}

/** Steps A → B → … : sequential awaits, each step given its predecessor's output. */
export async function handWrittenChain(run: ChainInput): Promise<unknown> {
  let previous: PreviousStepResult[] = [];
  let data = run.input;
  for (const step of run.steps) {
    data = await callStep(run, step, data, previous);
    previous = [{ stepId: step.id, name: step.name, status: 'Succeeded', output: data }];
  }
  return data;
}

export interface ChainWithExtrasInput extends ChainInput {
  /** The definition, as our starts pass it. */
  snapshot: FlowSnapshot;
}

/**
 * The chain as a hand-written workflow would run it with what the product adds to every run: started with the
 * flow's definition in its input (and its search attributes, memo and summary, see `runHandWrittenWithExtras`), one
 * patch marker (with its `TemporalChangeVersion` upsert), a log line at the start, per step and at the end, and a
 * run summary as its result. Only the saturation measures it: the difference between this and our runs is the
 * interpreter's own cost, the difference between this and `handWrittenChain` the cost of those features.
 */
export async function handWrittenChainWithExtras(run: ChainWithExtrasInput): Promise<RunSummary> {
  patched('bench-extras');
  const { workflowId, runId, startTime } = workflowInfo();
  const logged = { correlationId: run.correlationId, orchestratedFlowId: run.orchestratedFlowId };
  log.info('run started', { ...logged, trigger: 'manual' });
  const states: StepState[] = [];
  let previous: PreviousStepResult[] = [];
  let data = run.input;
  for (const step of run.steps) {
    const startedAt = new Date().toISOString();
    const processor = run.snapshot.steps[step.id]?.processor;
    data = await callStep(run, step, data, previous);
    previous = [{ stepId: step.id, name: step.name, status: 'Succeeded', output: data }];
    states.push({
      stepId: step.id,
      name: step.name,
      processor: processor ? `${processor.name}@${processor.version}` : null,
      status: 'Succeeded',
      attempts: 1,
      startedAt,
      completedAt: new Date().toISOString(),
      output: data,
      decision: {
        condition: 'PreviousSuccess',
        predecessors: states.slice(-1).map((p) => ({ stepId: p.stepId, name: p.name, status: p.status })),
        outcome: 'Run',
        reason: 'PreviousSuccess met: all previous steps succeeded',
      },
    });
    log.info('step succeeded', { ...logged, stepId: step.id, attempts: 1 });
  }
  log.info('run finished', { ...logged, status: 'Completed' });
  return {
    orchestratedFlowId: run.orchestratedFlowId,
    orchestratedFlowName: run.orchestratedFlowName,
    workflowId,
    runId,
    status: 'Completed',
    trigger: 'manual',
    correlationId: run.correlationId,
    startedAt: startTime.toISOString(),
    completedAt: new Date().toISOString(),
    completedSteps: states.length,
    totalSteps: states.length,
    currentSteps: [],
    steps: states,
    definition: {
      orchestratedFlow: run.snapshot.orchestratedFlow,
      workflow: run.snapshot.workflow,
      hash: run.snapshot.hash,
    },
  };
}

/** entry → W branches at once (Promise.all) → optional join, given an object keyed by branch name. */
export async function handWrittenFanOut(run: FanOutInput): Promise<unknown> {
  const entryOutput = await callStep(run, run.entry, run.input, []);
  const fromEntry: PreviousStepResult[] = [
    { stepId: run.entry.id, name: run.entry.name, status: 'Succeeded', output: entryOutput },
  ];
  const outputs = await Promise.all(run.branches.map((step) => callStep(run, step, entryOutput, fromEntry)));
  if (!run.join) return outputs;
  const previous = run.branches.map((step, i): PreviousStepResult => ({
    stepId: step.id,
    name: step.name,
    status: 'Succeeded',
    output: outputs[i],
  }));
  const joined = Object.fromEntries(previous.map((p) => [p.name, p.output]));
  return callStep(run, run.join, joined, previous);
}

async function callStep(
  run: HandWrittenInput,
  step: BenchStep,
  input: unknown,
  previous: PreviousStepResult[],
): Promise<unknown> {
  const { workflowId, runId } = workflowInfo();
  const invocation: StepInvocation = {
    run: {
      workflowId,
      runId,
      orchestratedFlowId: run.orchestratedFlowId,
      orchestratedFlowName: run.orchestratedFlowName,
      correlationId: run.correlationId,
    },
    step: { id: step.id, name: step.name },
    input,
    previous,
    assignments: [],
    configuration: {},
  };
  // The interpreter's options for a step without overrides, verbatim.
  const result = await scheduleActivity<StepResult>(NOOP.name, [invocation], {
    taskQueue: NOOP_TASK_QUEUE,
    activityId: step.id,
    summary: step.name,
    cancellationType: ActivityCancellationType.TRY_CANCEL,
    startToCloseTimeout: 5 * 60_000,
    retry: { maximumAttempts: 3, nonRetryableErrorTypes: ['SchemaViolation', 'InvalidConfiguration'] },
  });
  return result.output;
}
