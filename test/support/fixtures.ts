import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { TestApi } from './api';

/** A short unique suffix so names never collide, even across test files sharing nothing. */
export const unique = () => randomUUID().slice(0, 8);

export const HASH = 'a'.repeat(64);

export const objectSchema = {
  type: 'object',
  properties: { id: { type: 'string' } },
  required: ['id'],
};

/** POSTs and asserts 201, returning the created entity. */
export async function create<T = Record<string, any>>(
  api: TestApi,
  entity: string,
  body: object,
): Promise<T> {
  const response = await api.request<T>('POST', `/api/${entity}`, body);
  assert.equal(
    response.status,
    201,
    `POST /api/${entity} answered ${response.status}: ${JSON.stringify(response.body)}`,
  );
  return response.body;
}

export const createSchema = (api: TestApi, overrides: object = {}) =>
  create(api, 'Schema', {
    version: '1.0',
    name: `schema-${unique()}`,
    definition: objectSchema,
    ...overrides,
  });

export async function createProcessor(api: TestApi, overrides: object = {}) {
  const schema = await createSchema(api);
  return create(api, 'Processor', {
    version: '1.0.0',
    name: `processor-${unique()}`,
    inputSchemaId: schema.id,
    outputSchemaId: schema.id,
    implementationHash: HASH,
    ...overrides,
  });
}

export const createStep = (api: TestApi, processorId: string, overrides: object = {}) =>
  create(api, 'Step', { version: '1.0', name: `step-${unique()}`, processorId, ...overrides });

export const createAddress = (api: TestApi, overrides: object = {}) =>
  create(api, 'Address', {
    version: '1.0',
    name: `address-${unique()}`,
    connectionString: `https://example.test/${unique()}`,
    ...overrides,
  });

export const createDelivery = (api: TestApi, overrides: object = {}) =>
  create(api, 'Delivery', {
    version: '1.0',
    name: `delivery-${unique()}`,
    connectionString: `file:///out/${unique()}.json`,
    ...overrides,
  });
