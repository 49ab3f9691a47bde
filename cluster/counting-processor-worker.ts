/**
 * Worker entry point of the test processor: `node <build>/cluster/counting-processor-worker.js`, with the settings
 * of `workers/processor.ts` (DATABASE_URL, TEMPORAL_ADDRESS, PAYLOAD_KEYS, METRICS_PORT, …). Tracing starts first.
 */
import '../infra/instrument';
import { ImplementationHashMismatchError } from '../workers/processor-registration';
import { runProcessorProcess } from '../workers/processor-process';
import { countingProcessor } from './counting-processor';

runProcessorProcess(() => countingProcessor).catch((error: unknown) => {
  console.error(error instanceof ImplementationHashMismatchError ? error.message : error);
  process.exit(1);
});
