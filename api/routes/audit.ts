import { z } from 'zod';
import type { PrismaClient } from '../../prisma/client';
import { error, json } from '../openapi-parts';
import { translateDatabaseError } from '../prisma-errors';
import { pagination, parseOrThrow } from '../validation';
import type { RouteSpec } from './route';

const instant = z.iso.datetime({
  offset: true,
  error: 'must be an ISO-8601 date-time, e.g. 2026-01-31T09:00:00Z',
});
const auditQuery = pagination.extend({
  principal: z.string().min(1).max(200).optional(),
  action: z.string().min(1).max(200).optional(),
  entityId: z.string().min(1).max(200).optional(),
  since: instant.optional(),
  until: instant.optional(),
});

const eventSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    time: { type: 'string', format: 'date-time' },
    principal: {
      type: 'string',
      description: 'API key name or JWT subject; `anonymous` for a refused credential',
    },
    role: { type: ['string', 'null'] },
    action: { type: 'string', description: 'e.g. Step.create, Orchestration.start, ApiKey.revoke' },
    entityType: { type: ['string', 'null'] },
    entityId: { type: ['string', 'null'] },
    correlationId: { type: ['string', 'null'] },
    outcome: { type: 'integer', description: 'The HTTP status answered' },
    changedFields: { type: 'array', items: { type: 'string' }, description: 'Names only, never values' },
    clientIp: { type: ['string', 'null'] },
  },
};

/** `GET /api/Audit`: the audit log, newest first (admin). */
export function auditRoutes(prisma: PrismaClient): RouteSpec[] {
  return [
    {
      method: 'get',
      path: '/api/Audit',
      role: 'admin',
      action: 'Audit.list',
      doc: {
        tags: ['Audit'],
        summary:
          'Audit events, newest first: every write, start, stop, key change, and every refused request',
        parameters: [
          { name: 'principal', in: 'query', schema: { type: 'string' } },
          { name: 'action', in: 'query', schema: { type: 'string' } },
          { name: 'entityId', in: 'query', schema: { type: 'string' } },
          { name: 'since', in: 'query', schema: { type: 'string', format: 'date-time' } },
          { name: 'until', in: 'query', schema: { type: 'string', format: 'date-time' } },
          {
            name: 'limit',
            in: 'query',
            schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
          },
          { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0, default: 0 } },
        ],
        responses: {
          200: {
            description: 'A page of events; the total count is in X-Total-Count',
            ...json({ type: 'array', items: eventSchema }),
          },
          400: error('A bad filter or page'),
          503: error('Postgres is unavailable'),
        },
      },
      handler: async (req, res) => {
        const q = parseOrThrow(auditQuery, req.query, 'query', 'query');
        const where = {
          ...(q.principal ? { principal: q.principal } : {}),
          ...(q.action ? { action: q.action } : {}),
          ...(q.entityId ? { entityId: q.entityId } : {}),
          ...(q.since || q.until
            ? {
                time: {
                  ...(q.since ? { gte: new Date(q.since) } : {}),
                  ...(q.until ? { lte: new Date(q.until) } : {}),
                },
              }
            : {}),
        };
        try {
          const [rows, total] = await Promise.all([
            prisma.auditEvent.findMany({
              where,
              orderBy: [{ time: 'desc' }, { id: 'desc' }],
              take: q.limit,
              skip: q.offset,
            }),
            prisma.auditEvent.count({ where }),
          ]);
          res.setHeader('X-Total-Count', String(total));
          res.json(rows.map((row) => ({ ...row, id: row.id.toString(), time: row.time.toISOString() })));
        } catch (err) {
          throw translateDatabaseError(err) ?? err;
        }
      },
    },
  ];
}
