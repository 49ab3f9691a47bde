/**
 * Next run times honour the flow's time zone, across daylight-saving changes. Expected times are computed without
 * Temporal: from the EU's DST rule for Europe/Paris, and with cron-parser's time zone support for the others.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CronExpressionParser } from 'cron-parser';
import { scriptedProcessor } from '../fixtures/scripted-processor';
import { createFlow, startTestEngine, type TestEngine } from '../support/engine';
import { unique } from '../support/fixtures';
import { createScheduledFlow } from './helpers';

const P = `scripted-${unique()}`;

/** The next `count` times of `expression` in `tz` after `from`, by cron-parser (an implementation other than Temporal's). */
function cronParserTimes(expression: string, tz: string, from: Date, count = 5): string[] {
  const times = CronExpressionParser.parse(expression, { tz, currentDate: from });
  return Array.from({ length: count }, () => times.next().toDate().toISOString());
}

/**
 * 09:00 Paris time on the 1st of March, April, October and November, the next five after `from`. Paris is UTC+1
 * in winter and UTC+2 from the last Sunday of March to the last Sunday of October, so on those days 09:00 is
 * 08:00Z (1 March, 1 November) or 07:00Z (1 April, 1 October) — every window of five crosses a DST change.
 */
function parisFirstOfMonthTimes(from: Date): string[] {
  const times: string[] = [];
  for (let year = from.getUTCFullYear(); times.length < 5; year++)
    for (const [month, utcHour] of [
      [3, 8],
      [4, 7],
      [10, 7],
      [11, 8],
    ] as const) {
      const time = new Date(Date.UTC(year, month - 1, 1, utcHour));
      if (time > from && times.length < 5) times.push(time.toISOString());
    }
  return times;
}

describe('next run times honour the time zone', () => {
  let engine: TestEngine;
  let workflowId: string;
  before(async () => {
    engine = await startTestEngine([scriptedProcessor(P)]);
    workflowId = (await createFlow(engine.api, { A: { processor: P } })).workflowId;
  });
  after(() => engine.close());

  async function nextRunTimes(fields: Record<string, unknown>): Promise<{ from: Date; times: string[] }> {
    const from = new Date();
    const flow = await createScheduledFlow(engine.api, workflowId, { isScheduleEnabled: true, ...fields });
    const view = await engine.api.request('GET', `/api/OrchestratedFlow/${flow.id}/schedule`);
    assert.equal(view.status, 200, JSON.stringify(view.body));
    assert.equal(view.body.timezone, fields.timezone ?? 'UTC');
    return { from, times: view.body.nextRunTimes };
  }

  it('09:00 in Europe/Paris is 08:00Z in winter and 07:00Z in summer, across both DST changes', async () => {
    const { from, times } = await nextRunTimes({
      cronExpression: '0 9 1 3,4,10,11 *',
      timezone: 'Europe/Paris',
    });
    assert.deepEqual(times, parisFirstOfMonthTimes(from));
    assert.deepEqual(times, cronParserTimes('0 9 1 3,4,10,11 *', 'Europe/Paris', from));
    const hours = new Set(times.map((t) => new Date(t).getUTCHours()));
    assert.deepEqual([...hours].sort(), [7, 8]);
  });

  it('the same cron expression without a time zone runs at 09:00Z, all year', async () => {
    const { from, times } = await nextRunTimes({ cronExpression: '0 9 1 3,4,10,11 *' });
    assert.deepEqual(
      times,
      parisFirstOfMonthTimes(from).map((t) => t.replace(/T0[78]:/, 'T09:')),
    );
  });

  it('America/New_York follows US DST dates (differing from the EU ones)', async () => {
    const { from, times } = await nextRunTimes({
      cronExpression: '0 9 1 3,4,10,11 *',
      timezone: 'America/New_York',
    });
    assert.deepEqual(times, cronParserTimes('0 9 1 3,4,10,11 *', 'America/New_York', from));
    assert.ok(times.some((t) => t.includes('T13:')) && times.some((t) => t.includes('T14:')), times.join());
  });

  it('a daily run at 09:00 Paris time lands on the Paris offset of each day', async () => {
    const { from, times } = await nextRunTimes({ cronExpression: '0 9 * * *', timezone: 'Europe/Paris' });
    assert.deepEqual(times, cronParserTimes('0 9 * * *', 'Europe/Paris', from));
  });

  it('six fields mean leading seconds, as the entity documents (Temporal reads six as ending with a year)', async () => {
    const { from, times } = await nextRunTimes({
      cronExpression: '15 30 9 * * 1-5',
      timezone: 'Asia/Kolkata',
    });
    assert.deepEqual(times, cronParserTimes('15 30 9 * * 1-5', 'Asia/Kolkata', from));
    assert.ok(
      times.every((t) => t.endsWith('T04:00:15.000Z')),
      times.join(),
    );
  });
});
