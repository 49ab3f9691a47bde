import { z } from 'zod';
import type { CrudService } from '../crud-service';
import type { AnyEntityDefinition } from '../entities/definition';
import { error, guidParam, json, listResponse, pageParams, ref } from '../openapi-parts';
import { pagination, parseGuidParam, parseOrThrow, typeError } from '../validation';
import { requestAuth } from '../middleware/authorize';
import type { RouteSpec } from './route';

/** A part of a composite key: Postgres text cannot hold U+0000, so such a value is a bad request, not a miss. */
const keyPart = z
  .string(typeError('given once'))
  .min(1, { error: 'is required', abort: true })
  .refine((value) => !value.includes('\u0000'), {
    error: 'must not contain the character U+0000',
    params: { rule: 'noNullCharacter' },
  });
const compositeParams = z.object({ version: keyPart, name: keyPart });
const compositeQuery = z.object({ connectionString: keyPart });

/**
 * The spec's routes for one entity: list, get, composite lookup, specialized lookups (viewer); create, replace,
 * delete (editor, audited in the write's transaction).
 */
export function entityRoutes(def: AnyEntityDefinition, crud: CrudService): RouteSpec[] {
  const name = def.name;
  const base = `/api/${name}`;
  const tags = [name];
  const bad = error('Invalid input, malformed JSON or a malformed GUID');
  const unavailable = error('Postgres is unavailable');
  const idParam = [guidParam('id')];

  const routes: RouteSpec[] = [
    {
      method: 'get',
      path: base,
      role: 'viewer',
      action: `${name}.list`,
      doc: {
        tags,
        summary: `List ${name} entities`,
        parameters: pageParams,
        responses: { 200: listResponse(name), 400: bad },
      },
      handler: async (req, res) => {
        const page = parseOrThrow(pagination, req.query, 'query', 'query');
        const { items, total } = await crud.list(def, page, {}, requestAuth(res).principal);
        res.setHeader('X-Total-Count', String(total));
        res.json(items);
      },
    },
    {
      method: 'get',
      path: `${base}/composite/{version}/{name}`,
      role: 'viewer',
      action: `${name}.getByKey`,
      doc: {
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
      handler: async (req, res) => {
        const key: { version: string; name: string; connectionString?: string } = parseOrThrow(
          compositeParams,
          req.params,
          'composite key',
        );
        if (def.keyHasConnectionString)
          key.connectionString = parseOrThrow(compositeQuery, req.query, 'query', 'query').connectionString;
        res.json(await crud.getByKey(def, key, requestAuth(res).principal));
      },
    },
  ];

  for (const lookup of def.lookups ?? [])
    routes.push({
      method: 'get',
      path: `${base}/${lookup.segment}/{${lookup.param}}`,
      role: 'viewer',
      action: `${name}.by${lookup.segment.charAt(0).toUpperCase()}${lookup.segment.slice(1)}`,
      doc: {
        tags,
        summary: lookup.summary,
        parameters: [guidParam(lookup.param), ...pageParams],
        responses: { 200: listResponse(name), 400: bad },
      },
      handler: async (req, res) => {
        const id = parseGuidParam(req.params[lookup.param], lookup.param);
        const page = parseOrThrow(pagination, req.query, 'query', 'query');
        const { items, total } = await crud.list(def, page, lookup.where(id), requestAuth(res).principal);
        res.setHeader('X-Total-Count', String(total));
        res.json(items);
      },
    });

  routes.push(
    {
      method: 'get',
      path: `${base}/{id}`,
      role: 'viewer',
      action: `${name}.get`,
      doc: {
        tags,
        summary: `Get a ${name}`,
        parameters: idParam,
        responses: {
          200: { description: 'The entity', ...json(ref(name)) },
          400: bad,
          404: error('Not found'),
        },
      },
      handler: async (req, res) => {
        res.json(await crud.get(def, parseGuidParam(req.params.id, 'id'), requestAuth(res).principal));
      },
    },
    {
      method: 'post',
      path: base,
      role: 'editor',
      action: `${name}.create`,
      doc: {
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
      handler: async (req, res) => {
        const auth = requestAuth(res);
        const created = (await crud.create(def, req.body, auth.principal, auth.audit)) as { id: string };
        res.status(201).location(`/api/${name}/${created.id}`).json(created);
      },
    },
    {
      method: 'put',
      path: `${base}/{id}`,
      role: 'editor',
      action: `${name}.replace`,
      doc: {
        tags,
        summary: `Replace a ${name}`,
        parameters: idParam,
        requestBody: { required: true, ...json(ref(`${name}Input`)) },
        responses: {
          204: { description: 'Updated' },
          400: bad,
          404: error('Not found'),
          409: error('Conflict'),
          503: unavailable,
        },
      },
      handler: async (req, res) => {
        const auth = requestAuth(res);
        await crud.update(def, parseGuidParam(req.params.id, 'id'), req.body, auth.principal, auth.audit);
        res.status(204).end();
      },
    },
    {
      method: 'delete',
      path: `${base}/{id}`,
      role: 'editor',
      action: `${name}.delete`,
      doc: {
        tags,
        summary: `Delete a ${name}`,
        parameters: idParam,
        responses: {
          204: { description: 'Deleted' },
          400: bad,
          404: error('Not found'),
          409: error('Still referenced; details name the referrers'),
          503: unavailable,
        },
      },
      handler: async (req, res) => {
        await crud.delete(def, parseGuidParam(req.params.id, 'id'), requestAuth(res).audit);
        res.status(204).end();
      },
    },
  );
  return routes;
}
