import { isSpanContextValid, trace } from '@opentelemetry/api';
import pino, { type Logger } from 'pino';
import type { Config } from './config';

/**
 * The trace a line was logged in (when tracing is on), so a log line leads to its trace and back. Named as Temporal
 * names them on workflow and activity lines.
 */
function traceFields(): Record<string, string> {
  const context = trace.getActiveSpan()?.spanContext();
  return context && isSpanContextValid(context) ? { trace_id: context.traceId, span_id: context.spanId } : {};
}

/** Secret-looking keys, wherever they appear up to two levels down (credentials, cookies, configuration secrets). */
const SECRET_FIELDS = [
  'authorization',
  '["x-api-key"]',
  'cookie',
  '["set-cookie"]',
  'password',
  'secret',
  'token',
  'apiKey',
  'key',
  'credentials',
  'connectionString',
];
export const REDACTED_PATHS = SECRET_FIELDS.flatMap((field) => {
  const access = field.startsWith('[') ? field : `.${field}`;
  return [access.slice(access.startsWith('.') ? 1 : 0), `*${access}`, `*.*${access}`, `req.headers${access}`];
});

/** The process logger: JSON lines on stdout. Payloads and secrets are never logged at info level. */
export function createLogger(config: Pick<Config, 'LOG_LEVEL'>, name: string): Logger {
  return pino({
    name,
    level: config.LOG_LEVEL,
    mixin: traceFields,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  });
}
