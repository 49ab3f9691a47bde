import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { ApiClient } from './api';

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
  api: ApiClient,
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

export const createSchema = (api: ApiClient, overrides: object = {}) =>
  create(api, 'Schema', {
    version: '1.0',
    name: `schema-${unique()}`,
    definition: objectSchema,
    ...overrides,
  });

export async function createProcessor(api: ApiClient, overrides: object = {}) {
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

export const createStep = (api: ApiClient, processorId: string, overrides: object = {}) =>
  create(api, 'Step', { version: '1.0', name: `step-${unique()}`, processorId, ...overrides });

export const createAddress = (api: ApiClient, overrides: object = {}) =>
  create(api, 'Address', {
    version: '1.0',
    name: `address-${unique()}`,
    connectionString: `https://example.test/${unique()}`,
    ...overrides,
  });

export const createDelivery = (api: ApiClient, overrides: object = {}) =>
  create(api, 'Delivery', {
    version: '1.0',
    name: `delivery-${unique()}`,
    connectionString: `file:///out/${unique()}.json`,
    ...overrides,
  });

export const createWorkflow = (api: ApiClient, stepIds: string[], overrides: object = {}) =>
  create(api, 'Workflow', { version: '1.0', name: `workflow-${unique()}`, stepIds, ...overrides });

export const createAssignment = (
  api: ApiClient,
  stepId: string,
  entityIds: string[],
  overrides: object = {},
) =>
  create(api, 'Assignment', {
    version: '1.0',
    name: `assignment-${unique()}`,
    stepId,
    entityIds,
    ...overrides,
  });

export const createFlow = (api: ApiClient, workflowId: string, overrides: object = {}) =>
  create(api, 'OrchestratedFlow', {
    version: '1.0',
    name: `flow-${unique()}`,
    workflowId,
    ...overrides,
  });

export const ENTITY_NAMES = [
  'Schema',
  'Processor',
  'Step',
  'Workflow',
  'OrchestratedFlow',
  'Assignment',
  'Address',
  'Delivery',
] as const;
export type EntityName = (typeof ENTITY_NAMES)[number];

/** One existing entity of each kind a body may refer to. */
export interface ReferenceIds {
  schema: string;
  processor: string;
  step: string;
  workflow: string;
  address: string;
}

export async function createReferences(api: ApiClient): Promise<ReferenceIds> {
  const processor = await createProcessor(api);
  const step = await createStep(api, processor.id);
  return {
    schema: processor.inputSchemaId,
    processor: processor.id,
    step: step.id,
    workflow: (await createWorkflow(api, [step.id])).id,
    address: (await createAddress(api)).id,
  };
}

/** A valid body of `entity` with a unique name, referring to `ids`. */
export function validBody(entity: EntityName, ids: ReferenceIds): Record<string, unknown> {
  const base = { version: '1.0', name: `${entity.toLowerCase()}-${unique()}` };
  switch (entity) {
    case 'Schema':
      return { ...base, definition: objectSchema };
    case 'Processor':
      return { ...base, inputSchemaId: ids.schema, outputSchemaId: ids.schema, implementationHash: HASH };
    case 'Step':
      return { ...base, processorId: ids.processor };
    case 'Workflow':
      return { ...base, stepIds: [ids.step] };
    case 'OrchestratedFlow':
      return { ...base, workflowId: ids.workflow };
    case 'Assignment':
      return { ...base, stepId: ids.step, entityIds: [ids.address] };
    case 'Address':
    case 'Delivery':
      return { ...base, connectionString: `https://example.test/${unique()}` };
  }
}
