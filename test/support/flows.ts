/**
 * Flows over REST, for any API (in this process or another): create a flow of steps, start it, wait for its run.
 * Nothing here touches Temporal directly (importing it installs no Temporal runtime).
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StartedRun } from '../../api/orchestration/service';
import type { RunSummary, StepState } from '../../domain/flow-types';
import type { ApiClient } from './api';
import { create, unique } from './fixtures';

export type { StartedRun };

export interface StepSpec {
  processor: string;
  next?: string[];
  entryCondition?: string;
  configuration?: Record<string, unknown>;
  retryPolicy?: Record<string, unknown>;
  timeouts?: Record<string, unknown>;
  forEach?: Record<string, unknown>;
  /** The compensation's processor by name (like `processor`), and its configuration. */
  compensation?: { processor: string; configuration?: Record<string, unknown> };
}

export interface CreatedFlow {
  flowId: string;
  workflowId: string;
  stepIds: Record<string, string>;
}

/**
 * Creates steps (named by their keys), a workflow of them (in the given order) and an orchestrated flow, through
 * the REST API. Steps are created in an order where every next step exists first.
 */
export async function createFlow(
  api: ApiClient,
  steps: Record<string, StepSpec>,
  flowFields: Record<string, unknown> = {},
): Promise<CreatedFlow> {
  const processorIds = new Map<string, string>();
  for (const name of Object.values(steps).flatMap((s) =>
    [s.processor, s.compensation?.processor ?? []].flat(),
  ))
    if (!processorIds.has(name)) {
      const found = await api.request('GET', `/api/Processor/composite/1.0.0/${name}`);
      assert.equal(found.status, 200, `processor ${name}: ${JSON.stringify(found.body)}`);
      processorIds.set(name, found.body.id);
    }
  const stepIds: Record<string, string> = {};
  const version = `1.0-${unique()}`;
  const pending = new Set(Object.keys(steps));
  while (pending.size > 0) {
    const ready = [...pending].filter((key) => (steps[key]!.next ?? []).every((n) => stepIds[n]));
    assert.ok(ready.length > 0, 'createFlow needs an acyclic step spec');
    for (const key of ready) {
      const spec = steps[key]!;
      // Step names repeat across flows (tests read statuses by name); the version keeps composite keys unique.
      const created = await create(api, 'Step', {
        version,
        name: key,
        processorId: processorIds.get(spec.processor),
        nextStepIds: (spec.next ?? []).map((n) => stepIds[n]),
        ...(spec.entryCondition ? { entryCondition: spec.entryCondition } : {}),
        ...(spec.configuration ? { configuration: spec.configuration } : {}),
        ...(spec.retryPolicy ? { retryPolicy: spec.retryPolicy } : {}),
        ...(spec.timeouts ? { timeouts: spec.timeouts } : {}),
        ...(spec.forEach ? { forEach: spec.forEach } : {}),
        ...(spec.compensation
          ? {
              compensation: {
                processorId: processorIds.get(spec.compensation.processor),
                ...(spec.compensation.configuration
                  ? { configuration: spec.compensation.configuration }
                  : {}),
              },
            }
          : {}),
      });
      stepIds[key] = created.id;
      pending.delete(key);
    }
  }
  const workflow = await create(api, 'Workflow', {
    version: '1.0',
    name: `workflow-${unique()}`,
    stepIds: Object.keys(steps).map((key) => stepIds[key]),
  });
  const flow = await create(api, 'OrchestratedFlow', {
    version: '1.0',
    name: `flow-${unique()}`,
    workflowId: workflow.id,
    ...flowFields,
  });
  return { flowId: flow.id, workflowId: workflow.id, stepIds };
}

/** Polls the status route until the latest run is no longer Running or Paused, and its compensations are done. */
export async function waitForRun(api: ApiClient, flowId: string, timeoutMs = 60_000): Promise<RunSummary> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await api.request<RunSummary>('GET', `/api/Orchestration/status/${flowId}`);
    const open =
      ['Running', 'Paused'].includes(status.body?.status) || status.body?.compensation?.status === 'Running';
    if (status.status === 200 && !open) return status.body;
    if (Date.now() > deadline)
      assert.fail(`run of ${flowId} still ${JSON.stringify(status.body)} after ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** The 202 body of a start. */

/** Starts a run through REST, asserting 202, and returns the response body. */
export async function startRun(
  api: ApiClient,
  flowId: string,
  input?: unknown,
  headers: Record<string, string> = {},
): Promise<StartedRun> {
  const started = await api.request<StartedRun>(
    'POST',
    `/api/Orchestration/start/${flowId}`,
    input === undefined ? {} : { input },
    headers,
  );
  assert.equal(started.status, 202, JSON.stringify(started.body));
  return started.body;
}

/** Polls `probe` every 100 ms until it returns something other than undefined; fails after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

/** The step of a summary with this name (asserting there is one). */
export function stepNamed(summary: RunSummary, name: string): StepState {
  const step = summary.steps.find((s) => s.name === name);
  assert.ok(step, `no step ${name} in ${JSON.stringify(summary.steps.map((s) => s.name))}`);
  return step;
}

/** Starts a run through REST (asserting 202) and waits for it to close. */
export async function runFlow(api: ApiClient, flowId: string, input?: unknown): Promise<RunSummary> {
  const started = await api.request(
    'POST',
    `/api/Orchestration/start/${flowId}`,
    input === undefined ? {} : { input },
  );
  assert.equal(started.status, 202, JSON.stringify(started.body));
  const summary = await waitForRun(api, flowId);
  assert.equal(summary.runId, started.body.runId);
  return summary;
}

/** Steps of a summary by name: `{ name: status }`. */
export function statusesByName(summary: RunSummary): Record<string, string> {
  return Object.fromEntries(summary.steps.map((s) => [s.name, s.status]));
}
