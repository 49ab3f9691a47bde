import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ScheduleDescription } from '@temporalio/client';
import { type TypedSearchAttributes } from '@temporalio/common';
import {
  FLOW_ID_ATTRIBUTE,
  FLOW_NAME_ATTRIBUTE,
  FLOW_TRIGGER_ATTRIBUTE,
} from '../../domain/search-attributes';
import {
  desiredSchedule,
  differences,
  flowIdOfSchedule,
  scheduleIdOf,
  updateOptions,
  type DesiredSchedule,
} from './desired';

const FLOW_ID = '6f1c1d7e-2b4a-4c1e-9d3f-0a1b2c3d4e5f';
const flow = {
  id: FLOW_ID,
  name: 'Nightly',
  cronExpression: ' 0 9 * * * ',
  timezone: 'Europe/Paris',
  overlapPolicy: 'BufferOne' as const,
  catchupWindowMs: 60_000,
  isScheduleEnabled: false,
};

/** What Temporal's describe answers for a schedule made from `wanted` (the parts `differences` reads). */
function described(wanted: DesiredSchedule): ScheduleDescription {
  const options = updateOptions(wanted);
  return {
    scheduleId: wanted.scheduleId,
    spec: {
      calendars: [{ comment: wanted.cronExpression }],
      intervals: [],
      skip: [],
      timezone: wanted.timezone,
    },
    action: { ...options.action, typedSearchAttributes: options.action.typedSearchAttributes },
    policies: {
      overlap: options.policies!.overlap,
      catchupWindow: wanted.catchupWindowMs,
      pauseOnFailure: false,
    },
    state: { paused: wanted.paused, note: wanted.paused ? 'disabled through the API' : '' },
  } as unknown as ScheduleDescription;
}

describe('desiredSchedule', () => {
  it('derives everything from the flow: paused when disabled, UTC when no zone, no schedule without cron', () => {
    assert.deepEqual(desiredSchedule(flow, 'q'), {
      scheduleId: `flow-schedule-${FLOW_ID}`,
      orchestratedFlowId: FLOW_ID,
      orchestratedFlowName: 'Nightly',
      cronExpression: '0 9 * * *',
      timezone: 'Europe/Paris',
      overlapPolicy: 'BufferOne',
      catchupWindowMs: 60_000,
      paused: true,
      taskQueue: 'q',
    });
    assert.equal(desiredSchedule({ ...flow, timezone: null }, 'q')?.timezone, 'UTC');
    assert.equal(desiredSchedule({ ...flow, cronExpression: null }, 'q'), undefined);
  });

  it('starts the interpreter without a correlation ID, with the flow search attributes', () => {
    const { action, state } = updateOptions(desiredSchedule(flow, 'q')!);
    assert.deepEqual(action.args, [{ orchestratedFlowId: FLOW_ID, trigger: 'schedule', input: null }]);
    assert.equal(action.workflowId, `flow-scheduled-${FLOW_ID}`);
    const attributes = action.typedSearchAttributes as TypedSearchAttributes;
    assert.equal(attributes.get(FLOW_ID_ATTRIBUTE), FLOW_ID);
    assert.equal(attributes.get(FLOW_NAME_ATTRIBUTE), 'Nightly');
    assert.equal(attributes.get(FLOW_TRIGGER_ATTRIBUTE), 'schedule');
    assert.deepEqual(state, { paused: true, note: 'disabled through the API' });
  });
});

describe('differences', () => {
  const wanted = desiredSchedule(flow, 'q')!;

  it('finds none in a schedule made from the same flow', () => {
    assert.deepEqual(differences(wanted, described(wanted)), []);
  });

  it('names each aspect that differs', () => {
    const other = desiredSchedule(
      {
        ...flow,
        name: 'Renamed',
        cronExpression: '0 10 * * *',
        timezone: 'UTC',
        overlapPolicy: 'Skip',
        catchupWindowMs: 10_000,
        isScheduleEnabled: true,
      },
      'q',
    )!;
    assert.deepEqual(differences(wanted, described(other)), [
      'cronExpression',
      'timezone',
      'overlapPolicy',
      'catchupWindowMs',
      'paused',
      'action',
    ]);
    assert.deepEqual(differences(wanted, described({ ...wanted, taskQueue: 'elsewhere' })), ['action']);
  });

  it('treats a spec edited behind our back as a changed cron expression', () => {
    const edited = described(wanted);
    edited.spec.intervals = [{ every: 60_000, offset: 0 }];
    assert.deepEqual(differences(wanted, edited), ['cronExpression']);
  });
});

describe('schedule IDs', () => {
  it('round-trip a flow ID and ignore IDs that are not ours', () => {
    assert.equal(flowIdOfSchedule(scheduleIdOf(FLOW_ID)), FLOW_ID);
    assert.equal(flowIdOfSchedule('flow-schedule-not-a-uuid'), undefined);
    assert.equal(flowIdOfSchedule(`other-${FLOW_ID}`), undefined);
  });
});
