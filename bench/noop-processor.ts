/** The benchmark's processor: returns its input. Permissive schemas, so validation costs as little as it can. */
import { defineProcessor } from '../activities/sdk';
import { NOOP } from './constants';

export const noopProcessor = defineProcessor<unknown, unknown>({
  name: NOOP.name,
  version: NOOP.version,
  description: 'Benchmark processor: returns its input unchanged.',
  module: __filename,
  inputSchema: {},
  outputSchema: {},
  run: ({ input }) => input,
});
