/**
 * Entry point of a processor worker hosting one built-in processor type:
 *   tsx workers/processor.ts <transform|http-request|delay|file> [--reregister]
 * (or `node dist/workers/processor.js …`; the name may also come from PROCESSOR, re-registration from
 * PROCESSOR_REREGISTER=true). A custom processor has its own entry point calling `runProcessorProcess`.
 */
import '../infra/instrument';
import {
  BUILTIN_PROCESSOR_NAMES,
  BUILTIN_PROCESSORS,
  isBuiltinProcessorName,
} from '../activities/processors';
import { ImplementationHashMismatchError } from './processor-registration';
import { ProcessorUsageError, runProcessorProcess } from './processor-process';

async function main(): Promise<void> {
  await runProcessorProcess((config, { positional }) => {
    const name = positional ?? config.PROCESSOR;
    const usage = `usage: tsx workers/processor.ts <${BUILTIN_PROCESSOR_NAMES.join('|')}> [--reregister]`;
    if (!name) throw new ProcessorUsageError(`no processor named (argument or PROCESSOR)\n${usage}`);
    if (!isBuiltinProcessorName(name)) throw new ProcessorUsageError(`unknown processor "${name}"\n${usage}`);
    return BUILTIN_PROCESSORS[name]({ fileDataRoot: config.FILE_DATA_ROOT });
  });
}

main().catch((error: unknown) => {
  // Expected refusals get their message alone; anything else its stack.
  const expected = error instanceof ImplementationHashMismatchError || error instanceof ProcessorUsageError;
  console.error(expected ? `processor worker: ${error.message}` : error);
  process.exit(1);
});
