import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadTelemetryConfig } from './config';
import { checkReadiness } from './health';
import { serviceNameForEntry } from './service-name';
import { startTelemetry, telemetry, traceExporterKinds } from './telemetry';

const kinds = (env: NodeJS.ProcessEnv) => traceExporterKinds(loadTelemetryConfig(env));

describe('trace exporters from the OTEL_* environment', () => {
  it('are off without an endpoint or an exporter, so an unconfigured process exports (and prints) nothing', () => {
    assert.deepEqual(kinds({}), []);
    assert.deepEqual(kinds({ OTEL_SERVICE_NAME: 'x', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }), []);
    const started = startTelemetry(loadTelemetryConfig({}), { serviceName: 'flow-api' });
    assert.equal(started.enabled, false);
    assert.equal(telemetry(), started, 'nothing was started in this process');
  });

  it('turn OTLP on with an endpoint, in the protocol asked for (http/protobuf by default)', () => {
    const endpoint = 'http://collector:4318';
    assert.deepEqual(kinds({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint }), ['otlp-http/protobuf']);
    assert.deepEqual(kinds({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: endpoint }), ['otlp-http/protobuf']);
    assert.deepEqual(
      kinds({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }),
      ['otlp-http/json'],
    );
    assert.deepEqual(
      kinds({
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc',
      }),
      ['otlp-grpc'],
    );
  });

  it('follow OTEL_TRACES_EXPORTER, and OTEL_SDK_DISABLED and "none" win', () => {
    assert.deepEqual(kinds({ OTEL_TRACES_EXPORTER: 'console' }), ['console']);
    assert.deepEqual(kinds({ OTEL_TRACES_EXPORTER: 'otlp, console,otlp' }), [
      'otlp-http/protobuf',
      'console',
    ]);
    assert.deepEqual(
      kinds({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }),
      [],
    );
    assert.deepEqual(kinds({ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'console' }), []);
    assert.throws(() => kinds({ OTEL_TRACES_EXPORTER: 'zipkin' }), {
      message: 'OTEL_TRACES_EXPORTER: "zipkin" is not supported (use otlp, console or none)',
    });
  });

  it('refuse an unknown protocol or a malformed endpoint, naming the variable', () => {
    assert.throws(
      () =>
        loadTelemetryConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/xml', OTEL_EXPORTER_OTLP_ENDPOINT: 'nope' }),
      (error: unknown) =>
        error instanceof ConfigError &&
        /OTEL_EXPORTER_OTLP_ENDPOINT/.test(error.message) &&
        /OTEL_EXPORTER_OTLP_PROTOCOL/.test(error.message),
    );
  });
});

describe('default service names', () => {
  const single = (serviceName: string) => ({ serviceName, componentServiceNames: false });

  it('name each role, from sources and from dist/', () => {
    assert.deepEqual(serviceNameForEntry('/app/api/main.ts', []), single('flow-api'));
    assert.deepEqual(serviceNameForEntry('/app/dist/api/main.js', []), single('flow-api'));
    assert.deepEqual(
      serviceNameForEntry('/app/dist/workers/orchestrator.js', []),
      single('flow-orchestrator'),
    );
    assert.deepEqual(
      serviceNameForEntry('/app/workers/processor.ts', ['--reregister', 'http-request']),
      single('flow-processor-http-request'),
    );
    assert.deepEqual(
      serviceNameForEntry('/app/workers/processor.ts', [], 'delay'),
      single('flow-processor-delay'),
    );
    assert.deepEqual(
      serviceNameForEntry('/app/examples/uppercase-processor/worker.ts', []),
      single('flow-processor-uppercase'),
    );
    assert.deepEqual(serviceNameForEntry('/app/tools/report.ts', []), single('flow-tools'));
  });

  it('let npm run dev name each component it hosts after its role', () => {
    assert.deepEqual(serviceNameForEntry('/app/scripts/dev.ts', []), {
      serviceName: 'flow-api',
      componentServiceNames: true,
    });
  });
});

describe('readiness', () => {
  it('is Healthy only when every probe passes, and names why each failing one failed', async () => {
    const report = await checkReadiness(
      {
        fine: () => Promise.resolve(),
        broken: () => Promise.reject(new Error('first line\nconnection refused')),
        slow: () => new Promise((resolve) => setTimeout(resolve, 1_000)),
      },
      50,
    );
    assert.equal(report.status, 'Unhealthy');
    assert.deepEqual(Object.keys(report.checks), ['fine', 'broken', 'slow']);
    assert.equal(report.checks.fine!.status, 'Healthy');
    assert.deepEqual(
      [report.checks.broken!.status, report.checks.broken!.error],
      ['Unhealthy', 'connection refused'],
    );
    assert.deepEqual(
      [report.checks.slow!.status, report.checks.slow!.error],
      ['Unhealthy', 'no answer within 50 ms'],
    );
    const healthy = await checkReadiness({ fine: () => Promise.resolve() }, 50);
    assert.equal(healthy.status, 'Healthy');
  });
});
