import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { explainDecision, join, type TraceStep } from './decision';

const time = (iso: string) => `[${iso}]`;
const p = (name: string, status: string) => ({ stepId: `id-${name}`, name, status });
const step = (
  status: string,
  decision?: TraceStep['decision'],
  extra: Partial<TraceStep> = {},
): TraceStep => ({
  name: 'Step',
  status,
  ...(decision && { decision }),
  ...extra,
});

describe('explainDecision: ran', () => {
  it('explains an entry point', () => {
    const trace = explainDecision(
      step('Succeeded', {
        condition: 'PreviousSuccess',
        predecessors: [],
        outcome: 'Run',
        reason: 'entry point: no previous step, the start counts as a success',
      }),
      time,
    );
    assert.equal(
      trace.headline,
      'It ran as an entry point: it has no previous step, and the start counts as a success.',
    );
    assert.deepEqual(trace.predecessors, []);
    assert.equal(trace.reason, 'entry point: no previous step, the start counts as a success');
  });

  it('names the predecessors it waited for and why PreviousSuccess held', () => {
    const trace = explainDecision(
      step('Running', {
        condition: 'PreviousSuccess',
        predecessors: [p('Fetch', 'Succeeded'), p('Parse', 'Succeeded'), p('Audit', 'Skipped')],
        outcome: 'Run',
        reason: 'PreviousSuccess met: "Fetch" Succeeded, "Parse" Succeeded; did not run: "Audit" Skipped',
      }),
      time,
    );
    assert.equal(
      trace.headline,
      'It waited for "Fetch", "Parse" and "Audit" and ran because its condition PreviousSuccess held: every predecessor that ran, "Fetch" and "Parse", succeeded.',
    );
    assert.deepEqual(trace.details, ['"Audit" Skipped: it did not run, so it does not count.']);
    assert.deepEqual(
      trace.predecessors.map((x) => [x.name, x.counted]),
      [
        ['Fetch', true],
        ['Parse', true],
        ['Audit', false],
      ],
    );
  });

  it('explains PreviousSuccess over one predecessor', () => {
    const trace = explainDecision(
      step('Succeeded', {
        condition: 'PreviousSuccess',
        predecessors: [p('Fetch', 'Succeeded')],
        outcome: 'Run',
        reason: 'PreviousSuccess met: "Fetch" Succeeded',
      }),
      time,
    );
    assert.equal(
      trace.headline,
      'It waited for "Fetch" and ran because its condition PreviousSuccess held: "Fetch" succeeded.',
    );
  });

  it('explains a failure handler (PreviousFailure)', () => {
    const trace = explainDecision(
      step('Succeeded', {
        condition: 'PreviousFailure',
        predecessors: [p('Fetch', 'Failed')],
        outcome: 'Run',
        reason: 'PreviousFailure met: "Fetch" Failed',
      }),
      time,
    );
    assert.equal(
      trace.headline,
      'It waited for "Fetch" and ran because its condition PreviousFailure held: "Fetch" failed.',
    );
  });

  it('explains Always', () => {
    const trace = explainDecision(
      step('Succeeded', {
        condition: 'Always',
        predecessors: [p('A', 'Failed'), p('B', 'Succeeded')],
        outcome: 'Run',
        reason: 'Always: "A" Failed, "B" Succeeded',
      }),
      time,
    );
    assert.equal(
      trace.headline,
      'It waited for "A" and "B" and ran because its condition Always runs it whatever they did ("A" Failed and "B" Succeeded).',
    );
  });

  it('adds a cancellation after the step started', () => {
    const trace = explainDecision(
      step(
        'Cancelled',
        { condition: 'PreviousSuccess', predecessors: [p('A', 'Succeeded')], outcome: 'Run', reason: 'x' },
        { completedAt: '2026-01-01T00:00:00Z', reason: 'the run was stopped while the step ran' },
      ),
      time,
    );
    assert.deepEqual(trace.details, [
      'It was cancelled at [2026-01-01T00:00:00Z]: the run was stopped while the step ran.',
    ]);
  });
});

describe('explainDecision: skipped and cancelled', () => {
  it('names the failed predecessor that broke PreviousSuccess', () => {
    const trace = explainDecision(
      step('Skipped', {
        condition: 'PreviousSuccess',
        predecessors: [p('Fetch', 'Failed'), p('Other', 'Succeeded')],
        outcome: 'Skipped',
        reason: 'PreviousSuccess not met: "Fetch" Failed',
      }),
      time,
    );
    assert.equal(
      trace.headline,
      'It was skipped: its condition PreviousSuccess needs every predecessor that ran to succeed, but "Fetch" Failed.',
    );
    assert.equal(trace.reason, 'PreviousSuccess not met: "Fetch" Failed');
    assert.equal(trace.condition, 'PreviousSuccess');
  });

  it('explains a skip that propagates', () => {
    const trace = explainDecision(
      step('Skipped', {
        condition: 'PreviousSuccess',
        predecessors: [p('A', 'Skipped'), p('B', 'Cancelled')],
        outcome: 'Skipped',
        reason: 'no predecessor ran: "A" Skipped, "B" Cancelled',
      }),
      time,
    );
    assert.equal(
      trace.headline,
      'It was skipped because none of its predecessors ran: "A" Skipped and "B" Cancelled.',
    );
  });

  it('explains PreviousFailure not met, Never, and a PreviousFailure entry point', () => {
    const decided = (condition: string, predecessors: ReturnType<typeof p>[]) =>
      explainDecision(step('Skipped', { condition, predecessors, outcome: 'Skipped', reason: 'r' }), time)
        .headline;
    assert.equal(
      decided('PreviousFailure', [p('A', 'Succeeded')]),
      'It was skipped: its condition PreviousFailure needs a predecessor to fail, and none did ("A" Succeeded).',
    );
    assert.equal(decided('Never', [p('A', 'Succeeded')]), 'It was skipped: its condition is Never.');
    assert.match(decided('PreviousFailure', []), /an entry point has none/);
  });

  it('says when and why a step was cancelled before it was decided', () => {
    const trace = explainDecision(
      step(
        'Cancelled',
        {
          condition: 'PreviousSuccess',
          predecessors: [p('A', 'Running')],
          outcome: 'Cancelled',
          reason: 'the run was stopped before the step was decided',
        },
        { completedAt: '2026-01-01T00:00:00Z' },
      ),
      time,
    );
    assert.equal(
      trace.headline,
      'It was cancelled at [2026-01-01T00:00:00Z]: the run was stopped before the step was decided.',
    );
  });
});

describe('explainDecision: reused by a rerun', () => {
  const reused = (reason: string, extra: Partial<TraceStep> = {}) =>
    explainDecision(
      step(
        'Succeeded',
        { condition: 'PreviousSuccess', predecessors: [p('A', 'Pending')], outcome: 'Reused', reason },
        extra,
      ),
      time,
    );

  it('says the step was not run again, and from which run it was reused', () => {
    const trace = reused('reused: Succeeded in run 0b1c-run', { reusedFrom: { runId: '0b1c-run' } });
    assert.equal(trace.headline, 'It was not run again: reused from run 0b1c-run, where it Succeeded.');
    assert.deepEqual(trace.details, [
      'This run carries over its recorded outcome and output; its processor was not called.',
    ]);
    // The predecessors' states in this run did not decide it: none are listed.
    assert.deepEqual(trace.predecessors, []);
    assert.equal(trace.reason, 'reused: Succeeded in run 0b1c-run');
  });

  it('falls back to reusedFrom and the status when the reason has another shape', () => {
    assert.equal(
      reused('carried over', { reusedFrom: { runId: 'r-9' } }).headline,
      'It was not run again: reused from run r-9, where it Succeeded.',
    );
    assert.equal(
      reused('carried over').headline,
      'It was not run again: reused from an earlier run, where it Succeeded.',
    );
  });
});

describe('explainDecision: an outcome this console does not know', () => {
  it('says it as it is rather than calling it a cancellation', () => {
    const trace = explainDecision(
      step('Running', { condition: 'Always', predecessors: [], outcome: 'Deferred', reason: 'waiting' }),
      time,
    );
    assert.equal(trace.headline, 'It was decided: Deferred (waiting).');
  });
});

describe('explainDecision: runs without a trace', () => {
  it('falls back to the status and reason', () => {
    assert.equal(
      explainDecision(step('Pending'), time).headline,
      'Not decided yet: it waits until every predecessor is decided.',
    );
    assert.equal(
      explainDecision(step('Skipped', undefined, { reason: 'PreviousSuccess not met: "A" Failed' }), time)
        .headline,
      'It was skipped: PreviousSuccess not met: "A" Failed.',
    );
    assert.match(explainDecision(step('Succeeded'), time).headline, /does not record/);
  });
});

describe('join', () => {
  it('joins like prose', () => {
    assert.equal(join([]), '');
    assert.equal(join(['a']), 'a');
    assert.equal(join(['a', 'b']), 'a and b');
    assert.equal(join(['a', 'b', 'c']), 'a, b and c');
  });
});
