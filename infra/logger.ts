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

let stdout: pino.DestinationStream | undefined;

/**
 * Standard output, written asynchronously: a line never waits for a write(2) on the request's path, and lines logged
 * while a write is in flight go out together in the next one (under load, one write for many request lines instead of
 * one each). pino flushes what is pending synchronously when the process exits. One stream per process, shared by every
 * logger, so lines of different loggers never interleave.
 */
function stdoutStream(): pino.DestinationStream {
  stdout ??= pino.destination({ dest: 1, sync: false });
  return stdout;
}

/** The process logger: JSON lines on stdout. Payloads and secrets are never logged at info level. */
export function createLogger(config: Pick<Config, 'LOG_LEVEL'>, name: string): Logger {
  return pino(
    {
      name,
      level: config.LOG_LEVEL,
      mixin: traceFields,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    stdoutStream(),
  );
}
