import { z } from 'zod';
import type { PrismaClient } from '../../prisma/client';
import { recordAudit } from '../audit/audit';
import { apiKeyView, generateApiKey, insertApiKey, type ApiKeyStore } from '../auth/api-keys';
import { ROLES } from '../auth/roles';
import { NotFoundError } from '../errors';
import { requestAuth } from '../middleware/authorize';
import { error, guidParam, json, pageParams } from '../openapi-parts';
import { translateDatabaseError } from '../prisma-errors';
import { pagination, parseGuidParam, parseOrThrow, typeError } from '../validation';
import type { RouteSpec } from './route';

export const apiKeyInput = z.strictObject({
  name: z
    .string(typeError('a string'))
    .trim()
    .min(1, { error: 'is required', abort: true })
    .max(100, { error: 'must be at most 100 characters' })
    .regex(/^[^\p{Cc}]*$/u, { error: 'must not contain control characters' }),
  role: z.enum(ROLES, { error: `must be one of ${ROLES.join(', ')}` }),
  expiresAt: z.iso
    .datetime({ offset: true, error: 'must be an ISO-8601 date-time, e.g. 2027-01-31T00:00:00Z' })
    .refine((value) => Date.parse(value) > Date.now(), {
      error: 'must be in the future',
      params: { rule: 'future' },
    })
    .nullish(),
});

const keyProperties = {
  id: { type: 'string', format: 'uuid' },
  name: { type: 'string' },
  role: { type: 'string', enum: [...ROLES] },
  prefix: { type: 'string', description: 'The first characters of the key, for recognising it.' },
  createdBy: { type: 'string' },
  createdAt: { type: 'string', format: 'date-time' },
  expiresAt: { type: ['string', 'null'], format: 'date-time' },
  lastUsedAt: {
    type: ['string', 'null'],
    format: 'date-time',
    description: 'Updated at most once a minute.',
  },
  revokedAt: { type: ['string', 'null'], format: 'date-time' },
};
const tags = ['ApiKey'];

async function db<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw translateDatabaseError(err) ?? err;
  }
}

/** `/api/ApiKey`: create (the secret is answered once), list, revoke. Admin only; writes are audited. */
export function apiKeyRoutes(prisma: PrismaClient, keys: ApiKeyStore): RouteSpec[] {
  return [
    {
      method: 'post',
      path: '/api/ApiKey',
      role: 'admin',
      action: 'ApiKey.create',
      doc: {
        tags,
        summary: 'Create an API key; the answer holds its secret, which is never shown again',
        requestBody: {
          required: true,
          ...json({
            type: 'object',
            required: ['name', 'role'],
            properties: {
              name: keyProperties.name,
              role: keyProperties.role,
              expiresAt: keyProperties.expiresAt,
            },
            additionalProperties: false,
          }),
        },
        responses: {
          201: {
            description: 'Created: `key` is the secret; store it now',
            ...json({ type: 'object', properties: { ...keyProperties, key: { type: 'string' } } }),
          },
          400: error('Invalid name, role or expiresAt'),
          503: error('Postgres is unavailable'),
        },
      },
      handler: async (req, res) => {
        const input = parseOrThrow(apiKeyInput, req.body ?? {}, 'API key');
        const auth = requestAuth(res);
        const secret = generateApiKey();
        const row = await db(() =>
          prisma.$transaction(async (tx) => {
            const created = await insertApiKey(tx, {
              secret,
              name: input.name,
              role: input.role,
              createdBy: auth.principal.name,
              expiresAt: input.expiresAt ? new Date(input.expiresAt) : null,
            });
            await recordAudit(tx, auth.audit, {
              action: 'ApiKey.create',
              entityType: 'ApiKey',
              entityId: created.id,
              outcome: 201,
              changedFields: Object.keys(input),
            });
            return created;
          }),
        );
        res
          .status(201)
          .location(`/api/ApiKey/${row.id}`)
          .json({ ...apiKeyView(row), key: secret });
      },
    },
    {
      method: 'get',
      path: '/api/ApiKey',
      role: 'admin',
      action: 'ApiKey.list',
      doc: {
        tags,
        summary: 'List API keys (never their secrets or hashes), newest first',
        parameters: pageParams,
        responses: {
          200: {
            description: 'A page of keys; the total count is in X-Total-Count',
            ...json({ type: 'array', items: { type: 'object', properties: keyProperties } }),
          },
          400: error('Bad pagination'),
        },
      },
      handler: async (req, res) => {
        const page = parseOrThrow(pagination, req.query, 'query', 'query');
        const [rows, total] = await db(() =>
          Promise.all([
            prisma.apiKey.findMany({
              orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
              take: page.limit,
              skip: page.offset,
            }),
            prisma.apiKey.count(),
          ]),
        );
        res.setHeader('X-Total-Count', String(total));
        res.json(rows.map(apiKeyView));
      },
    },
    {
      method: 'delete',
      path: '/api/ApiKey/{id}',
      role: 'admin',
      action: 'ApiKey.revoke',
      doc: {
        tags,
        summary: 'Revoke an API key: it answers 401 at once here and within 5 s on every other API replica',
        parameters: [guidParam('id')],
        responses: {
          204: { description: 'Revoked (revoking twice is fine)' },
          400: error('Malformed GUID'),
          404: error('No such key'),
        },
      },
      handler: async (req, res) => {
        const id = parseGuidParam(req.params.id, 'id');
        const auth = requestAuth(res);
        await db(() =>
          prisma.$transaction(async (tx) => {
            const revoked = await tx.apiKey.updateMany({
              where: { id, revokedAt: null },
              data: { revokedAt: new Date() },
            });
            if (revoked.count === 0 && !(await tx.apiKey.findUnique({ where: { id }, select: { id: true } })))
              throw new NotFoundError('ApiKey', id);
            await recordAudit(tx, auth.audit, {
              action: 'ApiKey.revoke',
              entityType: 'ApiKey',
              entityId: id,
              outcome: 204,
              changedFields: revoked.count > 0 ? ['revokedAt'] : [],
            });
          }),
        );
        keys.forget(id);
        res.status(204).end();
      },
    },
  ];
}
