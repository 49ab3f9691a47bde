import { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorRequestHandler, Express, Request, RequestHandler, Response } from 'express';
import { expressPath, type RouteSpec } from './routes/route';

/** What `GET /api/{Entity}/{id}` looks like when the fast path may take it: no query, no trailing slash. */
const ENTITY_BY_ID =
  /^\/api\/([A-Za-z]+)\/([0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})$/;
const PROBE_ID = '00000000-0000-4000-8000-000000000000';

/** One route's whole express chain, in order: the app's middleware, then the route's guard and handlers. */
export interface HotRoute {
  route: RouteSpec;
  handlers: RequestHandler[];
}

export interface HotReadsOptions {
  app: Express;
  /** The app's middleware that runs before any route, in registration order (correlation, headers, CORS, body). */
  before: RequestHandler[];
  /** Entity get routes (`{Entity}.get` on `/api/{Entity}/{id}`) with their guard and handler. */
  routes: HotRoute[];
  /** Every route, in registration order: a hot route must be the first that matches its paths. */
  table: readonly RouteSpec[];
  errorHandler: ErrorRequestHandler;
}

/** The request listener's fast path: `serve` answers a request it takes, and says whether it took it. */
export interface HotReads {
  serve(req: IncomingMessage, res: ServerResponse): boolean;
  /** Requests the fast path answered (for tests and metrics). */
  readonly served: number;
}

/**
 * `GET /api/{Entity}/{id}`, the API's hottest read, without express's router. Express matches a request against
 * every layer of the app in turn (about a hundred routes here), and each match costs regular expressions, parameter
 * decoding and a closure per layer; for a read of one row that was a tenth of the request's CPU (bench/README.md,
 * "API speed"). Here the path is matched once against one expression, and the request then runs **the same
 * functions express would run, in the same order**: the app's middleware (correlation ID, logging and metrics,
 * security headers, CORS, body parsing), the route's guard (authentication, role, rate limit, audit of refusals) and
 * its handler, with the app's error handler for whatever they throw. The request and response get express's
 * prototypes first, as express gives them, so `res.json`, `req.ip` (with `trust proxy`), ETags and freshness are
 * express's own.
 *
 * Anything else, or anything that could route differently (a query string, a trailing slash, other letter case,
 * HEAD), goes to express untouched. test/api/hot-reads.test.ts holds both paths to the same answers, headers
 * included.
 */
export function hotReads(options: HotReadsOptions): HotReads {
  const byEntity = new Map<string, RequestHandler[]>();
  for (const { route, handlers } of options.routes) {
    const entity = /^\/api\/([A-Za-z]+)\/\{id\}$/.exec(route.path)?.[1];
    if (route.method !== 'get' || !entity)
      throw new Error(`hotReads: ${route.method} ${route.path} is not GET /api/{Entity}/{id}`);
    assertFirstMatch(options.table, route, `/api/${entity}/${PROBE_ID}`);
    // The router marks the route matched (`req.route`) after the app's middleware, before the route's guard.
    const matched = { path: expressPath(route.path) };
    const markMatched: RequestHandler = (req, _res, next) => {
      req.route = matched;
      next();
    };
    byEntity.set(entity, [...options.before, markMatched, ...handlers]);
  }
  const { app, errorHandler } = options;
  let served = 0;

  return {
    get served() {
      return served;
    },
    serve(req, res) {
      if (req.method !== 'GET') return false;
      const match = ENTITY_BY_ID.exec(req.url ?? '');
      const hot = match && byEntity.get(match[1]!);
      if (!hot) return false;
      served += 1;
      // What express's `app.handle` does before its router (no-ops on a server made with `expressMessages`).
      const request = req as Request;
      const response = res as Response;
      request.res = response;
      response.req = request;
      Object.setPrototypeOf(req, app.request);
      Object.setPrototypeOf(res, app.response);
      response.locals = Object.create(null) as Response['locals'];
      request.baseUrl = '';
      request.params = { id: match[2]! };
      run(hot, request, response, errorHandler);
      return true;
    },
  };
}

/**
 * Calls `chain` as express's router would: each function gets `next`; `next(error)`, a throw or a rejected promise
 * goes to the error handler, once.
 */
function run(chain: RequestHandler[], req: Request, res: Response, errorHandler: ErrorRequestHandler): void {
  let index = 0;
  const fail = (error: unknown) => {
    index = chain.length;
    try {
      errorHandler(error, req, res, () => undefined);
    } catch {
      // The error handler answers every error; should it fail, the connection must not hang.
      if (!res.headersSent) res.statusCode = 500;
      res.end();
    }
  };
  const next = (error?: unknown): void => {
    if (error !== undefined && error !== 'route' && error !== 'router') return fail(error);
    const handler = chain[index++];
    if (!handler) return;
    try {
      const result: unknown = handler(req, res, next);
      if (result instanceof Promise) result.catch(fail);
    } catch (thrown) {
      fail(thrown);
    }
  };
  next();
}

/** @throws Error when a route registered before `route` would answer `path` (the fast path would bypass it). */
function assertFirstMatch(table: readonly RouteSpec[], route: RouteSpec, path: string): void {
  for (const other of table) {
    if (other === route) return;
    if (other.method !== 'get') continue;
    const pattern = new RegExp(`^${other.path.replace(/\{\w+\}/g, '[^/]+')}/?$`, 'i');
    if (pattern.test(path))
      throw new Error(`hotReads: ${other.path} is registered before ${route.path} and matches ${path}`);
  }
}

/**
 * `http.createServer` options whose requests and responses are born with the prototypes express gives them, and
 * makes those the app's `app.request` and `app.response`: express's `app.handle` and the fast path set them on every
 * request, and when a message already has them that is a no-op. Changing the prototype of a live object gives it a
 * new map; node's HTTP code then runs slower on it and allocates more, which was a third of the fast path's CPU
 * (bench/README.md, "API speed", third round).
 */
export function expressMessages(app: Express): {
  IncomingMessage: typeof IncomingMessage;
  ServerResponse: typeof ServerResponse;
} {
  class ExpressRequest extends IncomingMessage {}
  class ExpressResponse<Req extends IncomingMessage = IncomingMessage> extends ServerResponse<Req> {}
  for (const [prototype, current] of [
    [ExpressRequest.prototype, app.request],
    [ExpressResponse.prototype, app.response],
  ] as const) {
    // express's `app.request` is `Object.create(request, { app })`: the same chain and the same own property.
    Object.setPrototypeOf(prototype, Object.getPrototypeOf(current) as object);
    Object.defineProperties(prototype, Object.getOwnPropertyDescriptors(current));
  }
  app.request = ExpressRequest.prototype as Express['request'];
  app.response = ExpressResponse.prototype as unknown as Express['response'];
  return { IncomingMessage: ExpressRequest, ServerResponse: ExpressResponse };
}
