import { randomUUID } from 'node:crypto';
import { context, trace } from '@opentelemetry/api';
import { getRPCMetadata, RPCType } from '@opentelemetry/core';
import type { Request, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { CORRELATION_ID_SPAN_ATTRIBUTE } from '../../infra/telemetry-attributes';
import type { ApiMetrics } from '../../infra/metrics';

export const CORRELATION_HEADER = 'X-Correlation-ID';
const ACCEPTABLE = /^[A-Za-z0-9._:-]{1,128}$/;

/** Requests no route matched share one label, so stray paths cannot grow the metric without bound. */
export const UNMATCHED_ROUTE = '(unmatched)';

/** `baseUrl` + a route's path: `/api/Step/:id`; a router's root route (`/`) is its mount point, `/api/Step`. */
function routeTemplate(baseUrl: string, path: string): string {
  return path === '/' && baseUrl ? baseUrl : `${baseUrl}${path}`;
}

const ON_ROUTE = Symbol('onRoute');
const ROUTE = Symbol('route');
type WatchedRequest = Request & { [ON_ROUTE]?: (template: string) => void; [ROUTE]?: unknown };
/** Request prototypes whose `route` is already an accessor. */
const watchedPrototypes = new WeakSet<object>();

/**
 * Calls `onMatch` with the template of each route the router matches, at the moment it matches: later, on the way to
 * the error handler, `req.baseUrl` is already unwound while `req.route` stays. The accessor is defined once on the
 * requests' prototype (the app's `app.request`), not on each request: per request it was 1 % of a GET by id's CPU.
 */
function watchRoute(req: Request, onMatch: (template: string) => void): void {
  const prototype = Object.getPrototypeOf(req) as object;
  if (!watchedPrototypes.has(prototype)) {
    Object.defineProperty(prototype, 'route', {
      configurable: true,
      get(this: WatchedRequest) {
        return this[ROUTE];
      },
      set(this: WatchedRequest, value: unknown) {
        this[ROUTE] = value;
        const path = (value as { path?: unknown } | undefined)?.path;
        if (typeof path === 'string') this[ON_ROUTE]?.(routeTemplate(this.baseUrl, path));
      },
    });
    watchedPrototypes.add(prototype);
  }
  (req as WatchedRequest)[ON_ROUTE] = onMatch;
}

/**
 * Accepts the caller's `X-Correlation-ID` (or makes one), echoes it on the response, and gives the request a logger
 * that carries it. Names the request's trace span after its route and tags it with the correlation ID, and records
 * `http_request_duration_seconds`. Also settles the caller's identity: a fixed `anonymous` until authentication
 * exists.
 */
export function requestContext(logger: Logger, metrics?: ApiMetrics): RequestHandler {
  // The request line's keys are fixed and none names a secret, so it skips redaction, which costs ~55 µs a line
  // against ~5 µs for the rest of the line (wildcard paths walk every object). Every other line is redacted.
  const requestLines = logger.child({}, { redact: [] });
  return (req, res, next) => {
    const offered = req.get(CORRELATION_HEADER);
    const correlationId = offered && ACCEPTABLE.test(offered) ? offered : randomUUID();
    res.setHeader(CORRELATION_HEADER, correlationId);
    res.locals.correlationId = correlationId;
    res.locals.actor = 'anonymous';
    // The request's logger, made when something logs through it: most requests only log their one line below.
    let log: Logger | undefined;
    Object.defineProperty(res.locals, 'log', {
      configurable: true,
      enumerable: true,
      get: () => (log ??= logger.child({ correlationId })),
    });
    trace.getActiveSpan()?.setAttribute(CORRELATION_ID_SPAN_ATTRIBUTE, correlationId);
    // The HTTP instrumentation names its span `<method> <route>` from this when the span ends.
    const rpc = getRPCMetadata(context.active());
    const started = process.hrtime.bigint();
    let route = UNMATCHED_ROUTE;
    watchRoute(req, (template) => {
      route = template;
      if (rpc?.type === RPCType.HTTP) rpc.route = template;
    });
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics?.httpRequestDuration.observe(
        { method: req.method, route, status: String(res.statusCode) },
        seconds,
      );
      requestLines.info(
        {
          correlationId,
          method: req.method,
          route: route === UNMATCHED_ROUTE ? req.path : route,
          status: res.statusCode,
          durationMs: seconds * 1000,
        },
        'request',
      );
    });
    next();
  };
}
