import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  canRerun,
  defaultRerunMode,
  itemsProgress,
  pausedText,
  rerunNotice,
  shortRunId,
  triggerLabel,
  withLiveStatus,
} from './run-control';

const time = (iso: string) => `[${iso}]`;

describe('run control in words', () => {
  it('says who paused a run, when, and why when given', () => {
    assert.equal(
      pausedText({ by: 'ops', at: '2026-01-01T00:00:00Z', reason: 'partner maintenance' }, time),
      'Paused by ops at [2026-01-01T00:00:00Z] (partner maintenance)',
    );
    assert.equal(pausedText({ by: 'ops', at: 'T' }, time), 'Paused by ops at [T]');
  });

  it('labels triggers, an unknown one as itself', () => {
    assert.deepEqual(['manual', 'schedule', 'rerun', 'webhook'].map(triggerLabel), [
      'Manual',
      'Schedule',
      'Rerun',
      'webhook',
    ]);
  });

  it('shortens a run ID to its first block', () => {
    assert.equal(shortRunId('0195d3c2-7a1b-7000-8000-000000000001'), '0195d3c2');
    assert.equal(shortRunId('plain'), 'plain');
  });

  it('counts for-each items, leaving out the zeros', () => {
    assert.equal(
      itemsProgress({ total: 50, done: 12, failed: 1, running: 5 }),
      '12/50 done, 1 failed, 5 running',
    );
    assert.equal(itemsProgress({ total: 50, done: 50, failed: 0, running: 0 }), '50/50 done');
    assert.equal(itemsProgress({ total: 3, done: 0, failed: 0, running: 2 }), '0/3 done, 2 running');
    assert.equal(itemsProgress({ total: 0, done: 0, failed: 0, running: 0 }), 'no items');
  });

  it('reruns the failed steps by default, or asks for a step when nothing failed', () => {
    const run = (...statuses: string[]) => ({
      totalSteps: statuses.length,
      steps: statuses.map((status) => ({ status })),
    });
    assert.equal(defaultRerunMode(run('Succeeded', 'Failed', 'Skipped')), 'failed');
    assert.equal(defaultRerunMode(run('Succeeded', 'Cancelled')), 'failed');
    assert.equal(defaultRerunMode(run('Succeeded', 'Pending')), 'failed');
    assert.equal(defaultRerunMode({ totalSteps: 3, steps: [{ status: 'Succeeded' }] }), 'failed');
    assert.equal(defaultRerunMode(run('Succeeded', 'Skipped')), 'step');
  });

  it('reruns only runs that closed, with their compensations done', () => {
    assert.equal(canRerun({ status: 'Failed' }), true);
    assert.equal(canRerun({ status: 'Completed' }), true);
    assert.equal(canRerun({ status: 'Running' }), false);
    assert.equal(canRerun({ status: 'Paused' }), false);
    assert.equal(canRerun({ status: 'Failed', compensation: { status: 'Running' } }), false);
    assert.equal(canRerun({ status: 'Failed', compensation: { status: 'Failed' } }), true);
  });

  it('says what a rerun reused and what runs again', () => {
    assert.equal(
      rerunNotice({ reused: ['S1', 'S2'], rerun: ['S3', 'S4'] }),
      'Rerun started: "S1" and "S2" reused; "S3" and "S4" run again.',
    );
    assert.equal(
      rerunNotice({ reused: [], rerun: ['S1'] }),
      'Rerun started: nothing reused; "S1" runs again.',
    );
    assert.equal(rerunNotice({}), 'Rerun started: nothing reused.');
  });

  it("shows the selected run's live status in the runs list while it is open", () => {
    const runs = [
      { runId: 'a', status: 'Running' },
      { runId: 'b', status: 'Running' },
      { runId: 'c', status: 'Failed' },
    ];
    assert.deepEqual(
      withLiveStatus(runs, { runId: 'a', status: 'Paused' }).map((r) => r.status),
      ['Paused', 'Running', 'Failed'],
    );
    // A closed run's listing is final: a stale live status does not overwrite it.
    assert.deepEqual(
      withLiveStatus(runs, { runId: 'c', status: 'Running' }).map((r) => r.status),
      ['Running', 'Running', 'Failed'],
    );
    assert.deepEqual(withLiveStatus(runs, undefined), runs);
  });
});
