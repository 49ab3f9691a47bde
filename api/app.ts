import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import { Client, type Connection } from '@temporalio/client';
import { postgresDataPlane } from '../activities/data/blob-store';
import type { HistoryBudget } from '../domain/flow-types';
import type { DataPlane } from '../activities/sdk';
import type { EncryptionCodec } from '../infra/payload-codec';
import { dataConverter } from '../infra/payload-keys';
import express, { type Express, type RequestHandler } from 'express';
import type { Logger } from 'pino';
import swaggerUi from 'swagger-ui-express';
import type { RequestListener } from 'node:http';
import path from 'node:path';
import { PROJECT_ROOT, SECURITY_DEFAULTS } from '../infra/config';
import { telemetry } from '../infra/telemetry';
import { ApiMetrics } from '../infra/metrics';
import { poolFigures, type PrismaClient } from '../prisma/client';
import { ApiKeyStore } from './auth/api-keys';
import { Authenticator } from './auth/authenticator';
import { JwtVerifier, type JwtSettings } from './auth/jwt';
import { OidcLogin, type OidcLoginSettings } from './auth/oidc-login';
import { SessionStore } from './auth/sessions';
import { consoleRouter } from './console';
import { expressMessages, hotReads, type HotReads, type HotRoute } from './hot-reads';
import { CrudService } from './crud-service';
import { BundleService } from './bundle/service';
import { ENTITIES } from './entities';
import { bundleRoutes } from './routes/bundle';
import { workflowGraphRoute } from './routes/graph';
import { SecretMasker } from './masking';
import { guard } from './middleware/authorize';
import { cors } from './middleware/cors';
import { securityHeaders } from './middleware/security-headers';
import { errorHandler, notFound } from './middleware/errors';
import { requestContext } from './middleware/correlation';
import { RateLimits, type RateLimitSettings } from './middleware/rate-limit';
import { buildOpenApiDocument, SWAGGER_PATH } from './openapi';
import { apiKeyRoutes } from './routes/api-keys';
import { auditRoutes } from './routes/audit';
import { codecRoutes } from './routes/codec';
import { entityRoutes } from './routes/entities';
import { healthRoutes } from './routes/health';
import { orchestrationRoutes } from './routes/orchestration';
import { expressPath, type RouteSpec } from './routes/route';
import { scheduleRoutes } from './routes/schedules';
import { sessionRoutes } from './routes/session';
import { OrchestrationService } from './orchestration/service';
import { withScheduleSync } from './schedules/entity';
import { ScheduleService } from './schedules/service';

/** Who may call what, and how much. Secure by default: every field's default is the strict choice. */
export interface SecurityOptions {
  /** `off` answers every request as an admin (local experiments only; refused in production by the config). */
  authMode?: 'on' | 'off';
  /** OIDC bearer tokens are accepted when set. */
  jwt?: JwtSettings;
  /** `/metrics` without a credential. */
  metricsPublic?: boolean;
  rateLimits?: Partial<RateLimitSettings>;
  /** Origins allowed by CORS (none by default). */
  corsOrigins?: readonly string[];
  /** SECRET_KEYS: configuration keys whose values are masked for non-admins. */
  secretKeys?: string;
  /** Origins of the Temporal Web UI (TEMPORAL_UI_ORIGIN): CORS for the codec routes only. */
  temporalUiOrigins?: readonly string[];
  /**
   * `npm run dev` only: the dev Temporal UI's origins, whose browser calls to the codec routes from this machine are
   * trusted as a viewer without a credential.
   */
  devUiOrigins?: readonly string[];
  /** Number of proxies in front of the API (express `trust proxy`), so rate limits see real client IPs. */
  trustProxy?: number;
  /** SESSION_TTL_MINUTES: the longest a console session lives; default 480 (8 hours). */
  sessionTtlMinutes?: number;
  /** Console single sign-on (authorization code + PKCE); needs `jwt` (the issuer) too. */
  oidcLogin?: OidcLoginSettings;
  /** Where the console links runs in the Temporal Web UI (default: the first Temporal UI origin, if any). */
  temporalUiUrl?: string;
}

export interface AppDeps {
  prisma: PrismaClient;
  temporal: Connection;
  logger: Logger;
  /** Temporal namespace of the runs (default `default`). */
  namespace?: string;
  /**
   * Task queue the interpreter's workers poll (default `flow-orchestrator`; tests use their own): manual runs and
   * the runs of flow schedules start there.
   */
  orchestratorTaskQueue?: string;
  bodyLimit?: string;
  /** Largest bundle body (`/api/Bundle/…`); default 32mb. */
  bundleBodyLimit?: string;
  version?: string;
  /** Served at `GET /metrics`; default: a registry of its own over the Prisma client's pool. */
  metrics?: ApiMetrics;
  security?: SecurityOptions;
  /** Encrypts every payload the API's Temporal client sends and decrypts what it reads (infra/payload-codec.ts). */
  codec: EncryptionCodec;
  /** Where large run inputs go and step data is read from; default: Postgres under the codec's keys, 64 KiB inline. */
  data?: DataPlane;
  /** The built console served at /ui/; default console/dist of the project. */
  consoleDir?: string;
  /** Manual runs and reruns continue as new past this much history per segment (default: the interpreter's). */
  historyBudget?: HistoryBudget;
  /** `GET /api/{Entity}/{id}` without express's router (api/hot-reads.ts); default true. */
  hotReads?: boolean;
}

const BUNDLE_PATH_PREFIX = '/api/Bundle/';
const DEFAULT_SESSION_TTL_MINUTES = 480;

/** Who is calling and how much they may: what the guards and the session routes share. */
interface AuthServices {
  keys: ApiKeyStore;
  sessions: SessionStore;
  authenticator: Authenticator;
  limits: RateLimits;
  oidc?: OidcLogin;
}

function authServices(deps: AppDeps): AuthServices {
  const { prisma, security = {} } = deps;
  const keys = new ApiKeyStore(prisma);
  const sessions = new SessionStore(
    prisma,
    (security.sessionTtlMinutes ?? DEFAULT_SESSION_TTL_MINUTES) * 60_000,
  );
  const jwt = security.jwt ? new JwtVerifier(security.jwt) : undefined;
  const authenticator = new Authenticator({
    keys,
    sessions,
    ...(jwt ? { jwt } : {}),
    authOff: security.authMode === 'off',
  });
  const limits = new RateLimits({ ...SECURITY_DEFAULTS.rateLimits, ...security.rateLimits });
  const oidc =
    jwt && security.jwt && security.oidcLogin
      ? new OidcLogin(jwt, security.jwt.issuer, security.oidcLogin)
      : undefined;
  return { keys, sessions, authenticator, limits, ...(oidc ? { oidc } : {}) };
}

/** Every route the API serves, in registration order. */
function routeTable(deps: AppDeps, services: AuthServices & { metrics: ApiMetrics }): RouteSpec[] {
  const { prisma, temporal, namespace = 'default', orchestratorTaskQueue } = deps;
  const security = deps.security ?? {};
  const temporalUiUrl =
    security.temporalUiUrl ?? security.temporalUiOrigins?.[0] ?? security.devUiOrigins?.[0];
  const dataPlane = deps.data ?? postgresDataPlane(prisma, deps.codec.keyRing);
  const masker = SecretMasker.fromList(deps.security?.secretKeys ?? SECURITY_DEFAULTS.secretKeys);
  const crud = new CrudService(prisma, masker);
  // While tracing is on, the interceptor carries the request's trace into every run it starts. Off, it would still
  // wrap every call in a span that records nothing.
  const client = new Client({
    connection: temporal,
    namespace,
    dataConverter: dataConverter(deps.codec),
    ...(telemetry().enabled
      ? { interceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor()] } }
      : {}),
  });
  // Every write of an OrchestratedFlow keeps its Temporal Schedule in step, inside the write's transaction.
  const schedules = new ScheduleService(prisma, client, orchestratorTaskQueue);
  const metricsRoute: RouteSpec = {
    method: 'get',
    path: '/metrics',
    role: deps.security?.metricsPublic ? 'public' : 'viewer',
    action: 'Metrics.scrape',
    doc: {
      tags: ['Operations'],
      summary: 'Prometheus metrics: HTTP latency, runs started, database pool, process figures',
      responses: { 200: { description: 'Prometheus text exposition format' } },
    },
    handler: async (_req, res) => {
      res.type(services.metrics.registry.contentType).send(await services.metrics.registry.metrics());
    },
  };
  const openApiRoute: RouteSpec = {
    method: 'get',
    path: '/openapi.json',
    role: 'public',
    action: 'Docs.openApi',
    doc: {
      tags: ['Operations'],
      summary: 'This OpenAPI document',
      responses: { 200: { description: 'OpenAPI 3.1' } },
    },
    // Filled in below, once the table (which it documents) is complete.
    handler: () => undefined,
  };
  const routes: RouteSpec[] = [
    ...healthRoutes({ prisma, temporal }),
    metricsRoute,
    openApiRoute,
    ...scheduleRoutes(schedules, prisma),
    workflowGraphRoute(prisma),
    ...ENTITIES.flatMap((def) =>
      entityRoutes(def.name === 'OrchestratedFlow' ? withScheduleSync(schedules) : def, crud),
    ),
    ...orchestrationRoutes(
      new OrchestrationService(prisma, client, orchestratorTaskQueue, services.metrics, dataPlane, {
        ...(deps.historyBudget ? { historyBudget: deps.historyBudget } : {}),
      }),
      prisma,
    ),
    ...sessionRoutes({
      prisma,
      authenticator: services.authenticator,
      sessions: services.sessions,
      limits: services.limits,
      ...(services.oidc ? { oidc: services.oidc } : {}),
      ...(temporalUiUrl ? { temporalUi: { url: temporalUiUrl, namespace } } : {}),
    }),
    ...apiKeyRoutes(prisma, services.keys),
    ...auditRoutes(prisma),
    ...codecRoutes(deps.codec),
    ...bundleRoutes(
      new BundleService(
        prisma,
        ENTITIES.map((def) => (def.name === 'OrchestratedFlow' ? withScheduleSync(schedules) : def)),
        masker,
      ),
      deps.bundleBodyLimit ?? '32mb',
    ),
  ];
  return routes;
}

/**
 * The OpenAPI document of the API `deps` would build, without serving it (`npm run schemas` writes it to
 * schemas/openapi.json, which the console's typed client is generated from). Builds the route table only: nothing
 * is connected or queried.
 */
export function openApiDocument(deps: AppDeps): object {
  const metrics = deps.metrics ?? new ApiMetrics(() => poolFigures(deps.prisma));
  const routes = routeTable(deps, { metrics, ...authServices(deps) });
  return buildOpenApiDocument(routes, ENTITIES, deps.version ?? '0.1.0');
}

/** The API's HTTP request listener: express, behind the fast path of the hottest read (`hotReads`). */
export interface Api {
  app: Express;
  listener: RequestListener;
  /** Options for the server the listener serves on: requests and responses made with express's prototypes. */
  serverOptions: ReturnType<typeof expressMessages>;
  /** Undefined when `AppDeps.hotReads` is false. */
  hotReads?: HotReads;
}

/**
 * Builds the express application and the request listener in front of it. Every route comes from one table that
 * registers it, guards it (authentication, role, rate limit, audit of refusals) and documents it in OpenAPI. Thin:
 * routes parse, services decide, one middleware maps errors.
 */
export function createApi(deps: AppDeps): Api {
  const { prisma, logger, bodyLimit = '1mb', version = '0.1.0', security = {} } = deps;
  const metrics = deps.metrics ?? new ApiMetrics(() => poolFigures(prisma));
  const services = authServices(deps);
  const { authenticator, limits } = services;
  const guardDeps = {
    authenticator,
    limits,
    prisma,
    logger,
    ...(security.devUiOrigins ? { devUiOrigins: security.devUiOrigins } : {}),
  };

  const app = express();
  // Requests and responses are made with express's prototypes, so express never has to change them (api/hot-reads.ts).
  const serverOptions = expressMessages(app);
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.set('trust proxy', security.trustProxy ?? 0);
  // Bundle routes parse their own (larger) bodies, after their guard.
  const jsonBody = express.json({ limit: bodyLimit, strict: false });
  const before: RequestHandler[] = [
    requestContext(logger, metrics),
    securityHeaders(),
    cors(security.corsOrigins ?? [], [
      ...(security.temporalUiOrigins ?? []),
      ...(security.devUiOrigins ?? []),
    ]),
    (req, res, next) => (req.path.startsWith(BUNDLE_PATH_PREFIX) ? next() : jsonBody(req, res, next)),
  ];
  for (const handler of before) app.use(handler);

  const routes = routeTable(deps, { metrics, ...services });
  const openApi = buildOpenApiDocument(routes, ENTITIES, version);
  const serveOpenApi: RequestHandler = (_req, res) => {
    res.json(openApi);
  };
  const hotRoutes: HotRoute[] = [];
  for (const route of routes) {
    const handlers = [
      guard(route, guardDeps),
      ...(route.action === 'Docs.openApi' ? [serveOpenApi] : [route.handler].flat()),
    ];
    app[route.method](expressPath(route.path), ...handlers);
    if (ENTITIES.some((def) => route.action === `${def.name}.get` && route.path === `/api/${def.name}/{id}`))
      hotRoutes.push({ route, handlers });
  }
  app.use(consoleRouter(deps.consoleDir ?? path.join(PROJECT_ROOT, 'console', 'dist')));
  app.use(
    SWAGGER_PATH.replace(/\/$/, ''),
    swaggerUi.serve,
    swaggerUi.setup(openApi, {
      customSiteTitle: 'FlowOrchestrator API',
      swaggerOptions: { persistAuthorization: true },
    }),
  );

  // An unknown path is 404 only for a caller who may read: others learn nothing about what exists.
  app.use(guard({ role: 'viewer', action: 'NotFound', method: 'get' }, guardDeps), notFound);
  const handleError = errorHandler(logger);
  app.use(handleError);
  const fast =
    deps.hotReads === false
      ? undefined
      : hotReads({ app, before, routes: hotRoutes, table: routes, errorHandler: handleError });
  return {
    app,
    serverOptions,
    listener: fast
      ? (req, res) => {
          if (!fast.serve(req, res)) app(req, res);
        }
      : app,
    ...(fast ? { hotReads: fast } : {}),
  };
}

/** The express application alone (tests that drive it without a server). */
export function createApp(deps: AppDeps): Express {
  return createApi(deps).app;
}
