import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import { PostgresBlobRetention, type BlobRetention } from '../activities/data/blob-store';
import { createRetentionActivities } from '../activities/data/retention';
import {
  type InjectedSinks,
  type NativeConnection,
  Worker,
  type WorkflowBundleOption,
} from '@temporalio/worker';
import type { PayloadCodec } from '@temporalio/common';
import type { Logger } from 'pino';
import { dataConverter } from '../infra/payload-keys';
import { createForEachActivities } from '../activities/for-each';
import type { DataPlane } from '../activities/sdk';
import { createSegmentActivities } from '../activities/segments';
import { createOrchestratorActivities } from '../activities/snapshot';
import { ORCHESTRATOR_TASK_QUEUE } from '../domain/task-queue';
import type { WorkerMetrics } from '../infra/metrics';
import { ORCHESTRATOR_SERVICE_NAME } from '../infra/service-name';
import { telemetry } from '../infra/telemetry';
import type { PrismaClient } from '../prisma/client';
import type { FlowMetricsSinks } from '../workflows/interceptors';
import type { OpenTelemetrySinks } from '@temporalio/interceptors-opentelemetry/lib/workflow';

/**
 * The interpreter's workflow interceptor modules, which every worker, bundle and replay of `workflows/index` must
 * register: run metrics always; Temporal's OpenTelemetry interceptors when tracing is on (see
 * `workflows/interceptors.ts` for why not always).
 */
export function workflowInterceptorModules(tracing: boolean): string[] {
  return [
    ...(tracing ? [require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors')] : []),
    require.resolve('../workflows/interceptors'),
  ];
}

/** What the SDK's bundler compiles the workflow code to: ES2022, which the Node the worker runs on executes natively. */
const WORKFLOW_TARGET = 'es2022';

interface SwcRule {
  use?: { loader?: string; options?: { jsc?: { target?: string } } };
}

/**
 * The webpack configuration of the workflow bundle, with the TypeScript compiled for ES2022 instead of the SDK's
 * ES2017 default. At ES2017 every object spread and class field of the interpreter becomes a helper call
 * (`_object_spread`, `_define_property`): 0.2 s of the workflow thread's CPU over 400 saturation runs of
 * `npm run bench`, about 0.5 ms per 5-step run. Only the code's shape changes, never its commands: the recorded
 * histories replay under both (test/replay).
 */
export function workflowWebpackConfig<T extends { module?: { rules?: unknown[] } }>(config: T): T {
  for (const rule of (config.module?.rules ?? []) as SwcRule[]) {
    const jsc = rule.use?.loader?.includes('swc-loader') ? rule.use.options?.jsc : undefined;
    if (jsc) jsc.target = WORKFLOW_TARGET;
  }
  return config;
}

export interface OrchestratorWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  /** Decrypts run inputs and activity results, encrypts everything the interpreter sends (infra/payload-codec.ts). */
  codec: PayloadCodec;
  prisma: PrismaClient;
  logger: Logger;
  /** Default `flow-orchestrator`; tests use a unique queue. */
  taskQueue?: string;
  /**
   * A pre-built bundle (production; built with `workflowInterceptorModules` for the process's tracing, see
   * `workflowBundleFile`); default: bundle `workflows/index.ts` at startup.
   */
  workflowBundle?: WorkflowBundleOption;
  /** Where runs that finish are counted (`flow_runs_finished_total`). */
  metrics?: WorkerMetrics;
  /** The blob store's retention (BLOB_STORE); default Postgres. */
  retention?: BlobRetention;
  /**
   * The blob store: where for-each steps read referenced input and put large items, and where long runs keep their
   * definition and archives. Every process that runs flows passes it; unset (some tests), data travels inline only
   * and a run that must continue as new or load its definition in pages fails with `NoBlobStore`.
   */
  data?: DataPlane;
}

/**
 * The sinks the interpreter's interceptors call: workflow spans to the process's span processor (a no-op while
 * tracing is off), finished runs to the metrics. A replay worker registers them too (they are not called in replay).
 */
export function orchestratorSinks(
  metrics: WorkerMetrics | undefined,
): InjectedSinks<FlowMetricsSinks & OpenTelemetrySinks> {
  const traces = telemetry();
  return {
    exporter: makeWorkflowExporter(traces.spanProcessor, traces.resource(ORCHESTRATOR_SERVICE_NAME)),
    flowMetrics: {
      runFinished: { fn: (_info, status, trigger) => metrics?.runsFinished.inc({ status, trigger }) },
    },
  };
}

/**
 * Creates the orchestrator worker: the interpreter workflow and its own activities (the snapshot loader).
 * Run it with `worker.run()`; `worker.shutdown()` drains it.
 */
export async function createOrchestratorWorker(options: OrchestratorWorkerOptions): Promise<Worker> {
  const taskQueue = options.taskQueue ?? ORCHESTRATOR_TASK_QUEUE;
  const tracer = telemetry().tracer(ORCHESTRATOR_SERVICE_NAME);
  const worker = await Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue,
    dataConverter: dataConverter(options.codec),
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : {
          workflowsPath: require.resolve('../workflows/index'),
          bundlerOptions: { webpackConfigHook: workflowWebpackConfig },
        }),
    activities: {
      ...createOrchestratorActivities({ prisma: options.prisma }),
      ...createForEachActivities(options.data ? { data: options.data } : {}),
      ...createSegmentActivities({ prisma: options.prisma, ...(options.data ? { data: options.data } : {}) }),
      ...createRetentionActivities({
        retention: options.retention ?? new PostgresBlobRetention(options.prisma),
      }),
    },
    interceptors: {
      // A pre-built bundle already holds them (scripts/bundle-workflows.ts).
      ...(options.workflowBundle ? {} : { workflowModules: workflowInterceptorModules(telemetry().enabled) }),
      activity: [
        (ctx) => ({
          inbound: new OpenTelemetryActivityInboundInterceptor(ctx, { tracer }),
          outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
        }),
      ],
    },
    sinks: orchestratorSinks(options.metrics),
  });
  options.logger.info({ taskQueue }, 'orchestrator worker created');
  return worker;
}

/** The pre-built bundle `npm run build` writes for a process with tracing on or off (scripts/bundle-workflows.ts). */
export function workflowBundleFile(tracing: boolean): string {
  return tracing ? 'workflow-bundle.js' : 'workflow-bundle.untraced.js';
}
