/** Request and response shapes of the schedule routes, shared by the routes and the OpenAPI document. */
import { z } from 'zod';
import { OVERLAP_POLICIES } from './spec';

const instant = z.iso.datetime({
  offset: true,
  error: 'must be an ISO-8601 date-time, e.g. 2026-01-31T09:00:00Z',
});

/** `POST …/schedule/backfill`: the range whose due runs are taken now. */
export const backfillBody = z
  .strictObject({
    start: instant.meta({ description: 'First instant of the range (inclusive).' }),
    end: instant.meta({ description: 'Last instant of the range (inclusive).' }),
  })
  // Only judged when both parse (an invalid date-time is reported on its own).
  .refine((range) => !(Date.parse(range.start) >= Date.parse(range.end)), {
    path: ['end'],
    error: 'must be after start',
    params: { rule: 'afterStart' },
  });

export const scheduleView = z.object({
  scheduleId: z.string().meta({ description: 'The Temporal Schedule ID: flow-schedule-{flowId}.' }),
  orchestratedFlowId: z.guid(),
  cronExpression: z.string(),
  timezone: z.string().meta({ description: 'IANA time zone the cron expression is read in.' }),
  overlapPolicy: z.enum(OVERLAP_POLICIES),
  catchupWindowMs: z.number().int(),
  paused: z.boolean().meta({ description: 'True while isScheduleEnabled is false.' }),
  note: z.string().optional().meta({ description: "Temporal's note, e.g. why the schedule is paused." }),
  nextRunTimes: z
    .array(z.iso.datetime())
    .meta({ description: 'The next 5 run times (UTC), computed by Temporal in the time zone.' }),
  recentRuns: z
    .array(
      z.object({
        runId: z.string(),
        workflowId: z.string(),
        scheduledAt: z.iso.datetime(),
        startedAt: z.iso.datetime(),
      }),
    )
    .meta({ description: 'The most recent runs Temporal started for the schedule, newest first.' }),
});

export const triggered = z.object({
  message: z.string(),
  orchestratedFlowId: z.guid(),
  scheduleId: z.string(),
  overlapPolicy: z.enum(OVERLAP_POLICIES),
  triggeredAt: z.iso.datetime(),
});

export const backfilled = z.object({
  message: z.string(),
  orchestratedFlowId: z.guid(),
  scheduleId: z.string(),
  overlapPolicy: z.enum(OVERLAP_POLICIES),
  start: z.iso.datetime(),
  end: z.iso.datetime(),
});
