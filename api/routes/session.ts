import type { Request, Response } from 'express';
import { z } from 'zod';
import type { PrismaClient } from '../../prisma/client';
import { recordAudit, type AuditActor } from '../audit/audit';
import type { Authenticator } from '../auth/authenticator';
import { InvalidTokenError, JwksUnavailableError } from '../auth/jwt';
import type { OidcLogin, OidcProvider } from '../auth/oidc-login';
import { NoRoleError, UnauthenticatedError, type Principal } from '../auth/principal';
import {
  clearSessionCookie,
  CSRF_HEADER,
  passesCsrfCheck,
  sessionToken,
  setSessionCookie,
  viewOf,
  type SessionStore,
} from '../auth/sessions';
import { ServiceUnavailableError } from '../errors';
import { CsrfError, ForbiddenError, requestAuth, UnauthorizedError } from '../middleware/authorize';
import type { RateLimits } from '../middleware/rate-limit';
import { error, json } from '../openapi-parts';
import { parseOrThrow, typeError } from '../validation';
import type { RouteSpec } from './route';

const MAX_CREDENTIAL_LENGTH = 8_192;
const credential = z
  .string(typeError('a string'))
  .min(1, { error: 'is required' })
  .max(MAX_CREDENTIAL_LENGTH, { error: `must be at most ${MAX_CREDENTIAL_LENGTH} characters` });
/** An API key, or an authorization code with its PKCE verifier and the redirect URI it was issued for. */
const loginBody = z
  .strictObject({
    apiKey: credential.optional(),
    code: credential.optional(),
    // RFC 7636 §4.1: 43-128 unreserved characters.
    codeVerifier: z
      .string(typeError('a string'))
      .regex(/^[A-Za-z0-9._~-]{43,128}$/, {
        error: 'must be 43-128 characters of letters, digits and . _ ~ - (RFC 7636)',
      })
      .optional(),
    redirectUri: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  })
  .superRefine((body, ctx) => {
    const problem = (field: string, message: string, rule: string) =>
      ctx.addIssue({ code: 'custom', path: [field], message, params: { rule } });
    if (body.apiKey !== undefined && body.code !== undefined)
      return problem('code', 'send either apiKey or code, not both', 'exclusive');
    if (body.apiKey === undefined && body.code === undefined)
      return problem('apiKey', 'is required (or code, codeVerifier and redirectUri)', 'required');
    if (body.code === undefined) return;
    if (body.codeVerifier === undefined) problem('codeVerifier', 'is required with code', 'required');
    if (body.redirectUri === undefined) problem('redirectUri', 'is required with code', 'required');
  });

const tags = ['Session'];
const sessionSchema = {
  type: 'object',
  required: ['name', 'role', 'kind'],
  properties: {
    name: { type: 'string', description: "The API key's name or the token's subject." },
    role: { type: 'string', enum: ['viewer', 'editor', 'operator', 'admin'] },
    kind: { type: 'string', description: 'The credential behind it: apiKey or jwt.' },
    expiresAt: {
      type: 'string',
      format: 'date-time',
      description: 'When the session ends (session cookie only).',
    },
  },
};

export interface SessionRouteDeps {
  prisma: PrismaClient;
  authenticator: Authenticator;
  sessions: SessionStore;
  limits: RateLimits;
  /** Set when single sign-on is configured (AUTH_JWT_ISSUER and AUTH_OIDC_CLIENT_ID). */
  oidc?: OidcLogin;
  /** Where the console links a run in the Temporal Web UI. */
  temporalUi?: { url: string; namespace: string };
}

/**
 * `/api/Session`: the console's login. An API key, or an OIDC authorization code with its PKCE verifier, is exchanged
 * for a session cookie (see api/auth/sessions.ts); logins and logouts are audited, failures count against the
 * caller's IP like any failed authentication.
 */
export function sessionRoutes(deps: SessionRouteDeps): RouteSpec[] {
  const { prisma, authenticator, sessions, limits } = deps;

  /** The principal a login body names. Failures are audited and counted; the body never says which check failed. */
  const login = async (
    req: Request,
    res: Response,
    actor: AuditActor,
  ): Promise<Principal & { expiresAt?: Date }> => {
    const body = parseOrThrow(loginBody, req.body, 'body');
    const refuse = async (status: 401 | 403, principal = 'anonymous') => {
      await recordAudit(prisma, { ...actor, principal }, { action: 'Session.create', outcome: status });
      if (status === 401) await limits.recordAuthFailure(actor.clientIp ?? 'unknown', res);
    };
    try {
      if (body.apiKey !== undefined) return await authenticator.fromApiKey(body.apiKey);
      if (!deps.oidc)
        throw new ServiceUnavailableError(
          'Single sign-on',
          'no OIDC client is configured (AUTH_OIDC_CLIENT_ID)',
        );
      // The refinement makes these present together.
      const token = await deps.oidc.redeem(body.code!, body.codeVerifier!, body.redirectUri!);
      return await authenticator.fromJwt(token);
    } catch (failure) {
      if (failure instanceof UnauthenticatedError || failure instanceof InvalidTokenError) {
        await refuse(401);
        throw new UnauthorizedError();
      }
      if (failure instanceof NoRoleError) {
        await refuse(403, failure.principal);
        throw new ForbiddenError('viewer', 'none', 'Session.create');
      }
      if (failure instanceof JwksUnavailableError)
        throw new ServiceUnavailableError('The identity provider', 'it cannot be reached');
      throw failure;
    }
  };

  return [
    {
      method: 'get',
      path: '/api/Session/providers',
      role: 'public',
      action: 'Session.providers',
      doc: {
        tags,
        summary:
          'How to log in to the console: API key, and single sign-on when an OIDC client is configured',
        responses: {
          200: json({
            type: 'object',
            required: ['apiKey'],
            properties: {
              apiKey: { type: 'boolean' },
              oidc: {
                type: 'object',
                properties: {
                  issuer: { type: 'string' },
                  authorizationEndpoint: { type: 'string' },
                  clientId: { type: 'string' },
                  scope: { type: 'string' },
                },
              },
              temporalUi: {
                type: 'object',
                properties: { url: { type: 'string' }, namespace: { type: 'string' } },
              },
            },
          }),
        },
      },
      handler: async (_req, res) => {
        let oidc: OidcProvider | undefined;
        // An unreachable issuer leaves the key login usable; the SSO button just does not show.
        if (deps.oidc) oidc = await deps.oidc.provider().catch(() => undefined);
        res.json({
          apiKey: true,
          ...(oidc ? { oidc } : {}),
          ...(deps.temporalUi ? { temporalUi: deps.temporalUi } : {}),
        });
      },
    },
    {
      method: 'post',
      path: '/api/Session',
      role: 'public',
      action: 'Session.create',
      doc: {
        tags,
        summary:
          'Log in: exchange an API key, or an OIDC authorization code and its PKCE verifier, for a session cookie',
        description:
          'Sets an httpOnly, SameSite=Strict cookie. Requests it authenticates that change state must send ' +
          `${CSRF_HEADER}: 1 (and so must this one).`,
        requestBody: {
          required: true,
          ...json({
            oneOf: [
              { type: 'object', required: ['apiKey'], properties: { apiKey: { type: 'string' } } },
              {
                type: 'object',
                required: ['code', 'codeVerifier', 'redirectUri'],
                properties: {
                  code: { type: 'string' },
                  codeVerifier: { type: 'string' },
                  redirectUri: { type: 'string', format: 'uri' },
                },
              },
            ],
          }),
        },
        responses: {
          201: { description: 'Logged in; the cookie is set', ...json(sessionSchema) },
          400: error('A malformed body'),
          401: error('The key or code was refused'),
          403: error(`No ${CSRF_HEADER} header, or the token maps to none of our roles`),
          429: error('Too many failed logins from this address'),
          503: error('The identity provider (or Postgres) is unavailable'),
        },
      },
      handler: async (req, res) => {
        const ip = req.ip ?? 'unknown';
        // Login CSRF: a cross-site page must not log the browser in as someone else.
        if (!passesCsrfCheck(req)) throw new CsrfError();
        await limits.assertIpNotBlocked(ip, res);
        const actor: AuditActor = {
          principal: 'anonymous',
          correlationId: res.locals.correlationId as string,
          clientIp: ip,
        };
        const principal = await login(req, res, actor);
        const { token, view } = await sessions.create(principal, principal.expiresAt);
        await recordAudit(
          prisma,
          { ...actor, principal: principal.name, role: principal.role },
          { action: 'Session.create', outcome: 201 },
        );
        setSessionCookie(req, res, token, view.expiresAt!);
        res.status(201).json(view);
      },
    },
    {
      method: 'get',
      path: '/api/Session',
      role: 'viewer',
      action: 'Session.get',
      doc: {
        tags,
        summary: 'Who the caller is: name, role, and when the session ends',
        responses: { 200: json(sessionSchema) },
      },
      handler: (_req, res) => {
        res.json(viewOf(requestAuth(res).principal));
      },
    },
    {
      method: 'delete',
      path: '/api/Session',
      role: 'viewer',
      action: 'Session.delete',
      doc: {
        tags,
        summary: 'Log out: end the session and clear its cookie',
        responses: { 204: { description: 'Logged out' } },
      },
      handler: async (req, res) => {
        const { audit } = requestAuth(res);
        const token = sessionToken(req);
        if (token) await sessions.end(token);
        await recordAudit(prisma, audit, { action: 'Session.delete', outcome: 204 });
        clearSessionCookie(req, res);
        res.status(204).end();
      },
    },
  ];
}
