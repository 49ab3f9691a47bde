/**
 * Observability as an operator meets it: the API, the orchestrator and a processor as separate processes (as in
 * production), exporting traces over OTLP/HTTP JSON to a receiver in this test. One request is followed by its
 * correlation ID and its trace through the workflow to every step; metrics and readiness are read over HTTP.
 * The processes run in a Temporal namespace of their own: they use the default task queues.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunSummary } from '../../domain/flow-types';
import { loadTestConfig } from '../../infra/config';
import { findFreePort } from '../../infra/ports';
import {
  bootstrapAdminSecret,
  type ApiClient,
  clientWithRole,
  createTestDatabase,
  type TestDatabase,
} from '../support/api';
import { createFlow, eventually, waitForRun } from '../support/flows';
import { unique } from '../support/fixtures';
import { sample } from '../support/prometheus';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver';
import { spawnTsx, type Spawned } from '../support/processes';
import { workerProcessEnv } from '../support/worker-env';
import { createScheduledFlow } from '../schedules/helpers';

const START_ROUTE = '/api/Orchestration/start/:orchestratedFlowId';

async function text(url: string): Promise<string> {
  const response = await fetch(url);
  assert.equal(response.status, 200, url);
  return response.text();
}

/** The API's metrics, read with the client's credential (`/metrics` is not public by default). */
async function apiMetrics(client: ApiClient): Promise<string> {
  const response = await client.request<string>('GET', '/metrics');
  assert.equal(response.status, 200, `/metrics: ${String(response.body)}`);
  return response.body;
}

/** JSON log lines of a process's stdout. */
function logLines(process: Spawned): Array<Record<string, unknown>> {
  return process
    .output()
    .stdout.split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('observability across processes', () => {
  const env = loadTestConfig();
  let receiver: OtlpReceiver;
  let database: TestDatabase;
  let api: ApiClient;
  let apiProcess: Spawned;
  let orchestrator: Spawned;
  let processor: Spawned;
  let orchestratorOps = '';
  let processorOps = '';

  before(async () => {
    receiver = await startOtlpReceiver();
    database = await createTestDatabase();
    const [apiPort, orchestratorPort, processorPort] = await Promise.all([
      findFreePort(),
      findFreePort(),
      findFreePort(),
    ]);
    const processEnv = (extra: NodeJS.ProcessEnv) =>
      workerProcessEnv(database.url, 'info', {
        TEMPORAL_NAMESPACE: env.FLOW_TEST_ISOLATED_NAMESPACE,
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_BSP_SCHEDULE_DELAY: '100',
        ...extra,
      });
    const adminKey = bootstrapAdminSecret();
    apiProcess = spawnTsx(
      'api/main.ts',
      [],
      processEnv({ PORT: String(apiPort), HOST: '127.0.0.1', FLOW_ADMIN_API_KEY: adminKey }),
    );
    orchestrator = spawnTsx(
      'workers/orchestrator.ts',
      [],
      processEnv({ METRICS_PORT: String(orchestratorPort) }),
    );
    processor = spawnTsx(
      'workers/processor.ts',
      ['transform'],
      processEnv({ METRICS_PORT: String(processorPort) }),
    );

    orchestratorOps = `http://127.0.0.1:${orchestratorPort}`;
    processorOps = `http://127.0.0.1:${processorPort}`;
    await Promise.all([
      apiProcess.waitFor('API listening', 90_000),
      orchestrator.waitFor('metrics and health listening', 90_000),
      processor.waitFor('metrics and health listening', 90_000),
    ]);
    api = await clientWithRole(`http://127.0.0.1:${apiPort}`, adminKey, 'editor');
  });

  after(async () => {
    const codes = await Promise.all([apiProcess, orchestrator, processor].map((p) => p?.stop()));
    await database?.drop();
    await receiver?.close();
    assert.deepEqual(codes, [0, 0, 0], 'every process stops cleanly on SIGTERM');
  });

  it('each worker answers liveness and readiness on its operations port', async () => {
    for (const [ops, checks] of [
      [orchestratorOps, ['worker', 'temporal', 'postgres']],
      [processorOps, ['worker', 'temporal']],
    ] as const) {
      const live = await fetch(`${ops}/health`);
      assert.deepEqual([live.status, await live.json()], [200, { status: 'Healthy' }]);
      const ready = await fetch(`${ops}/health/ready`);
      const report = (await ready.json()) as { status: string; checks: Record<string, { status: string }> };
      assert.equal(ready.status, 200, JSON.stringify(report));
      assert.equal(report.status, 'Healthy');
      assert.deepEqual(Object.keys(report.checks), checks);
      for (const check of Object.values(report.checks)) assert.equal(check.status, 'Healthy');
      const unknown = await fetch(`${ops}/nope`);
      assert.deepEqual(
        [unknown.status, await unknown.json()],
        [404, { error: 'NotFound', message: 'no route /nope; try /metrics, /health or /health/ready' }],
      );
    }
    const ready = await api.request('GET', '/health/ready');
    assert.equal(ready.status, 200, JSON.stringify(ready.body));
  });

  it('follows one correlation ID and one trace from POST start through the run to every step; metrics move', async () => {
    const before = {
      api: await apiMetrics(api),
      orchestrator: await text(`${orchestratorOps}/metrics`),
      processor: await text(`${processorOps}/metrics`),
    };
    const { flowId, stepIds } = await createFlow(api, {
      Double: { processor: 'transform', configuration: { expression: 'n * 2' }, next: ['Add'] },
      Add: { processor: 'transform', configuration: { expression: '$ + 1' } },
    });
    const correlationId = `follow-me-${unique()}`;
    const started = await api.request(
      'POST',
      `/api/Orchestration/start/${flowId}`,
      { input: { n: 20 } },
      {
        'X-Correlation-ID': correlationId,
      },
    );
    assert.equal(started.status, 202, JSON.stringify(started.body));
    assert.equal(started.headers.get('x-correlation-id'), correlationId);
    assert.equal(started.body.correlationId, correlationId);
    const summary: RunSummary = await waitForRun(api, flowId);
    assert.equal(summary.status, 'Completed', JSON.stringify(summary));
    assert.equal(summary.correlationId, correlationId);
    assert.deepEqual(
      summary.steps.map((s) => [s.name, s.status, s.output]),
      [
        ['Double', 'Succeeded', 40],
        ['Add', 'Succeeded', 41],
      ],
    );

    // Traces: the request's span is the root of one trace holding the start, the run and every step's attempt.
    const trace = await eventually('the run trace', () => {
      const request = receiver.spans.find(
        (s) => s.kind === 2 && s.attributes['flow.correlation_id'] === correlationId,
      );
      if (!request) return undefined;
      const spans = receiver.spans.filter((s) => s.traceId === request.traceId);
      // Each process exports on its own schedule: wait until every span of the run has arrived.
      const count = (name: string) => spans.filter((s) => s.name === name).length;
      const complete =
        count('RunWorkflow:flowInterpreter') === 1 &&
        count('StartActivity:transform') === 2 &&
        count('RunActivity:transform') === 2;
      return complete ? { request, spans } : undefined;
    });
    const { request, spans } = trace;
    assert.equal(request.name, `POST ${START_ROUTE}`);
    assert.equal(request.service, 'flow-api');
    assert.equal(request.parentSpanId, undefined, 'the request starts the trace');
    const named = (name: string) => spans.filter((s) => s.name === name);
    const [startWorkflow] = named('StartWorkflow:flowInterpreter');
    const [runWorkflow] = named('RunWorkflow:flowInterpreter');
    assert.ok(startWorkflow && runWorkflow, spans.map((s) => s.name).join(', '));
    assert.equal(startWorkflow.service, 'flow-api');
    assert.equal(runWorkflow.service, 'flow-orchestrator');
    assert.equal(runWorkflow.attributes.runId, summary.runId);
    const startActivities = named('StartActivity:transform');
    const runActivities = named('RunActivity:transform');
    assert.equal(startActivities.length, 2);
    assert.deepEqual(
      runActivities
        .map((s) => [s.service, s.attributes['flow.step_id'], s.attributes['flow.correlation_id']])
        .sort(),
      [stepIds.Double, stepIds.Add].map((id) => ['flow-processor-transform', id, correlationId]).sort(),
    );
    // Every span hangs off another span of the same trace, up to the request.
    const ids = new Set(spans.map((s) => s.spanId));
    for (const span of spans.filter((s) => s !== request))
      assert.ok(span.parentSpanId && ids.has(span.parentSpanId), `${span.name} is detached`);
    const parentOf = (span: ReceivedSpan) => spans.find((s) => s.spanId === span.parentSpanId);
    for (const attempt of runActivities) assert.equal(parentOf(attempt)?.name, 'StartActivity:transform');
    assert.deepEqual(receiver.rejected, []);

    // Logs: the same ID in the API's request line, the run's workflow log lines and each step's processor lines.
    const apiLines = logLines(apiProcess).filter((l) => l.correlationId === correlationId);
    assert.ok(
      apiLines.some((l) => l.msg === 'request' && l.route === START_ROUTE && l.status === 202),
      JSON.stringify(apiLines),
    );
    // The workflow's lines reach the log through the Temporal runtime, which batches them.
    const runLines = await eventually('the run log lines', () => {
      const lines = logLines(orchestrator).filter((l) => l.correlationId === correlationId);
      return lines.some((l) => l.msg === 'run finished') ? lines : undefined;
    });
    assert.deepEqual(
      runLines.map((l) => [l.msg, l.runId, l.orchestratedFlowId]),
      [
        ['run started', summary.runId, flowId],
        ['step succeeded', summary.runId, flowId],
        ['step succeeded', summary.runId, flowId],
        ['run finished', summary.runId, flowId],
      ],
    );
    const stepLines = logLines(processor).filter(
      (l) => l.correlationId === correlationId && l.msg === 'processor completed',
    );
    assert.deepEqual(
      stepLines.map((l) => [l.runId, l.orchestratedFlowId, l.stepId]).sort(),
      [stepIds.Double, stepIds.Add].map((id) => [summary.runId, flowId, id]).sort(),
    );
    // Info lines carry no payloads: neither the input nor any output appears.
    for (const line of [...runLines, ...stepLines])
      assert.doesNotMatch(JSON.stringify(line), /"n":20|\b41\b/);

    // Metrics moved by exactly this run.
    const after = {
      api: await apiMetrics(api),
      orchestrator: await text(`${orchestratorOps}/metrics`),
      processor: await text(`${processorOps}/metrics`),
    };
    const moved = (name: keyof typeof after, metric: string, labels: Record<string, string>) =>
      (sample(after[name], metric, labels) ?? 0) - (sample(before[name], metric, labels) ?? 0);
    assert.equal(moved('api', 'flow_runs_started_total', { trigger: 'manual' }), 1);
    assert.equal(
      moved('api', 'http_request_duration_seconds_count', {
        method: 'POST',
        route: START_ROUTE,
        status: '202',
      }),
      1,
    );
    assert.equal(sample(after.api, 'db_pool_max_connections'), 10);
    assert.ok((sample(after.api, 'db_pool_connections', { state: 'idle' }) ?? -1) >= 0, after.api);
    assert.equal(
      moved('orchestrator', 'flow_runs_finished_total', { status: 'Completed', trigger: 'manual' }),
      1,
    );
    assert.equal(
      moved('processor', 'flow_step_attempts_total', { processor: 'transform', status: 'completed' }),
      2,
    );
    assert.equal(
      moved('processor', 'flow_step_duration_seconds_count', { processor: 'transform', status: 'completed' }),
      2,
    );
    // The Temporal SDK's own worker metrics, on the same port.
    assert.ok(
      (sample(after.orchestrator, 'temporal_worker_task_slots_available', {
        worker_type: 'WorkflowWorker',
      }) ?? 0) > 0,
      after.orchestrator,
    );
    assert.ok(
      (sample(after.processor, 'temporal_worker_task_slots_available', { worker_type: 'ActivityWorker' }) ??
        0) > 0,
      after.processor,
    );
  });

  it('a scheduled run starts a trace of its own, with its own correlation ID', async () => {
    const { workflowId } = await createFlow(api, {
      Only: { processor: 'transform', configuration: { expression: '42' } },
    });
    const flow = await createScheduledFlow(api, workflowId, {
      cronExpression: '0 0 1 1 *',
      isScheduleEnabled: true,
    });
    const triggered = await api.request(
      'POST',
      `/api/OrchestratedFlow/${flow.id}/schedule/trigger`,
      undefined,
      {
        'X-Correlation-ID': `trigger-${unique()}`,
      },
    );
    assert.equal(triggered.status, 202, JSON.stringify(triggered.body));
    const summary = await eventually('the scheduled run', async () => {
      const run = await waitForRun(api, flow.id).catch(() => undefined);
      return run?.status === 'Completed' ? run : undefined;
    });
    assert.equal(summary.trigger, 'schedule');
    assert.equal(summary.correlationId, summary.runId);

    const runSpan = await eventually('the scheduled run span', () =>
      receiver.spans.find(
        (s) => s.name === 'RunWorkflow:flowInterpreter' && s.attributes.runId === summary.runId,
      ),
    );
    assert.equal(runSpan.parentSpanId, undefined, 'a scheduled run is the root of its trace');
    const triggerSpan = await eventually('the trigger request span', () =>
      receiver.spans.find(
        (s) => s.kind === 2 && s.name === 'POST /api/OrchestratedFlow/:id/schedule/trigger',
      ),
    );
    assert.notEqual(triggerSpan.traceId, runSpan.traceId);
    const attempt = await eventually('the scheduled step span', () =>
      receiver.spans.find((s) => s.traceId === runSpan.traceId && s.name === 'RunActivity:transform'),
    );
    assert.equal(attempt.attributes['flow.correlation_id'], summary.correlationId);
  });
});
