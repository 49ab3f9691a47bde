import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { processorTaskQueue } from '../domain/task-queue';
import type {
  AssignedEntity,
  FlowSnapshot,
  ForEachSpec,
  SnapshotProcessor,
  SnapshotStep,
  StepRetryPolicy,
  StepTimeouts,
} from '../domain/flow-types';
import type { Prisma, PrismaClient } from '../prisma/client';

/** Failure type when the orchestrated flow does not exist (non-retryable). */
export const FLOW_NOT_FOUND = 'FlowNotFound';

/** SHA-256 of a snapshot's canonical JSON: which definition a run ran (also the API's start path). */
export function snapshotHash(unhashed: Omit<FlowSnapshot, 'hash'>): string {
  return createHash('sha256').update(canonicalJson(unhashed)).digest('hex');
}

/** JSON with object keys sorted, so equal definitions hash equally. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
        )
      : v,
  );
}

function snapshotProcessor(p: Prisma.ProcessorGetPayload<object>): SnapshotProcessor {
  return {
    id: p.id,
    name: p.name,
    version: p.version,
    taskQueue: processorTaskQueue(p.name, p.version),
    implementationHash: p.implementationHash,
    inputSchemaId: p.inputSchemaId,
    outputSchemaId: p.outputSchemaId,
    retryPolicy: (p.retryPolicy as StepRetryPolicy | null) ?? null,
    timeouts: (p.timeouts as StepTimeouts | null) ?? null,
  };
}

/**
 * Loads the whole definition of an orchestrated flow: its workflow, the workflow's steps with their processors and
 * task queues, and the Addresses/Deliveries assigned to each step. Returns null when the flow does not exist.
 * Steps named by the workflow but gone from the database are absent from `steps` (validation reports them).
 */
export async function loadFlowSnapshot(
  prisma: PrismaClient,
  orchestratedFlowId: string,
): Promise<FlowSnapshot | null> {
  const flow = await prisma.orchestratedFlow.findUnique({
    where: { id: orchestratedFlowId },
    include: {
      workflow: {
        include: {
          steps: {
            orderBy: { position: 'asc' },
            include: {
              step: {
                include: {
                  processor: true,
                  compensationProcessor: true,
                  next: { orderBy: { position: 'asc' } },
                },
              },
            },
          },
        },
      },
      assignments: {
        orderBy: { position: 'asc' },
        include: {
          assignment: {
            include: {
              entities: { orderBy: { position: 'asc' }, include: { address: true, delivery: true } },
            },
          },
        },
      },
    },
  });
  if (!flow) return null;

  const assignedByStep = new Map<string, AssignedEntity[]>();
  for (const { assignment } of flow.assignments) {
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
        configuration: entity.configuration as Record<string, string>,
        schemaId: entity.schemaId,
      });
    }
    assignedByStep.set(assignment.stepId, list);
  }

  const steps: Record<string, SnapshotStep> = {};
  for (const { step } of flow.workflow.steps) {
    steps[step.id] = {
      id: step.id,
      version: step.version,
      name: step.name,
      entryCondition: step.entryCondition,
      nextStepIds: step.next.map((n) => n.nextStepId),
      configuration: (step.configuration as Record<string, unknown> | null) ?? null,
      retryPolicy: (step.retryPolicy as StepRetryPolicy | null) ?? null,
      timeouts: (step.timeouts as StepTimeouts | null) ?? null,
      processor: snapshotProcessor(step.processor),
      assignments: assignedByStep.get(step.id) ?? [],
      // Only when set: the snapshots (and hashes) of definitions that use neither stay as they were.
      ...(step.forEach !== null ? { forEach: step.forEach as unknown as ForEachSpec } : {}),
      ...(step.compensationProcessorId !== null
        ? {
            compensation: {
              processor: step.compensationProcessor ? snapshotProcessor(step.compensationProcessor) : null,
              configuration: (step.compensationConfiguration as Record<string, unknown> | null) ?? null,
            },
          }
        : {}),
    };
  }

  const unhashed: Omit<FlowSnapshot, 'hash'> = {
    orchestratedFlow: { id: flow.id, version: flow.version, name: flow.name },
    workflow: { id: flow.workflow.id, version: flow.workflow.version, name: flow.workflow.name },
    stepIds: flow.workflow.steps.map((s) => s.stepId),
    steps,
    ...(flow.maxConcurrentSteps !== null ? { maxConcurrentSteps: flow.maxConcurrentSteps } : {}),
  };
  return { ...unhashed, hash: snapshotHash(unhashed) };
}

/** The interpreter's own activities, built over injected dependencies. */
export function createOrchestratorActivities(deps: { prisma: PrismaClient }) {
  return {
    /**
     * Loads the definition snapshot of a run; recorded in history, so later edits never touch the run.
     * @throws ApplicationFailure FlowNotFound (non-retryable) when the flow was deleted.
     */
    async loadFlowSnapshot(orchestratedFlowId: string): Promise<FlowSnapshot> {
      const snapshot = await loadFlowSnapshot(deps.prisma, orchestratedFlowId);
      if (!snapshot)
        throw ApplicationFailure.nonRetryable(
          `Orchestrated flow ${orchestratedFlowId} does not exist`,
          FLOW_NOT_FOUND,
        );
      return snapshot;
    },
  };
}

export type OrchestratorActivities = ReturnType<typeof createOrchestratorActivities>;
