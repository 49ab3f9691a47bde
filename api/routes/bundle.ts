import express, { type RequestHandler } from 'express';
import { bundleJsonSchema } from '../bundle/json-schema';
import { z } from 'zod';
import type { BundleService, PruneOptions } from '../bundle/service';
import { parseOrThrow } from '../validation';
import { BundleSyntaxError, parseBundleText } from '../bundle/yaml';
import { ValidationError } from '../errors';
import { requestAuth } from '../middleware/authorize';
import { error, json } from '../openapi-parts';
import type { RouteSpec } from './route';

const tags = ['Bundle'];
const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml'];

const change = {
  type: 'object',
  properties: {
    kind: { type: 'string' },
    name: { type: 'string' },
    version: { type: 'string' },
    connectionString: { type: 'string' },
    action: { type: 'string', enum: ['create', 'update', 'unchanged', 'delete'] },
    fields: {
      type: 'array',
      items: { type: 'string' },
      description: 'For an update: the fields that change.',
    },
    id: { type: 'string', format: 'uuid' },
  },
  required: ['kind', 'name', 'version', 'action'],
};
const resultSchema = {
  type: 'object',
  properties: {
    changes: { type: 'array', items: change },
    summary: {
      type: 'object',
      properties: {
        create: { type: 'integer' },
        update: { type: 'integer' },
        unchanged: { type: 'integer' },
      },
    },
  },
};
const requestBody = {
  required: true,
  description:
    'The documents, as JSON `{ "documents": [ … ] }`, or a YAML bundle file (application/yaml, documents separated ' +
    'by ---). Up to BUNDLE_BODY_LIMIT (default 32 MB).',
  content: {
    'application/json': {
      schema: { type: 'object', properties: { documents: { type: 'array', items: { type: 'object' } } } },
    },
    'application/yaml': { schema: { type: 'string' } },
  },
};
const responses = (ok: string) => ({
  200: { description: ok, ...json(resultSchema) },
  400: error(
    'The bundle is invalid: every problem at once, each naming the document (index, kind, ref) and field',
  ),
  409: error(
    'A reference or graph rule the store enforces (ReferentialIntegrity, WorkflowGraphConflict, …), or a prune ' +
      'that would delete what something outside the selection refers to',
  ),
  413: error('The body exceeds BUNDLE_BODY_LIMIT'),
  503: error('Postgres or Temporal is unavailable; nothing was changed'),
});

/**
 * The bundle body: JSON or YAML, parsed after the route's guard (an anonymous caller never gets a 32 MB body
 * parsed), with the bundle routes' own size limit.
 */
function bundleBody(limit: string): RequestHandler[] {
  const asYaml: RequestHandler = (req, _res, next) => {
    if (typeof req.body !== 'string') return next();
    try {
      req.body = { documents: parseBundleText(req.body).documents };
      next();
    } catch (cause) {
      if (!(cause instanceof BundleSyntaxError)) return next(cause);
      next(
        new ValidationError(`The bundle is not valid YAML: ${cause.message}`, [
          { field: 'body', rule: 'yaml', message: cause.message, line: cause.line, column: cause.column },
        ]),
      );
    }
  };
  return [express.json({ limit, strict: false }), express.text({ limit, type: YAML_TYPES }), asYaml];
}

const pruneQuery = z
  .strictObject({
    prune: z.enum(['true', 'false'], { error: 'must be true or false' }).default('false'),
    selector: z.string().max(200).optional(),
  })
  .superRefine((query, ctx) => {
    if (query.prune === 'true' && !query.selector)
      ctx.addIssue({
        code: 'custom',
        path: ['selector'],
        message: 'is required with prune=true: it says which stored entities the bundle owns',
        params: { rule: 'required' },
      });
  });

function pruneOf(query: unknown): PruneOptions | undefined {
  const { prune, selector } = parseOrThrow(pruneQuery, query, 'query', 'query');
  return prune === 'true' ? { selector: selector! } : undefined;
}

const pruneParameters = [
  {
    name: 'prune',
    in: 'query',
    schema: { type: 'boolean', default: false },
    description: 'Also delete stored entities the selector matches that the bundle no longer holds.',
  },
  {
    name: 'selector',
    in: 'query',
    schema: { type: 'string' },
    description: 'With prune: a name, or a name prefix ending in * (Greeting*).',
  },
];

/** `/api/Bundle/…` (flows as code) and the bundle JSON Schema for editors. */
export function bundleRoutes(bundles: BundleService, bodyLimit: string): RouteSpec[] {
  const body = bundleBody(bodyLimit);
  const schema = bundleJsonSchema();
  return [
    {
      method: 'post',
      path: '/api/Bundle/plan',
      role: 'editor',
      action: 'Bundle.plan',
      doc: {
        tags,
        summary: 'What applying a bundle would do, per entity: create, update (with the fields), unchanged',
        description:
          'Runs every check apply runs (the REST validation, references, the graph rules) in a transaction that is ' +
          'rolled back: nothing is written, no schedule is touched.',
        parameters: pruneParameters,
        requestBody,
        responses: responses('The plan'),
      },
      handler: [
        ...body,
        async (req, res) => {
          res.json(await bundles.plan(req.body, requestAuth(res).principal, pruneOf(req.query)));
        },
      ],
    },
    {
      method: 'post',
      path: '/api/Bundle/apply',
      role: 'editor',
      action: 'Bundle.apply',
      doc: {
        tags,
        summary: 'Create and update the entities of a bundle, all in one transaction',
        description:
          'Entities are matched by composite key (name, version; and connection string for Address and Delivery); ' +
          'references (name@version) resolve inside the bundle first, then among stored entities. All or nothing: ' +
          'any problem answers 400 or 409 and nothing is written. Audited per entity; schedules are synced as the ' +
          'REST writes sync them. Applying the same bundle again changes nothing.',
        parameters: pruneParameters,
        requestBody,
        responses: responses('What was done'),
      },
      handler: [
        ...body,
        async (req, res) => {
          const auth = requestAuth(res);
          res.json(await bundles.apply(req.body, auth.principal, auth.audit, pruneOf(req.query)));
        },
      ],
    },
    {
      method: 'get',
      path: '/api/Bundle/export',
      role: 'viewer',
      action: 'Bundle.export',
      doc: {
        tags,
        summary: 'A flow and everything it references, as a bundle that applies cleanly on an empty database',
        description:
          'Documents in dependency order, references as name@version, empty and default fields left out. ' +
          'Connection strings and configuration secrets are masked for non-admins, as every read masks them.',
        parameters: [
          {
            name: 'flow',
            in: 'query',
            required: true,
            schema: { type: 'string' },
            description: 'name@version',
          },
        ],
        responses: {
          200: {
            description: 'The bundle',
            ...json({
              type: 'object',
              properties: { documents: { type: 'array', items: { type: 'object' } } },
            }),
          },
          400: error('flow is missing or not name@version'),
          404: error('No such flow'),
        },
      },
      handler: async (req, res) => {
        const flow = typeof req.query.flow === 'string' ? req.query.flow : '';
        res.json(await bundles.export(flow, requestAuth(res).principal));
      },
    },
    {
      method: 'get',
      path: '/schemas/bundle.json',
      role: 'public',
      action: 'Docs.bundleSchema',
      doc: {
        tags,
        summary: 'The JSON Schema of bundle documents, for editors (yaml-language-server: $schema=…)',
        responses: { 200: { description: 'JSON Schema (draft 2020-12)', ...json({ type: 'object' }) } },
      },
      handler: (_req, res) => {
        res.json(schema);
      },
    },
  ];
}
