/** Small builders for the OpenAPI operations the route modules declare. */

export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
export const json = (schema: object) => ({ content: { 'application/json': { schema } } });
export const error = (description: string) => ({ description, ...json(ref('Error')) });
export const guidParam = (name: string) => ({
  name,
  in: 'path',
  required: true,
  schema: { type: 'string', format: 'uuid' },
});
export const pageParams = [
  { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
  { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0, default: 0 } },
];
/** A page of the entity schema `name` (`Step`). */
export const listResponse = (name: string) => ({
  description: `A page of ${name} entities; the total count is in X-Total-Count.`,
  headers: { 'X-Total-Count': { schema: { type: 'integer' } } },
  ...json({ type: 'array', items: ref(name) }),
});
