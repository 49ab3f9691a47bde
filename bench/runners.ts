/**
 * One run of a shape, either side, timed from the start call to the result: ours through `OrchestrationService.start`
 * (what `POST /api/Orchestration/start` calls: snapshot check, stable workflow ID, search attributes), the
 * hand-written workflow through a plain `client.workflow.start` with a unique workflow ID.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { StartDefinitions } from '../api/orchestration/start-definition';
import { runStartMetadata, type OrchestrationService } from '../api/orchestration/service';
import type { RunSummary } from '../domain/flow-types';
import { HAND_WRITTEN_TASK_QUEUE } from './constants';
import type { BenchFlow, FanOutFlow } from './flows';
import {
  handWrittenChain,
  handWrittenChainWithExtras,
  handWrittenFanOut,
  type HandWrittenInput,
} from './workflows';

export type Side = 'ours' | 'handWritten' | 'withExtras';

export interface TimedRun {
  side: Side;
  /** Start call → result, in the client. */
  wallMs: number;
  /** The start call alone. */
  startMs: number;
  handle: WorkflowHandle;
}

/** Raised when a benchmark run does not complete; names the run. */
export class BenchRunError extends Error {
  override name = 'BenchRunError';
}

export const RUN_INPUT = { n: 1, text: 'benchmark' };

/** Runs `flow` once through the interpreter. @throws BenchRunError unless the run Completed. */
export async function runOurs(
  orchestration: OrchestrationService,
  client: Client,
  flow: BenchFlow,
): Promise<TimedRun> {
  const begin = performance.now();
  const started = await orchestration.start(flow.flowId, { input: RUN_INPUT, correlationId: randomUUID() });
  const startMs = performance.now() - begin;
  const handle = client.workflow.getHandle(started.workflowId, started.runId);
  const summary = (await handle.result()) as RunSummary;
  const wallMs = performance.now() - begin;
  if (summary.status !== 'Completed' || summary.completedSteps !== flow.steps.length)
    throw new BenchRunError(`run ${started.runId} of ${flow.flowName} ended ${summary.status}`);
  return { side: 'ours', wallMs, startMs, handle };
}

/** The hand-written twin of `flow`: a chain, or a fan-out when `flow` has branches. */
export async function runHandWritten(client: Client, flow: BenchFlow | FanOutFlow): Promise<TimedRun> {
  const base: HandWrittenInput = {
    orchestratedFlowId: flow.flowId,
    orchestratedFlowName: flow.flowName,
    correlationId: randomUUID(),
    input: RUN_INPUT,
  };
  const options = { taskQueue: HAND_WRITTEN_TASK_QUEUE, workflowId: `bench-${randomUUID()}` };
  const begin = performance.now();
  const handle =
    'branches' in flow
      ? await client.workflow.start(handWrittenFanOut, {
          ...options,
          args: [{ ...base, entry: flow.entry, branches: flow.branches, join: flow.join }],
        })
      : await client.workflow.start(handWrittenChain, { ...options, args: [{ ...base, steps: flow.steps }] });
  const startMs = performance.now() - begin;
  await handle.result();
  return { side: 'handWritten', wallMs: performance.now() - begin, startMs, handle };
}

/**
 * The hand-written chain started as our starts are (`handWrittenChainWithExtras`): the definition loaded by the same
 * query and cache, then passed in the input, with the same search attributes, memo and summary.
 */
export async function runHandWrittenWithExtras(
  client: Client,
  definitions: StartDefinitions,
  flow: BenchFlow,
): Promise<TimedRun> {
  const correlationId = randomUUID();
  const begin = performance.now();
  const definition = await definitions.load(flow.flowId);
  if (!definition) throw new BenchRunError(`flow ${flow.flowId} is gone`);
  const { snapshot } = definition;
  const handle = await client.workflow.start(handWrittenChainWithExtras, {
    taskQueue: HAND_WRITTEN_TASK_QUEUE,
    workflowId: `bench-${randomUUID()}`,
    args: [
      {
        orchestratedFlowId: flow.flowId,
        orchestratedFlowName: flow.flowName,
        correlationId,
        input: RUN_INPUT,
        steps: flow.steps,
        snapshot,
      },
    ],
    ...runStartMetadata(flow.flowId, snapshot, { trigger: 'manual', correlationId }),
  });
  const startMs = performance.now() - begin;
  const summary = await handle.result();
  if (summary.status !== 'Completed')
    throw new BenchRunError(`run ${handle.workflowId} ended ${summary.status}`);
  return { side: 'withExtras', wallMs: performance.now() - begin, startMs, handle };
}
