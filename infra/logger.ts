import pino, { type Logger } from 'pino';
import type { Config } from './config';

/** The process logger: JSON lines on stdout. Payloads and secrets are never logged at info level. */
export function createLogger(config: Pick<Config, 'LOG_LEVEL'>, name: string): Logger {
  return pino({
    name,
    level: config.LOG_LEVEL,
    redact: {
      paths: ['*.password', '*.apiKey', '*.authorization', 'req.headers.authorization'],
      censor: '[redacted]',
    },
  });
}
