import { snapshotHash } from '../../activities/snapshot';
import { definitionProblems, type DefinitionProblem } from '../../domain/definition';
import type {
  AssignedEntity,
  EntryCondition,
  FlowSnapshot,
  ForEachSpec,
  SnapshotProcessor,
  SnapshotStep,
  StepRetryPolicy,
  StepTimeouts,
} from '../../domain/flow-types';
import { processorTaskQueue } from '../../domain/task-queue';
import { queryPrepared, type PrismaClient } from '../../prisma/client';

/** Validated definitions kept per API process (one per flow; the least recently started goes first). */
const MAX_CACHED_FLOWS = 1_000;

const processorJson = (alias: string) =>
  `json_build_object('id', ${alias}.id, 'name', ${alias}.name, 'version', ${alias}.version,
    'implementationHash', ${alias}.implementation_hash, 'inputSchemaId', ${alias}.input_schema_id,
    'outputSchemaId', ${alias}.output_schema_id, 'retryPolicy', ${alias}.retry_policy, 'timeouts', ${alias}.timeouts)`;
const endpointJson = (alias: string) =>
  `json_build_object('id', ${alias}.id, 'version', ${alias}.version, 'name', ${alias}.name,
    'connectionString', ${alias}.connection_string, 'configuration', ${alias}.configuration,
    'schemaId', ${alias}.schema_id)`;

/**
 * Everything a start needs, in one statement: the flow, its workflow, the workflow's steps in order (each with its
 * next steps, processor and compensation processor), and the flow's assignments in order with their Addresses and
 * Deliveries in order. The same rows `loadFlowSnapshot` (activities/snapshot.ts) reads with Prisma's nested include,
 * which takes about ten queries.
 */
const DEFINITION_SQL = `
SELECT json_build_object(
  'flow', json_build_object('id', f.id, 'version', f.version, 'name', f.name,
    'maxConcurrentSteps', f.max_concurrent_steps),
  'workflow', json_build_object('id', w.id, 'version', w.version, 'name', w.name),
  'steps', (
    SELECT coalesce(json_agg(json_build_object(
      'id', s.id, 'version', s.version, 'name', s.name, 'entryCondition', s.entry_condition,
      'configuration', s.configuration, 'retryPolicy', s.retry_policy, 'timeouts', s.timeouts,
      'forEach', s.for_each, 'compensationProcessorId', s.compensation_processor_id,
      'compensationConfiguration', s.compensation_configuration,
      'nextStepIds', (SELECT coalesce(json_agg(n.next_step_id ORDER BY n.position), '[]'::json)
        FROM step_next n WHERE n.step_id = s.id),
      'processor', (SELECT ${processorJson('p')} FROM processor p WHERE p.id = s.processor_id),
      'compensationProcessor', (SELECT ${processorJson('c')} FROM processor c
        WHERE c.id = s.compensation_processor_id)
    ) ORDER BY ws.position), '[]'::json)
    FROM workflow_step ws JOIN step s ON s.id = ws.step_id WHERE ws.workflow_id = w.id),
  'assignments', (
    SELECT coalesce(json_agg(json_build_object('stepId', a.step_id, 'entities', (
      SELECT coalesce(json_agg(json_build_object(
        'address', (SELECT ${endpointJson('ad')} FROM address ad WHERE ad.id = e.address_id),
        'delivery', (SELECT ${endpointJson('de')} FROM delivery de WHERE de.id = e.delivery_id)
      ) ORDER BY e.position), '[]'::json)
      FROM assignment_entity e WHERE e.assignment_id = a.id)
    ) ORDER BY fa.position), '[]'::json)
    FROM orchestrated_flow_assignment fa JOIN assignment a ON a.id = fa.assignment_id
    WHERE fa.orchestrated_flow_id = f.id)
)::text AS definition
FROM orchestrated_flow f JOIN workflow w ON w.id = f.workflow_id
WHERE f.id = $1::uuid`;

type ProcessorRow = Omit<SnapshotProcessor, 'taskQueue'>;
type EndpointRow = Omit<AssignedEntity, 'kind'>;
interface DefinitionRow {
  flow: { id: string; version: string; name: string; maxConcurrentSteps: number | null };
  workflow: { id: string; version: string; name: string };
  steps: Array<{
    id: string;
    version: string;
    name: string;
    entryCondition: EntryCondition;
    configuration: Record<string, unknown> | null;
    retryPolicy: StepRetryPolicy | null;
    timeouts: StepTimeouts | null;
    forEach: ForEachSpec | null;
    compensationProcessorId: string | null;
    compensationConfiguration: Record<string, unknown> | null;
    nextStepIds: string[];
    processor: ProcessorRow | null;
    compensationProcessor: ProcessorRow | null;
  }>;
  assignments: Array<{
    stepId: string;
    entities: Array<{ address: EndpointRow | null; delivery: EndpointRow | null }>;
  }>;
}

const snapshotProcessor = (p: ProcessorRow): SnapshotProcessor => ({
  id: p.id,
  name: p.name,
  version: p.version,
  taskQueue: processorTaskQueue(p.name, p.version),
  implementationHash: p.implementationHash,
  inputSchemaId: p.inputSchemaId,
  outputSchemaId: p.outputSchemaId,
  retryPolicy: p.retryPolicy ?? null,
  timeouts: p.timeouts ?? null,
});

/** The snapshot `loadFlowSnapshot` builds from the same rows (test/api/start-definition.test.ts holds them equal). */
function snapshotOf(row: DefinitionRow): FlowSnapshot {
  const assignedByStep = new Map<string, AssignedEntity[]>();
  for (const assignment of row.assignments) {
    const list = assignedByStep.get(assignment.stepId) ?? [];
    for (const { address, delivery } of assignment.entities) {
      const entity = address ?? delivery;
      if (!entity) continue;
      list.push({
        id: entity.id,
        kind: address ? 'Address' : 'Delivery',
        version: entity.version,
        name: entity.name,
        connectionString: entity.connectionString,
        configuration: entity.configuration,
        schemaId: entity.schemaId,
      });
    }
    assignedByStep.set(assignment.stepId, list);
  }
  const steps: Record<string, SnapshotStep> = {};
  for (const step of row.steps)
    steps[step.id] = {
      id: step.id,
      version: step.version,
      name: step.name,
      entryCondition: step.entryCondition,
      nextStepIds: step.nextStepIds,
      configuration: step.configuration ?? null,
      retryPolicy: step.retryPolicy ?? null,
      timeouts: step.timeouts ?? null,
      processor: step.processor ? snapshotProcessor(step.processor) : null,
      assignments: assignedByStep.get(step.id) ?? [],
      ...(step.forEach !== null ? { forEach: step.forEach } : {}),
      ...(step.compensationProcessorId !== null
        ? {
            compensation: {
              processor: step.compensationProcessor ? snapshotProcessor(step.compensationProcessor) : null,
              configuration: step.compensationConfiguration ?? null,
            },
          }
        : {}),
    };
  const unhashed: Omit<FlowSnapshot, 'hash'> = {
    orchestratedFlow: { id: row.flow.id, version: row.flow.version, name: row.flow.name },
    workflow: row.workflow,
    stepIds: row.steps.map((s) => s.id),
    steps,
    ...(row.flow.maxConcurrentSteps !== null ? { maxConcurrentSteps: row.flow.maxConcurrentSteps } : {}),
  };
  return { ...unhashed, hash: snapshotHash(unhashed) };
}

/** A flow's definition as a start uses it: the snapshot, why it cannot run (if it cannot), and its JSON size. */
export interface StartDefinition {
  snapshot: FlowSnapshot;
  problems: DefinitionProblem[];
  /** Characters of the snapshot's JSON: small enough, it travels in the run's input. */
  jsonLength: number;
}

/**
 * Loads what a start needs in one query and keeps each flow's validated definition: a start whose definition reads
 * back exactly as last time (the same text from Postgres: nothing it holds was edited) reuses the snapshot, its
 * hash and its validation instead of building and checking them again. The query runs on every start, so an edit is
 * seen at once; the cache only saves the work after it.
 */
export class StartDefinitions {
  private readonly cache = new Map<string, StartDefinition & { text: string }>();

  constructor(private readonly prisma: PrismaClient) {}

  /** The flow's definition; null when the flow does not exist. */
  async load(orchestratedFlowId: string): Promise<StartDefinition | null> {
    const rows = await queryPrepared<{ definition: string }>(
      this.prisma,
      'start-definition',
      DEFINITION_SQL,
      [orchestratedFlowId],
    );
    const text = rows[0]?.definition;
    const cached = this.cache.get(orchestratedFlowId);
    this.cache.delete(orchestratedFlowId);
    if (text === undefined) return null;
    const entry =
      cached?.text === text
        ? cached
        : (() => {
            const snapshot = snapshotOf(JSON.parse(text) as DefinitionRow);
            return {
              text,
              snapshot,
              problems: definitionProblems(snapshot),
              jsonLength: JSON.stringify(snapshot).length,
            };
          })();
    // Most recently started last: the first key is the one to drop.
    this.cache.set(orchestratedFlowId, entry);
    if (this.cache.size > MAX_CACHED_FLOWS) this.cache.delete(this.cache.keys().next().value!);
    return entry;
  }
}
