import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from 'pino';

export const CORRELATION_HEADER = 'X-Correlation-ID';
const ACCEPTABLE = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Accepts the caller's `X-Correlation-ID` (or makes one), echoes it on the response, and gives the request a logger
 * that carries it. Also settles the caller's identity: a fixed `anonymous` until authentication exists.
 */
export function requestContext(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const offered = req.get(CORRELATION_HEADER);
    const correlationId = offered && ACCEPTABLE.test(offered) ? offered : randomUUID();
    res.setHeader(CORRELATION_HEADER, correlationId);
    res.locals.correlationId = correlationId;
    res.locals.actor = 'anonymous';
    const log = logger.child({ correlationId });
    res.locals.log = log;
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      const route = (req.route as { path?: string } | undefined)?.path;
      log.info(
        {
          method: req.method,
          route: route ? `${req.baseUrl}${route}` : req.path,
          status: res.statusCode,
          durationMs,
        },
        'request',
      );
    });
    next();
  };
}
