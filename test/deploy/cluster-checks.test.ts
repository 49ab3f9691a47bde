/**
 * The judgements of `npm run test:cluster` (cluster/checks.ts) on made-up evidence: each can fail. The test itself
 * runs in CI through `npm run test:cluster`; these keep its checks honest in `npm test`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkSchedules, ledgerProblems, type ScheduleSnapshot } from '../../cluster/checks';

const pass = (fields: Record<string, number>) =>
  JSON.stringify({ level: 30, msg: 'flow schedules reconciled', ...fields });

describe('test:cluster checks', () => {
  it('a step passes when the recorded attempt is in the ledger and only earlier attempts are besides it', () => {
    assert.deepEqual(ledgerProblems(1, [1]), []);
    assert.deepEqual(ledgerProblems(3, [1, 3]), []); // attempt 1 returned, but its worker died before reporting
  });

  it('a step fails when its recorded result was never counted, counted twice, or counted after', () => {
    assert.match(ledgerProblems(2, [1]).join(), /recorded attempt 2 is not in the ledger/);
    assert.match(ledgerProblems(undefined, [1]).join(), /not in the ledger/);
    assert.match(ledgerProblems(1, [1, 1]).join(), /counted twice/);
    assert.match(ledgerProblems(1, [1, 2]).join(), /after the recorded one/);
  });

  it('schedules: a recreated, updated, new or missing flow schedule fails; the retention schedule may be updated', () => {
    const before: ScheduleSnapshot = new Map([
      ['flow-schedule-a', { createdAt: 't1', updatedAt: '-' }],
      ['flow-data-retention', { createdAt: 't0', updatedAt: '-' }],
    ]);
    const log = [pass({ created: 0, updated: 0, deleted: 0, unchanged: 1, failed: 0 })].join('\n');
    assert.equal(checkSchedules(before, new Map(before), log, 1).ok, true);
    const retentionUpdated = new Map(before).set('flow-data-retention', { createdAt: 't0', updatedAt: 't9' });
    assert.equal(checkSchedules(before, retentionUpdated, log, 1).ok, true);

    const recreated = new Map(before).set('flow-schedule-a', { createdAt: 't5', updatedAt: '-' });
    const updated = new Map(before).set('flow-schedule-a', { createdAt: 't1', updatedAt: 't5' });
    const extra = new Map(before).set('flow-schedule-b', { createdAt: 't5', updatedAt: '-' });
    const missing = new Map([...before].filter(([id]) => id !== 'flow-schedule-a'));
    for (const after of [recreated, updated, extra, missing])
      assert.equal(checkSchedules(before, after, log, 1).ok, false);
  });

  it('schedules: a reconciler pass that changed something, or too few passes, fails', () => {
    const same: ScheduleSnapshot = new Map([['flow-schedule-a', { createdAt: 't1', updatedAt: '-' }]]);
    const changed = pass({ created: 1, updated: 0, deleted: 0, unchanged: 0, failed: 0 });
    assert.equal(checkSchedules(same, same, changed, 1).ok, false);
    const quiet = pass({ created: 0, updated: 0, deleted: 0, unchanged: 1, failed: 0 });
    assert.equal(checkSchedules(same, same, quiet, 2).ok, false); // restarted, but no pass after the restart
    assert.equal(checkSchedules(same, same, `${quiet}\n${quiet}`, 2).ok, true);
  });
});
