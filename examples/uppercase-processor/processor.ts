/**
 * A custom processor: upper-cases the string fields of its input. Everything the worker hashes is in this file
 * (`module: __filename`), so an edit here needs a new version or a re-registration.
 */
import { defineProcessor, NonRetryableError } from '../../activities/sdk';

export interface UppercaseInput {
  [field: string]: unknown;
}

export interface UppercaseConfiguration {
  /** Only these fields (default: every string field). */
  fields?: string[];
}

export const uppercaseProcessor = defineProcessor<UppercaseInput, UppercaseInput, UppercaseConfiguration>({
  name: 'uppercase',
  version: '1.0.0',
  description: 'Upper-cases the string fields of an object (configuration.fields: only these).',
  module: __filename,
  inputSchema: { type: 'object' },
  outputSchema: { type: 'object' },
  configurationSchema: {
    type: 'object',
    properties: { fields: { type: 'array', items: { type: 'string' }, uniqueItems: true } },
    additionalProperties: false,
  },
  defaults: { retryPolicy: { maximumAttempts: 3 }, timeouts: { startToCloseMs: 10_000 } },
  run({ input, configuration, log }) {
    const fields =
      configuration.fields ?? Object.keys(input).filter((field) => typeof input[field] === 'string');
    const output: UppercaseInput = { ...input };
    for (const field of fields) {
      const value = input[field];
      if (value === undefined) continue;
      if (typeof value !== 'string')
        throw new NonRetryableError(`field "${field}" is not a string`, {
          type: 'NotAString',
          details: { field },
        });
      output[field] = value.toUpperCase();
    }
    log.debug({ fields: fields.length }, 'upper-cased');
    return output;
  },
});
