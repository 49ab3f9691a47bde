import { Router } from 'express';
import { z } from 'zod';
import { ValidationError } from '../errors';
import type { OrchestrationService } from '../orchestration/service';
import { pagination, parseGuidParam, parseOrThrow } from '../validation';

const startBody = z.strictObject({ input: z.unknown().optional() });
const idempotencyKey = z
  .string()
  .regex(/^[A-Za-z0-9._:-]{1,200}$/, { error: 'must be 1-200 characters of letters, digits and . _ : -' });
const stopQuery = z.object({
  terminate: z.enum(['true', 'false'], { error: 'must be true or false' }).default('false'),
});

/** `/api/Orchestration`: start, stop, status and runs of orchestrated flows. */
export function orchestrationRouter(service: OrchestrationService): Router {
  const router = Router();

  router.post('/start/:orchestratedFlowId', async (req, res) => {
    const flowId = parseGuidParam(req.params.orchestratedFlowId, 'orchestratedFlowId');
    const body: unknown = req.body ?? {};
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw new ValidationError('The request body must be a JSON object', [
        { field: 'body', rule: 'object', message: 'must be a JSON object such as {"input": …}' },
      ]);
    const { input } = parseOrThrow(startBody, body, 'start request');
    const key = req.get('Idempotency-Key');
    const started = await service.start(flowId, {
      input,
      correlationId: res.locals.correlationId as string,
      ...(key !== undefined
        ? { idempotencyKey: parseOrThrow(idempotencyKey, key, 'header', 'Idempotency-Key') }
        : {}),
    });
    res.status(202).json(started);
  });

  router.post('/stop/:orchestratedFlowId', async (req, res) => {
    const flowId = parseGuidParam(req.params.orchestratedFlowId, 'orchestratedFlowId');
    const { terminate } = parseOrThrow(stopQuery, req.query, 'query', 'query');
    res.json(await service.stop(flowId, terminate === 'true'));
  });

  router.get('/status/:orchestratedFlowId', async (req, res) => {
    res.json(await service.status(parseGuidParam(req.params.orchestratedFlowId, 'orchestratedFlowId')));
  });

  router.get('/runs/:orchestratedFlowId', async (req, res) => {
    const flowId = parseGuidParam(req.params.orchestratedFlowId, 'orchestratedFlowId');
    const page = parseOrThrow(pagination, req.query, 'query', 'query');
    const { items, total } = await service.runs(flowId, page.limit, page.offset);
    res.setHeader('X-Total-Count', String(total));
    res.json(items);
  });

  router.get('/runs/:orchestratedFlowId/:runId', async (req, res) => {
    const flowId = parseGuidParam(req.params.orchestratedFlowId, 'orchestratedFlowId');
    const runId = parseGuidParam(req.params.runId, 'runId');
    res.json(await service.run(flowId, runId));
  });

  return router;
}
