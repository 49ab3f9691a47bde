/**
 * A flow's Temporal Schedule follows every write of the flow: create, replace (cron, time zone, overlap policy,
 * catch-up window, enabled, name), cron removed, delete, and the pause / resume routes. Each change is checked in
 * Temporal itself (`describe`) and through `GET /api/OrchestratedFlow/{id}/schedule`.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { TypedSearchAttributes } from '@temporalio/common';
import type { ScheduleDescription } from '@temporalio/client';
import {
  FLOW_ID_ATTRIBUTE,
  FLOW_NAME_ATTRIBUTE,
  FLOW_TRIGGER_ATTRIBUTE,
} from '../../domain/search-attributes';
import { scriptedProcessor } from '../fixtures/scripted-processor';
import { createFlow, startTestEngine, type TestEngine } from '../support/engine';
import { unique } from '../support/fixtures';
import {
  assertNoSchedule,
  createScheduledFlow,
  describeSchedule,
  replaceFlow,
  scheduleIdOf,
  viewOf,
} from './helpers';

const P = `scripted-${unique()}`;
const CRON = '0 9 1 3,4,10,11 *';

function attributes(d: ScheduleDescription): TypedSearchAttributes {
  const raw = d.action.typedSearchAttributes;
  return raw instanceof TypedSearchAttributes ? raw : new TypedSearchAttributes(raw);
}

describe('schedules follow flow writes', () => {
  let engine: TestEngine;
  let workflowId: string;
  before(async () => {
    engine = await startTestEngine([scriptedProcessor(P)]);
    workflowId = (await createFlow(engine.api, { A: { processor: P } })).workflowId;
  });
  after(() => engine.close());

  /** The schedule in Temporal (asserting there is one) and the API's view of it, which must agree. */
  async function schedule(flowId: string, expected: Parameters<typeof viewOf>[2]) {
    const d = await describeSchedule(engine.client, flowId);
    assert.ok(d, `flow ${flowId} has no schedule in Temporal`);
    const view = await engine.api.request('GET', `/api/OrchestratedFlow/${flowId}/schedule`);
    assert.equal(view.status, 200, JSON.stringify(view.body));
    assert.deepEqual(view.body, viewOf(flowId, d, expected));
    return d;
  }

  it('create with a cron expression creates the schedule: spec, zone, policies, action, running', async () => {
    const flow = await createScheduledFlow(engine.api, workflowId, {
      cronExpression: CRON,
      timezone: 'Europe/Paris',
      isScheduleEnabled: true,
      overlapPolicy: 'BufferOne',
      catchupWindowMs: 120_000,
    });
    assert.equal(flow.overlapPolicy, 'BufferOne');
    assert.equal(flow.catchupWindowMs, 120_000);
    const d = await schedule(flow.id, {
      cronExpression: CRON,
      timezone: 'Europe/Paris',
      overlapPolicy: 'BufferOne',
      catchupWindowMs: 120_000,
    });
    assert.equal(d.scheduleId, scheduleIdOf(flow.id));
    assert.deepEqual(
      d.spec.calendars?.map((c) => c.comment),
      [CRON],
    );
    assert.equal(d.spec.timezone, 'Europe/Paris');
    assert.deepEqual(d.policies, { overlap: 'BUFFER_ONE', catchupWindow: 120_000, pauseOnFailure: false });
    assert.deepEqual(d.state, { paused: false, note: '', remainingActions: undefined });
    assert.equal(d.action.workflowType, 'flowInterpreter');
    assert.equal(d.action.taskQueue, engine.taskQueue);
    assert.equal(d.action.workflowId, `flow-scheduled-${flow.id}`);
    assert.deepEqual(d.action.args, [{ orchestratedFlowId: flow.id, trigger: 'schedule', input: null }]);
    const sa = attributes(d);
    assert.equal(sa.get(FLOW_ID_ATTRIBUTE), flow.id);
    assert.equal(sa.get(FLOW_NAME_ATTRIBUTE), flow.name);
    assert.equal(sa.get(FLOW_TRIGGER_ATTRIBUTE), 'schedule');
    assert.equal(d.info.nextActionTimes.length >= 5, true);
  });

  it('create with the schedule disabled creates it paused, with a note; defaults are Skip, 1 min, UTC', async () => {
    const flow = await createScheduledFlow(engine.api, workflowId, { cronExpression: CRON });
    assert.equal(flow.isScheduleEnabled, false);
    const d = await schedule(flow.id, {
      cronExpression: CRON,
      timezone: 'UTC',
      overlapPolicy: 'Skip',
      catchupWindowMs: 60_000,
    });
    assert.deepEqual(d.state, {
      paused: true,
      note: 'disabled through the API',
      remainingActions: undefined,
    });
    assert.deepEqual(d.policies, { overlap: 'SKIP', catchupWindow: 60_000, pauseOnFailure: false });
  });

  it('create without a cron expression creates no schedule', async () => {
    const flow = await createScheduledFlow(engine.api, workflowId);
    await assertNoSchedule(engine.api, engine.client, flow.id, {
      error: 'NoSchedule',
      message: `OrchestratedFlow ${flow.id} has no schedule: it has no cronExpression`,
    });
  });

  it('PUT with a changed cron, time zone, overlap policy, catch-up window or name updates the schedule', async () => {
    let flow = await createScheduledFlow(engine.api, workflowId, {
      cronExpression: CRON,
      isScheduleEnabled: true,
    });
    const expected = {
      cronExpression: CRON,
      timezone: 'UTC',
      overlapPolicy: 'Skip',
      catchupWindowMs: 60_000,
    };
    const changes: Array<[Record<string, unknown>, Partial<typeof expected>]> = [
      [{ cronExpression: '30 6 * * MON-FRI' }, { cronExpression: '30 6 * * MON-FRI' }],
      [{ timezone: 'Asia/Tokyo' }, { timezone: 'Asia/Tokyo' }],
      [{ overlapPolicy: 'AllowAll' }, { overlapPolicy: 'AllowAll' }],
      [{ catchupWindowMs: 3_600_000 }, { catchupWindowMs: 3_600_000 }],
    ];
    for (const [change, effect] of changes) {
      const before = await describeSchedule(engine.client, flow.id);
      await replaceFlow(engine.api, flow, change);
      flow = { ...flow, ...change };
      Object.assign(expected, effect);
      const d = await schedule(flow.id, expected);
      assert.notDeepEqual(d.info.lastUpdatedAt, before?.info.lastUpdatedAt, JSON.stringify(change));
      assert.equal(d.state.paused, false);
    }
    const d = await describeSchedule(engine.client, flow.id);
    assert.deepEqual(d?.policies, { overlap: 'ALLOW_ALL', catchupWindow: 3_600_000, pauseOnFailure: false });
    assert.equal(d?.spec.timezone, 'Asia/Tokyo');

    const name = `renamed-${unique()}`;
    await replaceFlow(engine.api, flow, { name });
    assert.equal(
      attributes((await describeSchedule(engine.client, flow.id))!).get(FLOW_NAME_ATTRIBUTE),
      name,
    );
  });

  it('PUT that changes nothing the schedule depends on does not touch it', async () => {
    const flow = await createScheduledFlow(engine.api, workflowId, { cronExpression: CRON });
    const before = await describeSchedule(engine.client, flow.id);
    await replaceFlow(engine.api, flow, { description: 'only the description changes' });
    const afterPut = await describeSchedule(engine.client, flow.id);
    assert.deepEqual(afterPut?.info.lastUpdatedAt, before?.info.lastUpdatedAt);
    assert.deepEqual(afterPut?.info.createdAt, before?.info.createdAt);
  });

  it('PUT isScheduleEnabled false pauses the schedule with a note; true unpauses it', async () => {
    const flow = await createScheduledFlow(engine.api, workflowId, {
      cronExpression: CRON,
      isScheduleEnabled: true,
    });
    const expected = {
      cronExpression: CRON,
      timezone: 'UTC',
      overlapPolicy: 'Skip',
      catchupWindowMs: 60_000,
    };
    await replaceFlow(engine.api, flow, { isScheduleEnabled: false });
    let d = await schedule(flow.id, expected);
    assert.equal(d.state.paused, true);
    assert.equal(d.state.note, 'disabled through the API');
    await replaceFlow(engine.api, flow, { isScheduleEnabled: true });
    d = await schedule(flow.id, expected);
    assert.equal(d.state.paused, false);
  });

  it('PUT without the cron expression deletes the schedule; adding one back creates it again', async () => {
    const flow = await createScheduledFlow(engine.api, workflowId, { cronExpression: CRON });
    const created = (await describeSchedule(engine.client, flow.id))!.info.createdAt;
    await replaceFlow(engine.api, flow, { cronExpression: null });
    await assertNoSchedule(engine.api, engine.client, flow.id, {
      error: 'NoSchedule',
      message: `OrchestratedFlow ${flow.id} has no schedule: it has no cronExpression`,
    });
    await replaceFlow(engine.api, flow, { cronExpression: '@daily' });
    const d = await schedule(flow.id, {
      cronExpression: '@daily',
      timezone: 'UTC',
      overlapPolicy: 'Skip',
      catchupWindowMs: 60_000,
    });
    assert.ok(d.info.createdAt > created);
  });

  it('DELETE of the flow deletes its schedule', async () => {
    const flow = await createScheduledFlow(engine.api, workflowId, {
      cronExpression: CRON,
      isScheduleEnabled: true,
    });
    assert.ok(await describeSchedule(engine.client, flow.id));
    const deleted = await engine.api.request('DELETE', `/api/OrchestratedFlow/${flow.id}`);
    assert.equal(deleted.status, 204);
    await assertNoSchedule(engine.api, engine.client, flow.id, {
      error: 'NotFound',
      message: `OrchestratedFlow ${flow.id} was not found`,
    });
  });

  it('pause and resume change the schedule and isScheduleEnabled together, and answer the view', async () => {
    const flow = await createScheduledFlow(engine.api, workflowId, {
      cronExpression: CRON,
      timezone: 'Europe/Paris',
      isScheduleEnabled: true,
    });
    const expected = {
      cronExpression: CRON,
      timezone: 'Europe/Paris',
      overlapPolicy: 'Skip',
      catchupWindowMs: 60_000,
    };
    const paused = await engine.api.request('POST', `/api/OrchestratedFlow/${flow.id}/schedule/pause`);
    assert.equal(paused.status, 200, JSON.stringify(paused.body));
    let d = (await describeSchedule(engine.client, flow.id))!;
    assert.deepEqual(paused.body, viewOf(flow.id, d, expected));
    assert.equal(d.state.paused, true);
    assert.equal(d.state.note, 'disabled through the API');
    let stored = await engine.api.request('GET', `/api/OrchestratedFlow/${flow.id}`);
    assert.equal(stored.body.isScheduleEnabled, false);
    assert.ok(stored.body.updatedAt > flow.updatedAt);

    const resumed = await engine.api.request('POST', `/api/OrchestratedFlow/${flow.id}/schedule/resume`);
    assert.equal(resumed.status, 200, JSON.stringify(resumed.body));
    d = (await describeSchedule(engine.client, flow.id))!;
    assert.deepEqual(resumed.body, viewOf(flow.id, d, expected));
    assert.equal(d.state.paused, false);
    stored = await engine.api.request('GET', `/api/OrchestratedFlow/${flow.id}`);
    assert.equal(stored.body.isScheduleEnabled, true);
  });

  it('the schedule routes answer 404 for an unknown flow or one without a schedule, 400 for bad input', async () => {
    const unknown = randomUUID();
    const plain = await createScheduledFlow(engine.api, workflowId);
    const routes: Array<[string, string, unknown?]> = [
      ['GET', 'schedule'],
      ['POST', 'schedule/trigger'],
      ['POST', 'schedule/backfill', { start: '2025-01-01T00:00:00Z', end: '2025-01-01T01:00:00Z' }],
      ['POST', 'schedule/pause'],
      ['POST', 'schedule/resume'],
    ];
    for (const [method, path, body] of routes) {
      const missing = await engine.api.request(method, `/api/OrchestratedFlow/${unknown}/${path}`, body);
      assert.equal(missing.status, 404, `${method} ${path}`);
      assert.deepEqual(missing.body, {
        error: 'NotFound',
        message: `OrchestratedFlow ${unknown} was not found`,
      });
      const none = await engine.api.request(method, `/api/OrchestratedFlow/${plain.id}/${path}`, body);
      assert.equal(none.status, 404, `${method} ${path}`);
      assert.deepEqual(none.body, {
        error: 'NoSchedule',
        message: `OrchestratedFlow ${plain.id} has no schedule: it has no cronExpression`,
      });
      const malformed = await engine.api.request(method, `/api/OrchestratedFlow/nope/${path}`, body);
      assert.equal(malformed.status, 400, `${method} ${path}`);
      assert.equal(malformed.body.details[0].field, 'id');
    }
    // The generic routes under /api/OrchestratedFlow/{id} still answer.
    const got = await engine.api.request('GET', `/api/OrchestratedFlow/${plain.id}`);
    assert.equal(got.status, 200);
    assert.equal(got.body.id, plain.id);
    // isScheduleEnabled stays false: the refused pause / resume wrote nothing.
    assert.equal(got.body.isScheduleEnabled, false);
  });

  it('backfill validates its range: ISO date-times, start before end, nothing else', async () => {
    const flow = await createScheduledFlow(engine.api, workflowId, { cronExpression: CRON });
    const path = `/api/OrchestratedFlow/${flow.id}/schedule/backfill`;
    const cases: Array<[unknown, Array<{ field: string; rule: string }>]> = [
      [
        {},
        [
          { field: 'start', rule: 'required' },
          { field: 'end', rule: 'required' },
        ],
      ],
      [{ start: 'yesterday', end: '2025-01-01T00:00:00Z' }, [{ field: 'start', rule: 'datetime' }]],
      [
        { start: '2025-01-02T00:00:00Z', end: '2025-01-01T00:00:00Z' },
        [{ field: 'end', rule: 'afterStart' }],
      ],
      [
        { start: '2025-01-01T00:00:00Z', end: '2025-01-01T00:00:00Z' },
        [{ field: 'end', rule: 'afterStart' }],
      ],
      [
        { start: '2025-01-01T00:00:00Z', end: '2025-01-01T01:00:00Z', overlap: 'AllowAll' },
        [{ field: 'overlap', rule: 'unknownField' }],
      ],
    ];
    for (const [body, details] of cases) {
      const response = await engine.api.request('POST', path, body);
      assert.equal(response.status, 400, JSON.stringify(body));
      assert.equal(response.body.error, 'ValidationFailed');
      assert.deepEqual(
        response.body.details.map((d: { field: string; rule: string }) => ({ field: d.field, rule: d.rule })),
        details,
        JSON.stringify(body),
      );
    }
  });

  it('refuses schedule fields Temporal cannot honour, and writes nothing', async () => {
    const cases: Array<[Record<string, unknown>, { field: string; rule: string; message: string }]> = [
      [
        { cronExpression: '0 9 * * 1#2' },
        {
          field: 'cronExpression',
          rule: 'cron',
          message:
            'uses "1#2", which Temporal Schedules do not support (no L, W, ? or #: use numbers, names, ranges, lists and steps)',
        },
      ],
      [
        { overlapPolicy: 'Sometimes' },
        {
          field: 'overlapPolicy',
          rule: 'oneOf',
          message: 'must be one of Skip, BufferOne, BufferAll, CancelOther, TerminateOther, AllowAll',
        },
      ],
      [
        { catchupWindowMs: 5_000 },
        { field: 'catchupWindowMs', rule: 'min', message: 'must be at least 10000 (10 seconds)' },
      ],
      [
        { catchupWindowMs: 8 * 24 * 3600 * 1000 },
        { field: 'catchupWindowMs', rule: 'max', message: 'must be at most 604800000 (7 days)' },
      ],
      [
        { catchupWindowMs: 1.5e4 + 0.5 },
        { field: 'catchupWindowMs', rule: 'type', message: 'must be an integer number of milliseconds' },
      ],
    ];
    for (const [fields, detail] of cases) {
      const name = `refused-${unique()}`;
      const response = await engine.api.request('POST', '/api/OrchestratedFlow', {
        version: '1.0',
        name,
        workflowId,
        ...fields,
      });
      assert.equal(response.status, 400, JSON.stringify(fields));
      assert.deepEqual(response.body.details, [detail], JSON.stringify(fields));
      const stored = await engine.api.request('GET', `/api/OrchestratedFlow/composite/1.0/${name}`);
      assert.equal(stored.status, 404);
    }
  });
});
