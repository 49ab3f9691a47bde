import { z } from 'zod';
import { SERVER_OWNED_FIELDS } from './entities/base';
import type { AnyEntityDefinition } from './entities/definition';
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

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object) => ({ content: { 'application/json': { schema } } });
const error = (description: string) => ({ description, ...json(ref('Error')) });
const guidParam = (name: string) => ({
  name,
  in: 'path',
  required: true,
  schema: { type: 'string', format: 'uuid' },
});
const pageParams = [
  { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
  { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0, default: 0 } },
];
const listResponse = (name: string) => ({
  description: `A page of ${name} entities; the total count is in X-Total-Count.`,
  headers: { 'X-Total-Count': { schema: { type: 'integer' } } },
  ...json({ type: 'array', items: ref(name) }),
});

function entityPaths(def: AnyEntityDefinition): Record<string, object> {
  const name = def.name;
  const tags = [name];
  const bad = error('Invalid input, malformed JSON or a malformed GUID');
  const unavailable = error('Postgres is unavailable');
  const paths: Record<string, object> = {
    [`/api/${name}`]: {
      get: {
        tags,
        summary: `List ${name} entities`,
        parameters: pageParams,
        responses: { 200: listResponse(name), 400: bad },
      },
      post: {
        tags,
        summary: `Create a ${name}`,
        requestBody: { required: true, ...json(ref(`${name}Input`)) },
        responses: {
          201: { description: 'Created; Location names the new entity', ...json(ref(name)) },
          400: bad,
          409: error('Duplicate composite key, or a referenced entity does not exist'),
          503: unavailable,
        },
      },
    },
    [`/api/${name}/composite/{version}/{name}`]: {
      get: {
        tags,
        summary: `Get a ${name} by its composite key`,
        parameters: [
          { name: 'version', in: 'path', required: true, schema: { type: 'string' } },
          { name: 'name', in: 'path', required: true, schema: { type: 'string' } },
          ...(def.keyHasConnectionString
            ? [{ name: 'connectionString', in: 'query', required: true, schema: { type: 'string' } }]
            : []),
        ],
        responses: {
          200: { description: 'The entity', ...json(ref(name)) },
          400: bad,
          404: error('Not found'),
        },
      },
    },
    [`/api/${name}/{id}`]: {
      parameters: [guidParam('id')],
      get: {
        tags,
        summary: `Get a ${name}`,
        responses: {
          200: { description: 'The entity', ...json(ref(name)) },
          400: bad,
          404: error('Not found'),
        },
      },
      put: {
        tags,
        summary: `Replace a ${name}`,
        requestBody: { required: true, ...json(ref(`${name}Input`)) },
        responses: {
          204: { description: 'Updated' },
          400: bad,
          404: error('Not found'),
          409: error('Conflict'),
          503: unavailable,
        },
      },
      delete: {
        tags,
        summary: `Delete a ${name}`,
        responses: {
          204: { description: 'Deleted' },
          400: bad,
          404: error('Not found'),
          409: error('Still referenced; details name the referrers'),
          503: unavailable,
        },
      },
    },
  };
  for (const lookup of def.lookups ?? [])
    paths[`/api/${name}/${lookup.segment}/{${lookup.param}}`] = {
      get: {
        tags,
        summary: lookup.summary,
        parameters: [guidParam(lookup.param), ...pageParams],
        responses: { 200: listResponse(name), 400: bad },
      },
    };
  return paths;
}

/** `/api/OrchestratedFlow/{id}/schedule…`: a flow's Temporal Schedule. */
function schedulePaths(): Record<string, object> {
  const tags = ['OrchestratedFlow'];
  const parameters = [guidParam('id')];
  const bad = error('A malformed GUID (or backfill range)');
  const missing = error('Unknown flow (NotFound), or the flow has no schedule (NoSchedule)');
  const unavailable = error('Temporal (or Postgres) is unavailable; nothing was changed');
  const view = { description: 'The schedule as Temporal has it', ...json(ref('FlowSchedule')) };
  const toggle = (verb: string, enabled: boolean) => ({
    tags,
    summary: `${verb} the flow's schedule`,
    description:
      `Sets isScheduleEnabled to ${String(enabled)} and ${enabled ? 'unpauses' : 'pauses'} the Temporal Schedule ` +
      'in one transaction: either both change or neither does.',
    responses: { 200: view, 400: bad, 404: missing, 503: unavailable },
  });
  return {
    '/api/OrchestratedFlow/{id}/schedule': {
      parameters,
      get: {
        tags,
        summary: "The flow's schedule: spec, policies, paused state, next run times and recent runs",
        responses: { 200: view, 400: bad, 404: missing, 503: unavailable },
      },
    },
    '/api/OrchestratedFlow/{id}/schedule/trigger': {
      parameters,
      post: {
        tags,
        summary:
          'Start a scheduled run now, honouring the overlap policy (Skip: nothing starts while one is open)',
        responses: {
          202: { description: 'Triggered', ...json(ref('ScheduleTriggered')) },
          400: bad,
          404: missing,
          503: unavailable,
        },
      },
    },
    '/api/OrchestratedFlow/{id}/schedule/backfill': {
      parameters,
      post: {
        tags,
        summary: 'Take every run the schedule would have started between start and end (inclusive), now',
        requestBody: { required: true, ...json(ref('ScheduleBackfillRequest')) },
        responses: {
          202: { description: 'Backfill requested', ...json(ref('ScheduleBackfill')) },
          400: bad,
          404: missing,
          503: unavailable,
        },
      },
    },
    '/api/OrchestratedFlow/{id}/schedule/pause': { parameters, post: toggle('Pause', false) },
    '/api/OrchestratedFlow/{id}/schedule/resume': { parameters, post: toggle('Resume', true) },
  };
}

/** The OpenAPI 3.1 document, generated from the same zod schemas the routes validate with. */
export function buildOpenApiDocument(entities: readonly AnyEntityDefinition[], version: string): object {
  const schemas: Record<string, JsonSchema> = { Error: toSchema(errorBody, 'output') };
  let paths: Record<string, object> = {
    '/health': {
      get: {
        tags: ['Operations'],
        summary: 'Liveness: the API process answers',
        responses: { 200: { description: '`{ status: "Healthy" }`' } },
      },
    },
    '/health/ready': {
      get: {
        tags: ['Operations'],
        summary: 'Readiness: Postgres answers, every migration is applied, Temporal answers',
        responses: {
          200: { description: '`{ status: "Healthy", checks: { postgres, migrations, temporal } }`' },
          503: { description: 'Each failing check names its reason' },
        },
      },
    },
    '/metrics': {
      get: {
        tags: ['Operations'],
        summary: 'Prometheus metrics: HTTP latency, runs started, database pool, process figures',
        responses: { 200: { description: 'Prometheus text exposition format' } },
      },
    },
  };
  for (const def of entities) {
    schemas[def.name] = toSchema(def.output, 'output');
    schemas[`${def.name}Input`] = inputSchema(def);
    paths = { ...paths, ...entityPaths(def) };
    if (def.name === 'OrchestratedFlow') paths = { ...paths, ...schedulePaths() };
  }
  schemas.FlowSchedule = toSchema(scheduleView, 'output');
  schemas.ScheduleTriggered = toSchema(triggered, 'output');
  schemas.ScheduleBackfillRequest = toSchema(backfillBody, 'input');
  schemas.ScheduleBackfill = toSchema(backfilled, 'output');
  return {
    openapi: '3.1.0',
    info: {
      title: 'FlowOrchestrator API',
      version,
      description:
        'Flow definitions (schemas, processors, steps, workflows, orchestrated flows, assignments, addresses, deliveries). ' +
        'Errors answer `{ error, message, details? }`; send `X-Correlation-ID` to follow a request.',
    },
    tags: entities.map((def) => ({ name: def.name, description: def.summary })),
    paths,
    components: { schemas },
  };
}
