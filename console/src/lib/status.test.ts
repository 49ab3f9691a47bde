import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ALL_RUN_LOOKS,
  ALL_STEP_LOOKS,
  STEP_STATUSES,
  contrast,
  isLiveRun,
  isOpenRun,
  RUN_STATUSES,
  nodeAccessibleName,
  runLook,
  stepLook,
} from './status';

describe('status looks', () => {
  it('labels every step status with its own words', () => {
    assert.deepEqual(
      STEP_STATUSES.map((s) => stepLook(s).label),
      ['Pending', 'Running', 'Succeeded', 'Failed', 'Skipped', 'Cancelled'],
    );
    assert.equal(stepLook('NotRun').label, 'Not run');
  });

  it('names a node "<step>: <status>"', () => {
    assert.equal(nodeAccessibleName('Fetch', 'Succeeded'), 'Fetch: Succeeded');
    assert.equal(nodeAccessibleName('Fetch', 'NotRun'), 'Fetch: Not run');
    assert.equal(nodeAccessibleName('a: b', 'Running'), 'a: b: Running');
  });

  it('reads an unknown status as itself', () => {
    assert.equal(stepLook('Paused').label, 'Paused');
    assert.equal(runLook('Continued').label, 'Continued');
  });

  it('labels run statuses for people', () => {
    assert.equal(runLook('TimedOut').label, 'Timed out');
    assert.equal(runLook('Completed').label, 'Completed');
    assert.equal(isOpenRun('Running'), true);
    assert.equal(isOpenRun('Completed'), false);
    assert.equal(isOpenRun(undefined), false);
  });

  it('gives Paused its own look and words, and counts it open', () => {
    const paused = runLook('Paused');
    assert.equal(paused.label, 'Paused');
    assert.ok(RUN_STATUSES.includes('Paused'));
    for (const [status, look] of ALL_RUN_LOOKS.filter(([s]) => s !== 'Paused'))
      assert.notEqual(look.badge, paused.badge, `Paused looks like ${status}`);
    assert.equal(isOpenRun('Paused'), true);
  });

  it('keeps polling a closed run while its compensations run', () => {
    assert.equal(isLiveRun({ status: 'Paused' }), true);
    assert.equal(isLiveRun({ status: 'Failed', compensation: { status: 'Running' } }), true);
    assert.equal(isLiveRun({ status: 'Failed', compensation: { status: 'Completed' } }), false);
    assert.equal(isLiveRun({ status: 'Cancelled' }), false);
    assert.equal(isLiveRun(undefined), false);
  });

  it('reads any unknown run or step status without throwing', () => {
    for (const status of ['', 'Suspended', 'constructor', '__proto__', 'toString']) {
      assert.equal(runLook(status).label, status);
      assert.equal(stepLook(status).label, status);
      assert.equal(isOpenRun(status), false);
    }
  });

  it('keeps badge text (white) and node text (dark) at WCAG AA contrast', () => {
    for (const [status, look] of [...ALL_STEP_LOOKS, ...ALL_RUN_LOOKS]) {
      assert.ok(
        contrast('#ffffff', look.badge) >= 4.5,
        `${status} badge: ${contrast('#ffffff', look.badge)}`,
      );
      assert.ok(contrast('#1f2328', look.background) >= 4.5, `${status} text on fill`);
      // Borders are graphics: WCAG 1.4.11 asks 3:1 against the canvas.
      assert.ok(
        contrast(look.border, '#ffffff') >= 3,
        `${status} border: ${contrast(look.border, '#ffffff')}`,
      );
    }
  });

  it('computes contrast like WCAG', () => {
    assert.equal(Math.round(contrast('#000000', '#ffffff')), 21);
    assert.equal(contrast('#777777', '#777777'), 1);
  });
});
