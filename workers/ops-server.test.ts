import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { WorkerMetrics } from '../infra/metrics';
import { type OpsServer, startOpsServer } from './ops-server';

describe('worker operations server', () => {
  const metrics = new WorkerMetrics();
  let healthy = true;
  let ops: OpsServer;
  let sdk: ReturnType<typeof createServer>;

  before(async () => {
    // Stands in for the Temporal runtime's Prometheus exporter: plain Prometheus text over HTTP.
    sdk = createServer((_req, res) => {
      res
        .writeHead(200, { 'content-type': 'text/plain' })
        .end('# TYPE temporal_num_pollers gauge\ntemporal_num_pollers 3\n');
    });
    await new Promise<void>((resolve) => sdk.listen(0, '127.0.0.1', resolve));
    ops = await startOpsServer({
      port: 0,
      host: '127.0.0.1',
      metrics,
      sdkMetricsUrl: `http://127.0.0.1:${(sdk.address() as AddressInfo).port}/metrics`,
      logger: pino({ level: 'silent' }),
      probes: {
        worker: () => (healthy ? Promise.resolve() : Promise.reject(new Error('worker is DRAINING'))),
        temporal: () => Promise.resolve(),
      },
      // Generous: on a loaded machine a 200 ms budget for the exporter's answer was seen to lapse.
      timeoutMs: 5_000,
    });
  });

  after(async () => {
    await ops.close();
    await new Promise((resolve) => sdk.close(resolve));
  });

  it('serves our metrics followed by the SDK metrics', async () => {
    metrics.stepAttempt('transform', 'failed', 0.2);
    const response = await fetch(`${ops.url}/metrics`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await response.text();
    assert.match(text, /^flow_step_attempts_total\{processor="transform",status="failed"\} 1$/m);
    assert.match(text, /^flow_step_duration_seconds_count\{processor="transform",status="failed"\} 1$/m);
    assert.match(text, /^temporal_num_pollers 3$/m);
    assert.ok(text.indexOf('flow_step_attempts_total') < text.indexOf('temporal_num_pollers'));
  });

  it('answers readiness 200, then 503 naming the failing probe, while liveness stays 200', async () => {
    const ready = await fetch(`${ops.url}/health/ready`);
    assert.equal(ready.status, 200);
    const report = (await ready.json()) as { status: string; checks: Record<string, { status: string }> };
    assert.deepEqual(
      [report.status, report.checks.worker?.status, report.checks.temporal?.status],
      ['Healthy', 'Healthy', 'Healthy'],
    );
    healthy = false;
    try {
      const draining = await fetch(`${ops.url}/health/ready`);
      assert.equal(draining.status, 503);
      const body = (await draining.json()) as {
        status: string;
        checks: Record<string, Record<string, unknown>>;
      };
      assert.equal(body.status, 'Unhealthy');
      assert.equal(body.checks.worker?.status, 'Unhealthy');
      assert.equal(body.checks.worker?.error, 'worker is DRAINING');
      assert.equal(body.checks.temporal?.status, 'Healthy');
      const live = await fetch(`${ops.url}/health`);
      assert.deepEqual([live.status, await live.json()], [200, { status: 'Healthy' }]);
    } finally {
      healthy = true;
    }
  });

  it('refuses other methods and paths with a JSON body saying what is served', async () => {
    const post = await fetch(`${ops.url}/metrics`, { method: 'POST' });
    assert.deepEqual(
      [post.status, await post.json()],
      [405, { error: 'MethodNotAllowed', message: 'only GET is served' }],
    );
    const unknown = await fetch(`${ops.url}/metrics/extra`);
    assert.deepEqual(
      [unknown.status, await unknown.json()],
      [
        404,
        { error: 'NotFound', message: 'no route /metrics/extra; try /metrics, /health or /health/ready' },
      ],
    );
  });

  it('still serves its own metrics when the SDK exporter does not answer', async () => {
    const lonely = await startOpsServer({
      port: 0,
      host: '127.0.0.1',
      metrics,
      sdkMetricsUrl: 'http://127.0.0.1:9/metrics',
      logger: pino({ level: 'silent' }),
      probes: {},
      timeoutMs: 200,
    });
    try {
      const response = await fetch(`${lonely.url}/metrics`);
      assert.equal(response.status, 200);
      const text = await response.text();
      assert.match(text, /^flow_step_attempts_total\{processor="transform",status="failed"\} 1$/m);
      assert.doesNotMatch(text, /temporal_/);
    } finally {
      await lonely.close();
    }
  });
});
