import { Router } from 'express';
import { z } from 'zod';
import type { CrudService } from '../crud-service';
import type { AnyEntityDefinition } from '../entities/definition';
import { pagination, parseGuidParam, parseOrThrow, typeError } from '../validation';

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

/** The spec's routes for one entity: list, get, composite lookup, specialized lookups, create, replace, delete. */
export function entityRouter(def: AnyEntityDefinition, crud: CrudService): Router {
  const router = Router();
  const actor = (locals: Record<string, unknown>) => locals.actor as string;

  router.get('/', async (req, res) => {
    const page = parseOrThrow(pagination, req.query, 'query', 'query');
    const { items, total } = await crud.list(def, page);
    res.setHeader('X-Total-Count', String(total));
    res.json(items);
  });

  router.get('/composite/:version/:name', async (req, res) => {
    const key: { version: string; name: string; connectionString?: string } = parseOrThrow(
      compositeParams,
      req.params,
      'composite key',
    );
    if (def.keyHasConnectionString)
      key.connectionString = parseOrThrow(compositeQuery, req.query, 'query', 'query').connectionString;
    res.json(await crud.getByKey(def, key));
  });

  for (const lookup of def.lookups ?? []) {
    router.get(`/${lookup.segment}/:${lookup.param}`, async (req, res) => {
      const id = parseGuidParam(req.params[lookup.param], lookup.param);
      const page = parseOrThrow(pagination, req.query, 'query', 'query');
      const { items, total } = await crud.list(def, page, lookup.where(id));
      res.setHeader('X-Total-Count', String(total));
      res.json(items);
    });
  }

  router.get('/:id', async (req, res) => {
    res.json(await crud.get(def, parseGuidParam(req.params.id, 'id')));
  });

  router.post('/', async (req, res) => {
    const created = (await crud.create(def, req.body, actor(res.locals))) as { id: string };
    res.status(201).location(`/api/${def.name}/${created.id}`).json(created);
  });

  router.put('/:id', async (req, res) => {
    await crud.update(def, parseGuidParam(req.params.id, 'id'), req.body, actor(res.locals));
    res.status(204).end();
  });

  router.delete('/:id', async (req, res) => {
    await crud.delete(def, parseGuidParam(req.params.id, 'id'));
    res.status(204).end();
  });

  return router;
}
