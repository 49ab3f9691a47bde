import { assignmentEntity } from './assignment';
import type { AnyEntityDefinition } from './definition';
import { addressEntity, deliveryEntity } from './endpoint';
import { orchestratedFlowEntity } from './orchestrated-flow';
import { processorEntity } from './processor';
import { schemaEntity } from './schema';
import { stepEntity } from './step';
import { workflowEntity } from './workflow';

/** Every entity served under /api/{Entity}, in the order of the spec. */
export const ENTITIES: readonly AnyEntityDefinition[] = [
  schemaEntity,
  processorEntity,
  stepEntity,
  workflowEntity,
  orchestratedFlowEntity,
  assignmentEntity,
  addressEntity,
  deliveryEntity,
];

/** Each entity's definition by name. */
export const ENTITY_BY_NAME = Object.fromEntries(ENTITIES.map((def) => [def.name, def])) as Record<
  AnyEntityDefinition['name'],
  AnyEntityDefinition
>;
