import { z } from 'zod';
import { SERVER_OWNED_FIELDS } from './entities/base';
import type { AnyEntityDefinition } from './entities/definition';
import { json, ref } from './openapi-parts';
import type { RouteSpec } from './routes/route';
import { runListItemView, runView } from './orchestration/schemas';
import { backfillBody, backfilled, scheduleView, triggered } from './schedules/schemas';

const errorBody = z.object({
  error: z
    .string()
    .meta({ description: 'A stable error code, e.g. ValidationFailed, NotFound, DuplicateKey.' }),
  message: z.string(),
  details: z
    .array(z.object({ field: z.string(), rule: z.string(), message: z.string() }).catchall(z.unknown()))
    .optional(),
});

type JsonSchema = Record<string, unknown>;

function toSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

/**
 * The request body schema. Server-owned and derived fields are accepted (so a fetched entity can be sent back) and
 * ignored; they are listed as readOnly, which also keeps them out of Swagger UI's example bodies.
 */
function inputSchema(def: AnyEntityDefinition): JsonSchema {
  const schema = toSchema(def.input, 'input');
  const ignored = Object.fromEntries(
    [...SERVER_OWNED_FIELDS, ...(def.derivedFields ?? [])].map((field) => [
      field,
      { readOnly: true, description: 'Set by the server; ignored in a request body.' },
    ]),
  );
  return { ...schema, properties: { ...(schema.properties as JsonSchema), ...ignored } };
}

/** What every guarded operation may also answer. */
const guardResponses = {
  401: {
    description:
      'No valid credential (missing, malformed, unknown, expired or revoked: the body does not say which)',
    headers: { 'WWW-Authenticate': { schema: { type: 'string' } } },
    ...json(ref('Error')),
  },
  403: {
    description: "The caller's role is below the route's (details: required, actual)",
    ...json(ref('Error')),
  },
  429: {
    description: 'Over the rate limit (per principal, per API replica); see Retry-After and RateLimit',
    headers: {
      'Retry-After': { schema: { type: 'integer' } },
      'RateLimit-Policy': { schema: { type: 'string' } },
      RateLimit: { schema: { type: 'string' } },
    },
    ...json(ref('Error')),
  },
};

function operation(route: RouteSpec): object {
  const guarded = route.role !== 'public';
  const roleNote = guarded ? `Requires role **${route.role}** or higher.` : 'Public: no credential needed.';
  return {
    ...route.doc,
    operationId: route.action,
    description: route.doc.description ? `${route.doc.description}\n\n${roleNote}` : roleNote,
    'x-required-role': route.role,
    security: guarded ? [{ bearerAuth: [] }, { apiKeyHeader: [] }] : [],
    responses: guarded ? { ...route.doc.responses, ...guardResponses } : route.doc.responses,
  };
}

/** The Swagger UI page: static assets, served beside the route table (see `createApp`). */
export const CONSOLE_PATH = '/ui/';
export const SWAGGER_PATH = '/swagger/';

/**
 * The OpenAPI 3.1 document: its paths are generated from the same route table that registers the express routes
 * (so no route exists undocumented), its schemas from the same zod schemas the routes validate with.
 */
export function buildOpenApiDocument(
  routes: readonly RouteSpec[],
  entities: readonly AnyEntityDefinition[],
  version: string,
): object {
  const schemas: Record<string, JsonSchema> = { Error: toSchema(errorBody, 'output') };
  for (const def of entities) {
    schemas[def.name] = toSchema(def.output, 'output');
    schemas[`${def.name}Input`] = inputSchema(def);
  }
  schemas.FlowSchedule = toSchema(scheduleView, 'output');
  schemas.ScheduleTriggered = toSchema(triggered, 'output');
  schemas.ScheduleBackfillRequest = toSchema(backfillBody, 'input');
  schemas.ScheduleBackfill = toSchema(backfilled, 'output');
  schemas.Run = toSchema(runView, 'output');
  schemas.RunListItem = toSchema(runListItemView, 'output');

  const paths: Record<string, Record<string, object>> = {};
  for (const route of routes) (paths[route.path] ??= {})[route.method] = operation(route);
  paths[CONSOLE_PATH] = {
    get: {
      tags: ['Operations'],
      operationId: 'Console.page',
      summary:
        'The web console (a single-page app: every path under /ui/ answers its page or one of its files)',
      description: 'Public: the page and its files hold no data; the console logs in with /api/Session.',
      'x-required-role': 'public',
      security: [],
      responses: {
        200: { description: 'The console page', content: { 'text/html': {} } },
        503: {
          description: 'The console is not built (npm run console:build)',
          content: { 'text/html': {} },
        },
      },
    },
  };
  paths[SWAGGER_PATH] = {
    get: {
      tags: ['Operations'],
      operationId: 'Docs.swaggerUi',
      summary: 'Swagger UI for this document (use Authorize to send an API key or token)',
      description: 'Public: no credential needed.',
      'x-required-role': 'public',
      security: [],
      responses: { 200: { description: 'The Swagger UI page', content: { 'text/html': {} } } },
    },
  };

  const entityTags = entities.map((def) => ({ name: def.name, description: def.summary }));
  return {
    openapi: '3.1.0',
    info: {
      title: 'FlowOrchestrator API',
      version,
      description:
        'Flow definitions (schemas, processors, steps, workflows, orchestrated flows, assignments, addresses, ' +
        'deliveries), runs and schedules. Authenticate with `Authorization: Bearer <API key or OIDC token>` or ' +
        '`X-API-Key: <API key>`; each operation states the least role it needs (viewer < operator < editor < admin) ' +
        'in `x-required-role`. Errors answer `{ error, message, details? }`; send `X-Correlation-ID` to follow a request.',
    },
    tags: [
      ...entityTags,
      { name: 'Orchestration', description: 'Start, stop and inspect runs.' },
      { name: 'ApiKey', description: 'API keys (admin).' },
      { name: 'Audit', description: 'The audit log (admin).' },
      { name: 'Codec', description: "Temporal's remote codec protocol, for the Web UI (viewer)." },
      { name: 'Operations', description: 'Health, metrics and API documents.' },
    ],
    security: [{ bearerAuth: [] }, { apiKeyHeader: [] }],
    paths,
    components: {
      schemas,
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          description: 'An API key (flo_…) or an OIDC access token from the configured issuer',
        },
        apiKeyHeader: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'An API key (flo_…)' },
      },
    },
  };
}
