import { validateGraph, type GraphProblem, type GraphStep } from './dag';
import { FOR_EACH_MAX_PARALLEL, type FlowSnapshot } from './flow-types';

/** Graph problems, steps whose processor or compensation processor is missing, and for-each specs out of range. */
export type DefinitionProblem =
  | GraphProblem
  | { rule: 'missingProcessor'; stepId: string; message: string }
  | { rule: 'missingCompensationProcessor'; stepId: string; message: string }
  | { rule: 'forEachMaxParallel'; stepId: string; message: string };

/**
 * Every problem that stops a snapshot from running: the graph's (cycles, dangling or missing steps, see dag.ts),
 * steps without a processor or with a compensation whose processor is gone, and for-each steps whose `maxParallel`
 * is not an integer from 1 to FOR_EACH_MAX_PARALLEL. Empty when the definition can run. Pure: used by the API
 * before a start and by the interpreter when a run begins.
 */
export function definitionProblems(snapshot: FlowSnapshot): DefinitionProblem[] {
  const graph = new Map<string, GraphStep>(
    Object.values(snapshot.steps).map((step) => [
      step.id,
      { id: step.id, name: step.name, nextStepIds: step.nextStepIds },
    ]),
  );
  const problems: DefinitionProblem[] = validateGraph(snapshot.stepIds, graph);
  for (const stepId of snapshot.stepIds) {
    const step = snapshot.steps[stepId];
    if (!step) continue;
    if (!step.processor)
      problems.push({
        rule: 'missingProcessor',
        stepId,
        message: `step "${step.name}" (id ${stepId}) has no processor`,
      });
    if (step.compensation && !step.compensation.processor)
      problems.push({
        rule: 'missingCompensationProcessor',
        stepId,
        message: `step "${step.name}" (id ${stepId}) has a compensation without a processor`,
      });
    const maxParallel = step.forEach?.maxParallel;
    if (
      maxParallel !== undefined &&
      !(Number.isInteger(maxParallel) && maxParallel >= 1 && maxParallel <= FOR_EACH_MAX_PARALLEL)
    )
      problems.push({
        rule: 'forEachMaxParallel',
        stepId,
        message:
          `step "${step.name}" (id ${stepId}) runs at most ${String(maxParallel)} items at once: ` +
          `forEach.maxParallel must be an integer from 1 to ${FOR_EACH_MAX_PARALLEL}`,
      });
  }
  return problems;
}
