import type { PrismaClient } from '../../prisma/client';
import { recordAudit } from '../audit/audit';
import { requestAuth } from '../middleware/authorize';
import { error, guidParam, json, ref } from '../openapi-parts';
import { backfillBody } from '../schedules/schemas';
import type { ScheduleService } from '../schedules/service';
import { parseGuidParam, parseOrThrow } from '../validation';
import type { RouteSpec } from './route';

const tags = ['OrchestratedFlow'];
const parameters = [guidParam('id')];
const bad = error('A malformed GUID (or backfill range)');
const missing = error('Unknown flow (NotFound), or the flow has no schedule (NoSchedule)');
const unavailable = error('Temporal (or Postgres) is unavailable; nothing was changed');
const view = { description: 'The schedule as Temporal has it', ...json(ref('FlowSchedule')) };
const flowId = (id: unknown) => parseGuidParam(id, 'id');

/**
 * `/api/OrchestratedFlow/{id}/schedule…`: a flow's Temporal Schedule. Reading is for viewers; trigger, backfill,
 * pause and resume are run control (operator) and audited.
 */
export function scheduleRoutes(schedules: ScheduleService, prisma: PrismaClient): RouteSpec[] {
  const toggle = (verb: 'pause' | 'resume', enabled: boolean): RouteSpec => ({
    method: 'post',
    path: `/api/OrchestratedFlow/{id}/schedule/${verb}`,
    role: 'operator',
    action: `Schedule.${verb}`,
    doc: {
      tags,
      summary: `${verb === 'pause' ? 'Pause' : 'Resume'} the flow's schedule`,
      description:
        `Sets isScheduleEnabled to ${String(enabled)} and ${enabled ? 'unpauses' : 'pauses'} the Temporal Schedule ` +
        'in one transaction: either both change or neither does.',
      parameters,
      responses: { 200: view, 400: bad, 404: missing, 503: unavailable },
    },
    handler: async (req, res) => {
      const auth = requestAuth(res);
      res.json(await schedules.setEnabled(flowId(req.params.id), enabled, auth.principal.name, auth.audit));
    },
  });

  return [
    {
      method: 'get',
      path: '/api/OrchestratedFlow/{id}/schedule',
      role: 'viewer',
      action: 'Schedule.get',
      doc: {
        tags,
        summary: "The flow's schedule: spec, policies, paused state, next run times and recent runs",
        parameters,
        responses: { 200: view, 400: bad, 404: missing, 503: unavailable },
      },
      handler: async (req, res) => {
        res.json(await schedules.view(flowId(req.params.id)));
      },
    },
    {
      method: 'post',
      path: '/api/OrchestratedFlow/{id}/schedule/trigger',
      role: 'operator',
      action: 'Schedule.trigger',
      rateClass: 'start',
      doc: {
        tags,
        summary:
          'Start a scheduled run now, honouring the overlap policy (Skip: nothing starts while one is open)',
        parameters,
        responses: {
          202: { description: 'Triggered', ...json(ref('ScheduleTriggered')) },
          400: bad,
          404: missing,
          503: unavailable,
        },
      },
      handler: async (req, res) => {
        const id = flowId(req.params.id);
        const triggered = await schedules.trigger(id);
        await recordAudit(prisma, requestAuth(res).audit, {
          action: 'Schedule.trigger',
          entityType: 'OrchestratedFlow',
          entityId: id,
          outcome: 202,
        });
        res.status(202).json(triggered);
      },
    },
    {
      method: 'post',
      path: '/api/OrchestratedFlow/{id}/schedule/backfill',
      role: 'operator',
      action: 'Schedule.backfill',
      rateClass: 'start',
      doc: {
        tags,
        summary: 'Take every run the schedule would have started between start and end (inclusive), now',
        parameters,
        requestBody: { required: true, ...json(ref('ScheduleBackfillRequest')) },
        responses: {
          202: { description: 'Backfill requested', ...json(ref('ScheduleBackfill')) },
          400: bad,
          404: missing,
          503: unavailable,
        },
      },
      handler: async (req, res) => {
        const id = flowId(req.params.id);
        const range = parseOrThrow(backfillBody, req.body ?? {}, 'backfill request');
        const backfilled = await schedules.backfill(id, new Date(range.start), new Date(range.end));
        await recordAudit(prisma, requestAuth(res).audit, {
          action: 'Schedule.backfill',
          entityType: 'OrchestratedFlow',
          entityId: id,
          outcome: 202,
        });
        res.status(202).json(backfilled);
      },
    },
    toggle('pause', false),
    toggle('resume', true),
  ];
}
