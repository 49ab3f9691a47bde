import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { definitionProblems } from './definition';
import type { FlowSnapshot, SnapshotProcessor, SnapshotStep } from './flow-types';

const processor = (id: string): SnapshotProcessor => ({
  id,
  name: id,
  version: '1',
  taskQueue: `processor/${id}/1`,
  implementationHash: 'a'.repeat(64),
  inputSchemaId: 's',
  outputSchemaId: 's',
  retryPolicy: null,
  timeouts: null,
});

function step(id: string, more: Partial<SnapshotStep> = {}): SnapshotStep {
  return {
    id,
    version: '1',
    name: id.toUpperCase(),
    entryCondition: 'PreviousSuccess',
    nextStepIds: [],
    configuration: null,
    retryPolicy: null,
    timeouts: null,
    processor: processor(`p-${id}`),
    assignments: [],
    ...more,
  };
}

function snapshot(...steps: SnapshotStep[]): FlowSnapshot {
  return {
    orchestratedFlow: { id: 'f', version: '1', name: 'F' },
    workflow: { id: 'w', version: '1', name: 'W' },
    stepIds: steps.map((s) => s.id),
    steps: Object.fromEntries(steps.map((s) => [s.id, s])),
    hash: 'h',
  };
}

describe('definitionProblems', () => {
  it('accepts steps with a for-each in range and a compensation with its processor', () => {
    assert.deepEqual(
      definitionProblems(
        snapshot(
          step('a', { forEach: { items: '$.orders', maxParallel: 1 } }),
          step('b', { forEach: { items: 'assignments', maxParallel: 100, failurePolicy: 'collect' } }),
          step('c', {
            forEach: { items: '$' },
            compensation: { processor: processor('undo'), configuration: null },
          }),
        ),
      ),
      [],
    );
  });

  it('reports a missing processor and a missing compensation processor, by step', () => {
    const problems = definitionProblems(
      snapshot(
        step('a', { processor: null }),
        step('b', { compensation: { processor: null, configuration: { mode: 'full' } } }),
      ),
    );
    assert.deepEqual(problems, [
      { rule: 'missingProcessor', stepId: 'a', message: 'step "A" (id a) has no processor' },
      {
        rule: 'missingCompensationProcessor',
        stepId: 'b',
        message: 'step "B" (id b) has a compensation without a processor',
      },
    ]);
  });

  it('reports a for-each whose maxParallel is not an integer from 1 to 100', () => {
    const problems = definitionProblems(
      snapshot(
        step('a', { forEach: { items: '$', maxParallel: 0 } }),
        step('b', { forEach: { items: '$', maxParallel: 101 } }),
        step('c', { forEach: { items: '$', maxParallel: 2.5 } }),
        step('d', { forEach: { items: '$', maxParallel: 100 } }),
      ),
    );
    assert.deepEqual(
      problems.map((p) => [p.rule, 'stepId' in p ? p.stepId : undefined]),
      [
        ['forEachMaxParallel', 'a'],
        ['forEachMaxParallel', 'b'],
        ['forEachMaxParallel', 'c'],
      ],
    );
    assert.equal(
      problems[1]!.message,
      'step "B" (id b) runs at most 101 items at once: forEach.maxParallel must be an integer from 1 to 100',
    );
  });
});
