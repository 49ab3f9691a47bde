import jsonata from 'jsonata';
import { defineProcessor, NonRetryableError } from '../sdk';

export interface TransformConfiguration {
  /** A JSONata expression evaluated over the step input. */
  expression: string;
  /** Evaluation time limit (default 5 s); a runaway expression fails the step without retries. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 5_000;
const MAX_DEPTH = 500;
const CACHE_LIMIT = 200;
const compiled = new Map<string, jsonata.Expression>();

interface JsonataErrorLike {
  code?: unknown;
  message?: unknown;
  position?: unknown;
  token?: unknown;
}

function transformError(phase: 'compile' | 'evaluate', error: unknown): NonRetryableError {
  const e = (error ?? {}) as JsonataErrorLike;
  const details = { code: e.code, position: e.position, token: e.token };
  const message = typeof e.message === 'string' ? e.message : String(error);
  return new NonRetryableError(`The transform expression could not ${phase}: ${message}`, {
    type: 'TransformError',
    details,
  });
}

function compile(expression: string, timeoutMs: number): jsonata.Expression {
  const key = `${timeoutMs}\u0000${expression}`;
  let expr = compiled.get(key);
  if (!expr) {
    try {
      expr = jsonata(expression, { timeout: timeoutMs, stack: MAX_DEPTH });
    } catch (error) {
      throw transformError('compile', error);
    }
    if (compiled.size >= CACHE_LIMIT) compiled.delete(compiled.keys().next().value as string);
    compiled.set(key, expr);
  }
  return expr;
}

/**
 * `transform@1.0.0`: evaluates the JSONata `configuration.expression` over `input`; the result is the output
 * (`null` when the expression matches nothing). Bindings: `$previous` (the predecessors) and `$run` (the run's IDs).
 * A syntax or evaluation error fails the step without retries (type `TransformError`).
 */
export const transformProcessor = defineProcessor<unknown, unknown, TransformConfiguration>({
  name: 'transform',
  version: '1.0.0',
  description: 'Evaluates a JSONata expression (configuration.expression) over the step input.',
  module: __filename,
  inputSchema: {},
  outputSchema: {},
  configurationSchema: {
    type: 'object',
    required: ['expression'],
    properties: {
      expression: { type: 'string', minLength: 1 },
      timeoutMs: { type: 'integer', minimum: 1, maximum: 60_000 },
    },
    additionalProperties: false,
  },
  defaults: { retryPolicy: { maximumAttempts: 3 }, timeouts: { startToCloseMs: 60_000 } },
  async run({ input, configuration, previous, run }) {
    const expr = compile(configuration.expression, configuration.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    let result: unknown;
    try {
      result = await expr.evaluate(input, { previous, run });
    } catch (error) {
      throw transformError('evaluate', error);
    }
    // JSONata sequences carry extra array properties and may hold functions: keep plain JSON only.
    return result === undefined ? null : (JSON.parse(JSON.stringify(result) ?? 'null') as unknown);
  },
});
