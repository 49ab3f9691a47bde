import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import type { PrismaClient } from '../../prisma/client';
import { auditActor, recordAudit, type AuditActor } from '../audit/audit';
import type { Authenticator } from '../auth/authenticator';
import { NoRoleError, UnauthenticatedError, type Principal } from '../auth/principal';
import { CSRF_HEADER, passesCsrfCheck } from '../auth/sessions';
import { hasRole, type Role } from '../auth/roles';
import { ApiError } from '../errors';
import { rateClassOf, type RouteSpec } from '../routes/route';
import type { RateLimits } from './rate-limit';

/** Who called and how their actions are audited; set on `res.locals` by the route's guard. */
export interface RequestAuth {
  principal: Principal;
  audit: AuditActor;
}

/** The request's principal and audit actor. @throws Error when the route has no guard (a programming error). */
export function requestAuth(res: Response): RequestAuth {
  const auth = res.locals.auth as RequestAuth | undefined;
  if (!auth) throw new Error('requestAuth: the route is not guarded');
  return auth;
}

/** 401: the body never says whether the credential was missing, malformed, unknown, expired or revoked. */
export class UnauthorizedError extends ApiError {
  constructor() {
    super(401, 'Unauthorized', 'A valid API key or bearer token is required', [
      {
        field: 'Authorization',
        rule: 'authentication',
        message: 'send Authorization: Bearer <API key or token>, or X-API-Key: <API key>',
      },
    ]);
  }
}

/** 403 naming the role the route needs and the caller's. */
export class ForbiddenError extends ApiError {
  constructor(required: Role, actual: Role | 'none', action: string) {
    super(403, 'Forbidden', `${action} requires the ${required} role; the caller is ${actual}`, [
      { field: 'role', rule: 'role', message: `requires ${required}`, required, actual },
    ]);
  }
}

/** 403: a state-changing request authenticated by the session cookie came without the console's CSRF header. */
export class CsrfError extends ApiError {
  constructor() {
    super(403, 'CsrfRejected', 'A request authenticated by the session cookie must come from the console', [
      {
        field: CSRF_HEADER,
        rule: 'csrf',
        message: `state-changing requests authenticated by the session cookie must send ${CSRF_HEADER}: 1`,
      },
    ]);
  }
}

export interface GuardDeps {
  authenticator: Authenticator;
  /** `npm run dev` only: origins of the dev Temporal UI it started, trusted as a viewer on `trustsDevUi` routes. */
  devUiOrigins?: readonly string[];
  limits: RateLimits;
  prisma: PrismaClient;
  logger: Logger;
}

/** The entity a refused request addressed (`Step.delete` on `/api/Step/{id}`), for its audit event. */
function entityOf(action: string, req: Request): { entityType?: string; entityId?: string } {
  const params = req.params as Record<string, string | undefined>;
  if (params.orchestratedFlowId)
    return { entityType: 'OrchestratedFlow', entityId: params.orchestratedFlowId };
  if (!params.id) return {};
  const type = action.startsWith('Schedule.') ? 'OrchestratedFlow' : action.split('.')[0];
  return { ...(type ? { entityType: type } : {}), entityId: params.id };
}

/**
 * The route's guard: refuses an IP that failed authentication too often (429), authenticates (401), refuses a
 * cookie-authenticated state change without the console's CSRF header (403), checks the route's role (403), draws from the principal's rate budget (429), and leaves `res.locals.auth` for the handler.
 * Refusals (401, 403) are audited; a public route passes straight through.
 */
const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/**
 * The dev Temporal UI `npm run dev` started calling a codec route from the browser: no credential, an Origin of the dev
 * UI, and a connection from this machine. (A browser sets Origin itself; a local process could forge it, which is why
 * this exists for `npm run dev` only.)
 */
function fromDevUi(
  req: Request,
  route: Pick<RouteSpec, 'trustsDevUi'>,
  origins: readonly string[] | undefined,
) {
  return (
    route.trustsDevUi === true &&
    origins !== undefined &&
    origins.includes(req.get('origin') ?? '') &&
    LOOPBACK.has(req.socket.remoteAddress ?? '') &&
    req.get('authorization') === undefined &&
    req.get('x-api-key') === undefined
  );
}

export function guard(
  route: Pick<RouteSpec, 'role' | 'action' | 'method' | 'rateClass' | 'trustsDevUi'>,
  deps: GuardDeps,
): RequestHandler {
  const { authenticator, limits, prisma, logger } = deps;
  const auditRefusal = (req: Request, res: Response, actor: AuditActor, outcome: number) =>
    recordAudit(prisma, actor, {
      action: route.action,
      ...entityOf(route.action, req),
      outcome,
    }).catch((error: unknown) => {
      ((res.locals.log as Logger | undefined) ?? logger).warn(
        { err: error },
        'could not record a refused request',
      );
    });

  return async (req, res, next) => {
    if (route.role === 'public') return next();
    const ip = req.ip ?? 'unknown';
    const correlationId = res.locals.correlationId as string;
    if (!authenticator.authOff) await limits.assertIpNotBlocked(ip, res);
    let principal: Principal;
    try {
      principal = fromDevUi(req, route, deps.devUiOrigins)
        ? { name: 'temporal-ui (npm run dev)', role: 'viewer', kind: 'devUi' }
        : await authenticator.authenticate(req);
    } catch (error) {
      if (error instanceof NoRoleError) {
        await auditRefusal(req, res, { principal: error.principal, correlationId, clientIp: ip }, 403);
        throw new ForbiddenError(route.role, 'none', route.action);
      }
      if (!(error instanceof UnauthenticatedError)) throw error;
      res.setHeader('WWW-Authenticate', 'Bearer realm="flow-orchestrator"');
      await auditRefusal(req, res, { principal: 'anonymous', correlationId, clientIp: ip }, 401);
      await limits.recordAuthFailure(ip, res);
      throw new UnauthorizedError();
    }
    const audit = auditActor(principal, correlationId, ip);
    if (principal.session && !passesCsrfCheck(req)) {
      await auditRefusal(req, res, audit, 403);
      throw new CsrfError();
    }
    if (!hasRole(principal.role, route.role)) {
      await auditRefusal(req, res, audit, 403);
      throw new ForbiddenError(route.role, principal.role, route.action);
    }
    res.locals.actor = principal.name;
    res.locals.auth = { principal, audit } satisfies RequestAuth;
    await limits.consume(rateClassOf(route as RouteSpec), principal.name, res);
    next();
  };
}
