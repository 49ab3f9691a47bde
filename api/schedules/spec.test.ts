import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cronProblem } from '../../domain/schedule';
import { overlapPolicyOf, temporalCronProblem, toTemporalCron } from './spec';

describe('toTemporalCron', () => {
  it('keeps five fields and macros, and carries the expression as the comment', () => {
    assert.equal(toTemporalCron('0 9 * * MON-FRI'), '0 9 * * MON-FRI # 0 9 * * MON-FRI');
    assert.equal(toTemporalCron('  @daily '), '@daily # @daily');
  });

  it('appends the year to six fields, which Temporal would read as ending with a year', () => {
    assert.equal(toTemporalCron('0 30 9 * * 1-5'), '0 30 9 * * 1-5 * # 0 30 9 * * 1-5');
  });
});

describe('temporalCronProblem', () => {
  it('accepts numbers, names, ranges, lists, steps and macros', () => {
    for (const expression of [
      '*/5 * * * *',
      '0 9 1 3,4,10,11 *',
      '0-30/10 9 * JAN-MAR mon-fri',
      '0 30 9 * * 1-5',
      '5/15 * * * *',
      '@hourly',
    ]) {
      assert.equal(cronProblem(expression), undefined, expression);
      assert.equal(temporalCronProblem(expression), undefined, expression);
    }
  });

  it('refuses what cron-parser accepts but Temporal cannot run, naming each element', () => {
    assert.equal(cronProblem('0 9 * * 1#2'), undefined);
    assert.equal(
      temporalCronProblem('0 9 * * 1#2'),
      'uses "1#2", which Temporal Schedules do not support (no L, W, ? or #: use numbers, names, ranges, lists and steps)',
    );
    assert.match(temporalCronProblem('0 9 L * *') ?? '', /^uses "L", /);
    assert.match(temporalCronProblem('0 9 15W,LW * *') ?? '', /^uses "15W", "LW", /);
    assert.match(temporalCronProblem('0 9 ? * 1') ?? '', /^uses "\?", /);
  });
});

describe('overlapPolicyOf', () => {
  it("maps Temporal's names back to ours", () => {
    assert.equal(overlapPolicyOf('BUFFER_ONE'), 'BufferOne');
    assert.equal(overlapPolicyOf('TERMINATE_OTHER'), 'TerminateOther');
    assert.equal(overlapPolicyOf(undefined), undefined);
  });
});
