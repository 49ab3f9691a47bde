import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FlowSnapshot, SnapshotProcessor, SnapshotStep } from './flow-types';
import { pageSnapshot, unpageSnapshot } from './snapshot-pages';

const processor = (id: string): SnapshotProcessor => ({
  id,
  name: `p-${id}`,
  version: '1.0.0',
  taskQueue: `processor/p-${id}/1.0.0`,
  implementationHash: 'h',
  inputSchemaId: 'in',
  outputSchemaId: 'out',
  retryPolicy: null,
  timeouts: { heartbeatMs: 3000 },
});

/** N steps in a chain over two processors; every third step has a compensation on a third one. */
function snapshot(count: number): FlowSnapshot {
  const shared = [processor('a'), processor('b')];
  const undo = processor('undo');
  const steps: Record<string, SnapshotStep> = {};
  const ids = Array.from({ length: count }, (_, i) => `step-${i}`);
  ids.forEach((id, i) => {
    steps[id] = {
      id,
      version: '1',
      name: `Step ${i}`,
      entryCondition: 'PreviousSuccess',
      nextStepIds: i + 1 < count ? [ids[i + 1]!] : [],
      configuration: { index: i },
      retryPolicy: null,
      timeouts: null,
      processor: shared[i % 2]!,
      assignments: [],
      ...(i % 3 === 0 ? { compensation: { processor: undo, configuration: null } } : {}),
    };
  });
  return {
    orchestratedFlow: { id: 'of', version: '1', name: 'Flow' },
    workflow: { id: 'wf', version: '1', name: 'Workflow' },
    // A listed step gone from the database stays listed and absent from the steps.
    stepIds: [...ids, 'gone'],
    steps,
    maxConcurrentSteps: 7,
    hash: 'hash',
  };
}

describe('snapshot pages', () => {
  it('splits a definition into pages under the byte budget and puts it back whole', () => {
    const whole = snapshot(300);
    const paged = pageSnapshot(whole, 4_000);
    assert.ok(paged.pages.length > 5, `${paged.pages.length} pages`);
    for (const page of paged.pages) {
      assert.ok(page.length > 0);
      // A page may pass the budget only by its last step (a step is never split).
      assert.ok(JSON.stringify(page.slice(0, -1)).length <= 4_001);
    }
    assert.deepEqual(
      paged.pages.flat().map((s) => s.id),
      whole.stepIds.slice(0, -1),
      'workflow order',
    );
    assert.deepEqual(
      paged.head.processors.map((p) => p.id),
      ['a', 'undo', 'b'],
      'each processor once, in order of first use',
    );
    assert.deepEqual(unpageSnapshot(paged.head, paged.pages), whole);
  });

  it('keeps a small definition on one page, and a missing processor as null', () => {
    const whole = snapshot(3);
    whole.steps['step-1'] = { ...whole.steps['step-1']!, processor: null };
    const paged = pageSnapshot(whole);
    assert.equal(paged.pages.length, 1);
    assert.equal(paged.pages[0]![1]!.processor, null);
    assert.deepEqual(unpageSnapshot(paged.head, paged.pages), whole);
  });

  it('a 10,000-step definition pages at about 1.5 MB all told, each page under 512 KB', () => {
    const whole = snapshot(10_000);
    const paged = pageSnapshot(whole);
    const sizes = paged.pages.map((page) => JSON.stringify(page).length);
    assert.ok(
      sizes.every((size) => size <= 512 * 1024 + 1),
      JSON.stringify(sizes),
    );
    const total = sizes.reduce((a, b) => a + b, 0) + JSON.stringify(paged.head).length;
    assert.ok(total < JSON.stringify(whole).length / 2, `${total} bytes paged`);
    assert.deepEqual(unpageSnapshot(paged.head, paged.pages), whole);
  });
});
