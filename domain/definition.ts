import { validateGraph, type GraphProblem, type GraphStep } from './dag';
import type { FlowSnapshot } from './flow-types';

/** Graph problems plus steps whose processor is missing. */
export type DefinitionProblem = GraphProblem | { rule: 'missingProcessor'; stepId: string; message: string };

/**
 * Every problem that stops a snapshot from running: the graph's (cycles, dangling or missing steps, see dag.ts) and
 * steps without a processor. Empty when the definition can run. Pure: used by the API before a start and by the
 * interpreter when a run begins.
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
    if (step && !step.processor)
      problems.push({
        rule: 'missingProcessor',
        stepId,
        message: `step "${step.name}" (id ${stepId}) has no processor`,
      });
  }
  return problems;
}
