/**
 * The worker of the example processor: `npx tsx examples/uppercase-processor/worker.ts [--reregister]`.
 * Same settings as `workers/processor.ts` (DATABASE_URL, TEMPORAL_ADDRESS, PROCESSOR_REREGISTER, LOG_LEVEL,
 * METRICS_PORT, OTEL_*). Tracing starts first, before anything loads `http`; its service is flow-processor-uppercase.
 */
import '../../infra/instrument';
import { ImplementationHashMismatchError } from '../../workers/processor-registration';
import { runProcessorProcess } from '../../workers/processor-process';
import { uppercaseProcessor } from './processor';

runProcessorProcess(() => uppercaseProcessor).catch((error: unknown) => {
  console.error(error instanceof ImplementationHashMismatchError ? error.message : error);
  process.exit(1);
});
