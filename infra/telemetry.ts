/**
 * OpenTelemetry tracing for every process: `@opentelemetry/sdk-node` with HTTP instrumentation, configured by the
 * standard OTEL_* variables. With no exporter configured (no OTLP endpoint, no OTEL_TRACES_EXPORTER) nothing is
 * started: the OTel API stays a no-op, nothing is exported and nothing is printed.
 *
 * Started by `infra/instrument.ts`, the first import of every entry point, so the `http` module is hooked before
 * express loads it. Workers take their tracer and the workflow-span processor from `telemetry()`.
 */
import type { IncomingMessage } from 'node:http';
import { type Tracer, trace } from '@opentelemetry/api';
import { OTLPTraceExporter as OtlpGrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as OtlpHttpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpHttpProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import {
  detectResourcesSync,
  envDetectorSync,
  hostDetectorSync,
  processDetectorSync,
  Resource,
} from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  NoopSpanProcessor,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { TelemetryConfig } from './config';

export type TraceExporterKind = 'otlp-grpc' | 'otlp-http/protobuf' | 'otlp-http/json' | 'console';

/**
 * Which trace exporters the environment asks for; empty means tracing is off. OTEL_TRACES_EXPORTER wins; unset, an
 * OTLP endpoint turns OTLP on (OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL, default http/protobuf), and nothing else does.
 *
 * @throws Error naming an exporter this project does not ship.
 */
export function traceExporterKinds(config: TelemetryConfig): TraceExporterKind[] {
  if (config.OTEL_SDK_DISABLED) return [];
  const endpoint = config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? config.OTEL_EXPORTER_OTLP_ENDPOINT;
  const names = config.OTEL_TRACES_EXPORTER
    ? config.OTEL_TRACES_EXPORTER.split(',')
        .map((name) => name.trim())
        .filter(Boolean)
    : endpoint
      ? ['otlp']
      : [];
  if (names.includes('none')) return [];
  const protocol = config.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? config.OTEL_EXPORTER_OTLP_PROTOCOL;
  return [...new Set(names)].map((name): TraceExporterKind => {
    if (name === 'console') return 'console';
    if (name !== 'otlp')
      throw new Error(`OTEL_TRACES_EXPORTER: "${name}" is not supported (use otlp, console or none)`);
    return protocol === 'grpc'
      ? 'otlp-grpc'
      : protocol === 'http/json'
        ? 'otlp-http/json'
        : 'otlp-http/protobuf';
  });
}

function spanProcessorFor(kind: TraceExporterKind): SpanProcessor {
  const exporters: Record<TraceExporterKind, () => SpanExporter> = {
    'otlp-grpc': () => new OtlpGrpcExporter(),
    'otlp-http/protobuf': () => new OtlpHttpProtobufExporter(),
    'otlp-http/json': () => new OtlpHttpJsonExporter(),
    console: () => new ConsoleSpanExporter(),
  };
  const exporter = exporters[kind]();
  // Batching reads OTEL_BSP_* (delay, queue and batch sizes) itself.
  return kind === 'console' ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter);
}

/** Fans spans out to several processors (one per configured exporter). */
class FanOutSpanProcessor implements SpanProcessor {
  constructor(private readonly processors: SpanProcessor[]) {}
  onStart(...args: Parameters<SpanProcessor['onStart']>): void {
    for (const processor of this.processors) processor.onStart(...args);
  }
  onEnd(...args: Parameters<SpanProcessor['onEnd']>): void {
    for (const processor of this.processors) processor.onEnd(...args);
  }
  async forceFlush(): Promise<void> {
    await Promise.all(this.processors.map((processor) => processor.forceFlush()));
  }
  async shutdown(): Promise<void> {
    await Promise.all(this.processors.map((processor) => processor.shutdown()));
  }
}

/** Operational endpoints are scraped every few seconds; their spans would drown the ones that matter. */
const UNTRACED_PATHS = /^\/(metrics|health)(\/|\?|$)/;

export interface TelemetryOptions {
  /** `service.name` unless OTEL_SERVICE_NAME says otherwise. */
  serviceName: string;
  /**
   * One process hosting several components (`npm run dev`): each component's spans get its own `service.name`
   * (`tracer(component)`), so traces read as they do in production, where each runs in its own process.
   */
  componentServiceNames?: boolean;
}

export interface Telemetry {
  readonly enabled: boolean;
  readonly exporters: TraceExporterKind[];
  /** The process's `service.name`. */
  readonly serviceName: string;
  /** A tracer for a component's spans (its own `service.name` when the process hosts several components). */
  tracer(component: string): Tracer;
  /** The resource a component's spans carry (workflow spans are exported with it). */
  resource(component: string): Resource;
  /** Where spans recorded elsewhere (inside the workflow sandbox) are handed for export. */
  readonly spanProcessor: SpanProcessor;
  /** Flushes what is buffered and stops exporting. */
  shutdown(): Promise<void>;
}

const disabled: Telemetry = {
  enabled: false,
  exporters: [],
  serviceName: 'unknown',
  tracer: (component) => trace.getTracer(component),
  resource: (component) => new Resource({ 'service.name': component }),
  spanProcessor: new NoopSpanProcessor(),
  shutdown: () => Promise.resolve(),
};

let current: Telemetry = disabled;

/** The process's telemetry: what `startTelemetry` started, or a disabled one that records nothing. */
export function telemetry(): Telemetry {
  return current;
}

/**
 * Starts tracing for this process when the environment configures an exporter (see `traceExporterKinds`);
 * otherwise returns a disabled `Telemetry` and touches nothing. Call once, before anything loads `http`.
 */
export function startTelemetry(config: TelemetryConfig, options: TelemetryOptions): Telemetry {
  const kinds = traceExporterKinds(config);
  if (kinds.length === 0) return current;
  const serviceName = config.OTEL_SERVICE_NAME ?? options.serviceName;
  // OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME (env detector), then process and host facts.
  const detected = detectResourcesSync({
    detectors: [envDetectorSync, processDetectorSync, hostDetectorSync],
  });
  const resource = detected.merge(new Resource({ 'service.name': serviceName }));
  const processors = kinds.map(spanProcessorFor);
  const spanProcessor = processors.length === 1 ? processors[0]! : new FanOutSpanProcessor(processors);
  const sdk = new NodeSDK({
    resource,
    autoDetectResources: false,
    spanProcessors: [spanProcessor],
    // Logs stay pino lines on stdout; no OTel log pipeline.
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request: IncomingMessage) => UNTRACED_PATHS.test(request.url ?? ''),
      }),
    ],
  });
  sdk.start();

  const components = new Map<string, { provider: BasicTracerProvider; resource: Resource }>();
  const component = (name: string) => {
    let found = components.get(name);
    if (!found) {
      const componentResource = detected.merge(new Resource({ 'service.name': name }));
      // Shares the exporter; sampling comes from OTEL_TRACES_SAMPLER as for the global provider.
      const provider = new BasicTracerProvider({ resource: componentResource });
      provider.addSpanProcessor(spanProcessor);
      found = { provider, resource: componentResource };
      components.set(name, found);
    }
    return found;
  };
  const split = options.componentServiceNames === true;
  current = {
    enabled: true,
    exporters: kinds,
    serviceName,
    tracer: (name) =>
      split && name !== serviceName ? component(name).provider.getTracer(name) : trace.getTracer(name),
    resource: (name) => (split && name !== serviceName ? component(name).resource : resource),
    spanProcessor,
    // The SDK's shutdown flushes and shuts the shared processor down; component providers only borrow it.
    shutdown: () => sdk.shutdown(),
  };
  return current;
}
