import { findEntryPoints, validateGraph, type GraphProblem, type GraphStep } from '../../domain/dag';
import type { Db } from './definition';

/** Serialises writes that change the step graph (step edges, workflow step lists) for the transaction's duration. */
export async function lockStepGraph(db: Db): Promise<void> {
  // $executeRaw: the lock function returns void, which $queryRaw cannot deserialize.
  await db.$executeRaw`SELECT pg_advisory_xact_lock(4665428215243849841)`;
}

/** Loads the steps named by `stepIds` with their ordered next steps, keyed by ID. */
export async function loadGraphSteps(db: Db, stepIds: readonly string[]): Promise<Map<string, GraphStep>> {
  const rows = await db.step.findMany({
    where: { id: { in: [...stepIds] } },
    select: { id: true, name: true, next: { select: { nextStepId: true }, orderBy: { position: 'asc' } } },
  });
  return new Map(
    rows.map((row) => [
      row.id,
      { id: row.id, name: row.name, nextStepIds: row.next.map((n) => n.nextStepId) },
    ]),
  );
}

/** Validates the graph of a workflow's step list: every problem at once (see domain/dag.ts). */
export async function workflowGraphProblems(db: Db, stepIds: readonly string[]): Promise<GraphProblem[]> {
  return validateGraph(stepIds, await loadGraphSteps(db, stepIds));
}

/** Entry points of a workflow's step list. */
export async function workflowEntryPoints(db: Db, stepIds: readonly string[]): Promise<string[]> {
  return findEntryPoints(stepIds, await loadGraphSteps(db, stepIds));
}
