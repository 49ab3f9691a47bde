import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RunSummary, StepState } from '../../domain/flow-types';
import { ArchiveCache, LastKnownStatus, withArchivedSteps } from './run-chain';

const state = (stepId: string, extra: Partial<StepState> = {}): StepState => ({
  stepId,
  name: stepId.toUpperCase(),
  processor: 'p@1',
  status: 'Succeeded',
  attempts: 1,
  ...extra,
});

const summary = (steps: StepState[], archives?: string[]): RunSummary => ({
  orchestratedFlowId: 'f',
  orchestratedFlowName: 'F',
  workflowId: 'w',
  runId: 'r',
  status: 'Running',
  trigger: 'manual',
  correlationId: 'c',
  startedAt: '2026-12-05T00:00:00.000Z',
  completedSteps: steps.length,
  totalSteps: steps.length,
  currentSteps: [],
  steps,
  ...(archives ? { segments: { count: archives.length + 1, archives } } : {}),
});

describe('withArchivedSteps', () => {
  it('puts archived states in place of their stubs, in workflow order, and leaves the archive list out', async () => {
    const run = summary(
      [
        { ...state('a'), archived: true },
        state('b', { output: 2 }),
        { ...state('c'), archived: true },
        { ...state('d'), archived: true },
      ],
      ['h1', 'h2'],
    );
    const archives: Record<string, StepState[]> = {
      h1: [state('a', { output: 1 })],
      h2: [state('c', { output: 3 })], // d's archive expired: not there
    };
    const whole = await withArchivedSteps(run, (hash) => Promise.resolve(archives[hash] ?? []));
    assert.deepEqual(whole.segments, { count: 3 });
    assert.deepEqual(
      whole.steps.map((s) => [s.stepId, s.output, s.archived]),
      [
        ['a', 1, undefined],
        ['b', 2, undefined],
        ['c', 3, undefined],
        ['d', undefined, undefined],
      ],
    );
  });

  it('answers a summary without archives as it is, reading nothing', async () => {
    const run = summary([state('a')]);
    const whole = await withArchivedSteps(run, () => assert.fail('nothing to read'));
    assert.equal(whole, run);
  });
});

describe('ArchiveCache', () => {
  it('reads an archive once, forgets the oldest past its bound, and keeps neither failures nor expired ones', async () => {
    const cache = new ArchiveCache(2);
    const reads: string[] = [];
    const read = (hash: string, states: StepState[]) => () => {
      reads.push(hash);
      return Promise.resolve(states);
    };
    await cache.get('a', read('a', [state('a')]));
    await cache.get('a', read('a', [state('a')]));
    await cache.get('b', read('b', [state('b')]));
    await cache.get('c', read('c', [state('c')])); // a goes
    await cache.get('a', read('a', [state('a')]));
    await cache.get('gone', read('gone', []));
    await cache.get('gone', read('gone', []));
    await assert.rejects(
      cache.get('bad', () => Promise.reject(new Error('down'))),
      /down/,
    );
    await cache.get('bad', read('bad', [state('x')]));
    assert.deepEqual(reads, ['a', 'b', 'c', 'a', 'gone', 'gone', 'bad']);
  });
});

describe('LastKnownStatus', () => {
  it('keeps the last status of open runs for a while, a bounded few, and never of closed ones', () => {
    let now = Date.parse('2026-12-05T10:00:00.000Z');
    const known = new LastKnownStatus(2, 60_000, () => now);
    known.remember('a', summary([state('x')]));
    assert.equal(known.get('a')?.at, '2026-12-05T10:00:00.000Z');
    assert.equal(known.get('a')?.summary.steps[0]?.stepId, 'x');
    known.remember('b', { ...summary([]), status: 'Paused' });
    known.remember('c', summary([]));
    assert.equal(known.get('a'), undefined, 'the oldest goes past the bound');
    assert.ok(known.get('b') && known.get('c'));
    known.remember('c', { ...summary([]), status: 'Completed' });
    assert.equal(known.get('c'), undefined, 'a closed run is forgotten');
    now += 60_001;
    assert.equal(known.get('b'), undefined, 'expired');
  });
});
