import { Router } from 'express';
import { backfillBody } from '../schedules/schemas';
import type { ScheduleService } from '../schedules/service';
import { parseGuidParam, parseOrThrow } from '../validation';

/**
 * `/api/OrchestratedFlow/{id}/schedule…`: a flow's Temporal Schedule. Mounted before the entity's CRUD router;
 * the paths have one more segment than `/{id}`, so the two never overlap.
 */
export function scheduleRouter(schedules: ScheduleService): Router {
  const router = Router();
  const flowId = (id: string | undefined) => parseGuidParam(id, 'id');
  const actor = (locals: Record<string, unknown>) => locals.actor as string;

  router.get('/:id/schedule', async (req, res) => {
    res.json(await schedules.view(flowId(req.params.id)));
  });

  router.post('/:id/schedule/trigger', async (req, res) => {
    res.status(202).json(await schedules.trigger(flowId(req.params.id)));
  });

  router.post('/:id/schedule/backfill', async (req, res) => {
    const id = flowId(req.params.id);
    const range = parseOrThrow(backfillBody, req.body ?? {}, 'backfill request');
    res.status(202).json(await schedules.backfill(id, new Date(range.start), new Date(range.end)));
  });

  router.post('/:id/schedule/pause', async (req, res) => {
    res.json(await schedules.setEnabled(flowId(req.params.id), false, actor(res.locals)));
  });

  router.post('/:id/schedule/resume', async (req, res) => {
    res.json(await schedules.setEnabled(flowId(req.params.id), true, actor(res.locals)));
  });

  return router;
}
