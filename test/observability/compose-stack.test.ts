import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { PROJECT_ROOT } from '../../infra/config';

/**
 * The metrics the application exports (the telemetry contract). Prometheus exposes a histogram `h` as `h_bucket`,
 * `h_sum` and `h_count`.
 */
export const KNOWN_METRICS = {
  counter: [
    'flow_runs_started_total',
    'flow_runs_finished_total',
    'flow_step_attempts_total',
    'process_cpu_seconds_total',
  ],
  gauge: [
    'db_pool_connections',
    'db_pool_waiting_requests',
    'db_pool_max_connections',
    'nodejs_eventloop_lag_seconds',
    'process_resident_memory_bytes',
    'temporal_worker_task_slots_available',
    'temporal_worker_task_slots_used',
    'temporal_num_pollers',
  ],
  histogram: [
    'http_request_duration_seconds',
    'flow_step_duration_seconds',
    'temporal_request_latency',
    'temporal_workflow_task_execution_latency',
    'temporal_activity_execution_latency',
  ],
} as const;

const WORKER_SERVICES = ['orchestrator', 'transform', 'http-request', 'delay', 'file'];

const read = (file: string) => readFileSync(path.join(PROJECT_ROOT, file), 'utf8');

const PROMQL_KEYWORDS = ['and', 'or', 'unless', 'bool', 'offset', 'group_left', 'group_right', 'inf', 'nan'];

/** The series names a PromQL expression selects (function names, label names, durations and strings left out). */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  const words = stripped.match(/(?<![\w.:])[a-zA-Z_:][\w:]*(?![\w:]|\s*\()/g) ?? [];
  return words.filter((word) => !PROMQL_KEYWORDS.includes(word));
}

/** The contract metric a series belongs to, or undefined when it is not one. */
function knownMetric(series: string): string | undefined {
  const all: readonly string[] = Object.values(KNOWN_METRICS).flat();
  if (all.includes(series)) return series;
  const histogram = series.replace(/_(?:bucket|sum|count)$/, '');
  return (KNOWN_METRICS.histogram as readonly string[]).includes(histogram) ? histogram : undefined;
}

/**
 * The keys at `indent` spaces in a block of YAML text, each with its value: the rest of its line and the lines under
 * it. Enough for the block style our compose file uses; not a YAML parser.
 */
function yamlChildren(text: string, indent: number): Map<string, string> {
  const children = new Map<string, string>();
  const keyLine = new RegExp(`^ {${indent}}([\\w.-]+):(.*)$`);
  let current: string | undefined;
  for (const line of text.split('\n')) {
    const match = keyLine.exec(line);
    if (match) children.set((current = match[1]!), match[2]!.trim());
    else if (current && line.trim() && !line.trim().startsWith('#'))
      children.set(current, `${children.get(current)}\n${line}`);
  }
  return children;
}

function composeServices() {
  const top = yamlChildren(read('docker-compose.yml'), 0);
  const services = yamlChildren(top.get('services') ?? '', 2);
  /** A value, with a `*alias` replaced by the anchored value (`key: &alias` at the top level). */
  const resolve = (value: string) => {
    const alias = /^\*([\w-]+)$/.exec(value.trim())?.[1];
    if (!alias) return value;
    const anchored = [...top.values()].find((body) => body.split('\n')[0] === `&${alias}`);
    assert.ok(anchored, `anchor &${alias} is defined at the top level`);
    return anchored;
  };
  return { services, resolve };
}

describe('observability stack', () => {
  it('finds the series names in PromQL', () => {
    const expr =
      'histogram_quantile(0.95, sum by (le, route) (rate(http_request_duration_seconds_bucket{job="api"}[5m]))) / on (job) group_left up';
    assert.deepEqual(metricNames(expr), ['http_request_duration_seconds_bucket', 'up']);
    assert.equal(knownMetric('http_request_duration_seconds_bucket'), 'http_request_duration_seconds');
    assert.equal(knownMetric('flow_runs_finished_total_bucket'), undefined);
  });

  it('the dashboard queries only contract metrics, on a provisioned datasource, and covers the key ones', () => {
    const dashboard = JSON.parse(read('observability/grafana/dashboards/flow-orchestrator.json'));
    assert.equal(dashboard.uid, 'flow-orchestrator');
    assert.equal(dashboard.title, 'FlowOrchestrator');
    const panels: any[] = dashboard.panels;
    assert.ok(panels.length > 0);
    assert.equal(new Set(panels.map((panel) => panel.id)).size, panels.length, 'panel ids are unique');

    const used = new Set<string>();
    const datasourceUids = new Set<string>();
    for (const panel of panels) {
      assert.ok(panel.targets?.length > 0, `panel "${panel.title}" has targets`);
      datasourceUids.add(panel.datasource?.uid);
      for (const target of panel.targets) {
        assert.ok(target.expr?.trim(), `panel "${panel.title}" target ${target.refId} has an expr`);
        datasourceUids.add(target.datasource?.uid ?? panel.datasource?.uid);
        for (const series of metricNames(target.expr)) {
          const metric = knownMetric(series);
          assert.ok(metric, `panel "${panel.title}" queries "${series}", which is not a known metric`);
          used.add(metric);
        }
      }
    }
    const keyMetrics = [
      'flow_runs_finished_total',
      'flow_runs_started_total',
      'flow_step_duration_seconds',
      'flow_step_attempts_total',
      'http_request_duration_seconds',
      'temporal_worker_task_slots_used',
      'temporal_worker_task_slots_available',
      'db_pool_connections',
      'db_pool_waiting_requests',
    ];
    assert.deepEqual(
      keyMetrics.filter((metric) => !used.has(metric)),
      [],
      'key metrics without a panel',
    );

    const provisioned = read('observability/grafana/provisioning/datasources/datasources.yaml');
    const uids = [...provisioned.matchAll(/^\s*uid:\s*(\S+)\s*$/gm)].map((match) => match[1]);
    assert.deepEqual([...datasourceUids], ['prometheus']);
    assert.ok(uids.includes('prometheus') && uids.includes('jaeger'), `provisioned uids: ${uids.join(', ')}`);
  });

  it('every worker service exposes METRICS_PORT, is health-checked on /health/ready and is scraped there', () => {
    const { services, resolve } = composeServices();
    const workers = [...services].filter(([, body]) => /dist\/workers\//.test(body)).map(([name]) => name);
    assert.deepEqual(workers, WORKER_SERVICES);

    const jobs = new Map(
      read('observability/prometheus.yml')
        .split(/^\s*- job_name:/m)
        .slice(1)
        .map((job) => [job.split('\n')[0]!.trim(), job] as const),
    );
    assert.deepEqual(
      [...jobs.keys()].sort(),
      ['api', ...WORKER_SERVICES].sort(),
      'one scrape job per service',
    );
    for (const job of jobs.values()) assert.match(job, /metrics_path: \/metrics\s/);

    for (const name of workers) {
      const service = yamlChildren(services.get(name)!, 4);
      const environment = service.get('environment') ?? '';
      assert.match(environment, /<<: \*app-env/, `${name} keeps the shared environment`);
      assert.match(environment, /OTEL_SERVICE_NAME: flow-/, `${name} names its traces`);
      const port = /METRICS_PORT: '(\d+)'/.exec(environment)?.[1];
      assert.ok(port, `${name} sets METRICS_PORT`);
      assert.match(
        resolve(service.get('healthcheck') ?? ''),
        new RegExp(`fetch\\('http://127\\.0\\.0\\.1:${port}/health/ready'\\)`),
        `${name} is health-checked on /health/ready`,
      );
      const job = jobs.get(name)!;
      assert.match(
        job,
        new RegExp(`dns_sd_configs:\\s+- names: \\[${name}\\]\\s+type: A\\s+port: ${port}\\s`),
        `${name}: every replica is scraped on port ${port}`,
      );
    }

    const api = yamlChildren(services.get('api')!, 4);
    assert.match(api.get('healthcheck') ?? '', /fetch\('http:\/\/127\.0\.0\.1:3000\/health\/ready'\)/);
    assert.match(api.get('environment') ?? '', /OTEL_SERVICE_NAME: flow-api/);
    assert.match(jobs.get('api')!, /targets: \['api:3000'\]/);
  });

  it('compose mounts observability files that exist and sends traces to a port the collector receives on', () => {
    const compose = read('docker-compose.yml');
    const mounts = [...compose.matchAll(/^\s*- \.\/(observability\/[^:]+):/gm)].map((match) => match[1]!);
    assert.ok(mounts.length >= 4, `observability mounts: ${mounts.join(', ')}`);
    for (const mount of mounts) assert.ok(existsSync(path.join(PROJECT_ROOT, mount)), `${mount} exists`);

    const endpoint = /OTEL_EXPORTER_OTLP_ENDPOINT: http:\/\/otel-collector:(\d+)/.exec(compose);
    assert.ok(endpoint, 'the apps export to the collector');
    assert.match(compose, /OTEL_EXPORTER_OTLP_PROTOCOL: http\/protobuf/);
    const collector = read('observability/otel-collector.yaml');
    assert.match(collector, new RegExp(`http:\\s+endpoint: 0\\.0\\.0\\.0:${endpoint[1]}\\s`));
    assert.match(collector, /traces:\s+receivers: \[otlp\][\s\S]*exporters: \[otlp\/jaeger\]/);
    assert.match(collector, /otlp\/jaeger:\s+endpoint: jaeger:4317\s+tls:\s+insecure: true/);
  });
});
