import { z } from 'zod';
import type { PrismaClient } from '../../prisma/client';
import { recordAudit } from '../audit/audit';
import { ValidationError } from '../errors';
import { requestAuth } from '../middleware/authorize';
import { error, guidParam, json, pageParams, ref } from '../openapi-parts';
import type { OrchestrationService } from '../orchestration/service';
import { pagination, parseGuidParam, parseOrThrow } from '../validation';
import type { RouteSpec } from './route';

const startBody = z.strictObject({ input: z.unknown().optional() });
const idempotencyKey = z
  .string()
  .regex(/^[A-Za-z0-9._:-]{1,200}$/, { error: 'must be 1-200 characters of letters, digits and . _ : -' });
const stopQuery = z.object({
  terminate: z.enum(['true', 'false'], { error: 'must be true or false' }).default('false'),
});

const tags = ['Orchestration'];
const flowParam = guidParam('orchestratedFlowId');
const bad = error('A malformed GUID, body or query');
const unavailable = error('Temporal (or Postgres) is unavailable');
const startedRun = {
  type: 'object',
  properties: {
    message: { type: 'string' },
    orchestratedFlowId: { type: 'string', format: 'uuid' },
    workflowId: { type: 'string' },
    runId: { type: 'string' },
    correlationId: { type: 'string' },
    startedAt: { type: 'string', format: 'date-time' },
  },
};
const runStatus = {
  description:
    'The run: status (Running, Completed, Failed, Cancelled, Terminated, TimedOut), times, correlation ID, and ' +
    'each step with its state, attempts, times, output or error, and why it was skipped',
  ...json(ref('Run')),
};

/** `/api/Orchestration`: start and stop (operator, audited), status and runs (viewer). */
export function orchestrationRoutes(service: OrchestrationService, prisma: PrismaClient): RouteSpec[] {
  return [
    {
      method: 'post',
      path: '/api/Orchestration/start/{orchestratedFlowId}',
      role: 'operator',
      action: 'Orchestration.start',
      rateClass: 'start',
      doc: {
        tags,
        summary: 'Start a manual run of the flow (at most one manual run is open at a time)',
        parameters: [
          flowParam,
          {
            name: 'Idempotency-Key',
            in: 'header',
            schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,200}$' },
            description: 'A retried start with the same key answers the run the first one started.',
          },
        ],
        requestBody: { ...json({ type: 'object', properties: { input: {} }, additionalProperties: false }) },
        responses: {
          202: { description: 'Started', ...json(startedRun) },
          400: bad,
          404: error('Unknown flow'),
          409: error('A manual run of the flow is still open (RunAlreadyOpen)'),
          422: error('The definition cannot run (InvalidDefinition); details name each problem'),
          503: unavailable,
        },
      },
      handler: async (req, res) => {
        const flowId = parseGuidParam(req.params.orchestratedFlowId, 'orchestratedFlowId');
        const body: unknown = req.body ?? {};
        if (typeof body !== 'object' || body === null || Array.isArray(body))
          throw new ValidationError('The request body must be a JSON object', [
            { field: 'body', rule: 'object', message: 'must be a JSON object such as {"input": …}' },
          ]);
        const { input } = parseOrThrow(startBody, body, 'start request');
        const key = req.get('Idempotency-Key');
        const auth = requestAuth(res);
        const started = await service.start(flowId, {
          input,
          correlationId: auth.audit.correlationId!,
          ...(key !== undefined
            ? { idempotencyKey: parseOrThrow(idempotencyKey, key, 'header', 'Idempotency-Key') }
            : {}),
        });
        await recordAudit(prisma, auth.audit, {
          action: 'Orchestration.start',
          entityType: 'OrchestratedFlow',
          entityId: flowId,
          outcome: 202,
        });
        res.status(202).json(started);
      },
    },
    {
      method: 'post',
      path: '/api/Orchestration/stop/{orchestratedFlowId}',
      role: 'operator',
      action: 'Orchestration.stop',
      doc: {
        tags,
        summary:
          'Stop every open run of the flow: cancel it (running steps see the cancellation), or terminate it',
        parameters: [
          flowParam,
          {
            name: 'terminate',
            in: 'query',
            schema: { type: 'string', enum: ['true', 'false'], default: 'false' },
          },
        ],
        responses: {
          200: { description: 'Stopped (runId, runIds, stoppedAt)', ...json({ type: 'object' }) },
          400: bad,
          404: error('The flow has no open run (NoOpenRun)'),
          503: unavailable,
        },
      },
      handler: async (req, res) => {
        const flowId = parseGuidParam(req.params.orchestratedFlowId, 'orchestratedFlowId');
        const { terminate } = parseOrThrow(stopQuery, req.query, 'query', 'query');
        const stopped = await service.stop(flowId, terminate === 'true');
        await recordAudit(prisma, requestAuth(res).audit, {
          action: terminate === 'true' ? 'Orchestration.terminate' : 'Orchestration.stop',
          entityType: 'OrchestratedFlow',
          entityId: flowId,
          outcome: 200,
        });
        res.json(stopped);
      },
    },
    {
      method: 'get',
      path: '/api/Orchestration/status/{orchestratedFlowId}',
      role: 'viewer',
      action: 'Orchestration.status',
      doc: {
        tags,
        summary: "The latest run's status, whatever started it",
        parameters: [flowParam],
        responses: {
          200: runStatus,
          400: bad,
          404: error('The flow never ran (NeverRan)'),
          503: unavailable,
        },
      },
      handler: async (req, res) => {
        res.json(await service.status(parseGuidParam(req.params.orchestratedFlowId, 'orchestratedFlowId')));
      },
    },
    {
      method: 'get',
      path: '/api/Orchestration/runs/{orchestratedFlowId}',
      role: 'viewer',
      action: 'Orchestration.runs',
      doc: {
        tags,
        summary: "The flow's runs, newest first (manual and scheduled)",
        parameters: [flowParam, ...pageParams],
        responses: {
          200: {
            description: 'A page of runs; the total count is in X-Total-Count',
            headers: { 'X-Total-Count': { schema: { type: 'integer' } } },
            ...json({ type: 'array', items: ref('RunListItem') }),
          },
          400: bad,
          503: unavailable,
        },
      },
      handler: async (req, res) => {
        const flowId = parseGuidParam(req.params.orchestratedFlowId, 'orchestratedFlowId');
        const page = parseOrThrow(pagination, req.query, 'query', 'query');
        const { items, total } = await service.runs(flowId, page.limit, page.offset);
        res.setHeader('X-Total-Count', String(total));
        res.json(items);
      },
    },
    {
      method: 'get',
      path: '/api/Orchestration/runs/{orchestratedFlowId}/{runId}',
      role: 'viewer',
      action: 'Orchestration.run',
      doc: {
        tags,
        summary: "One run's status",
        parameters: [flowParam, guidParam('runId')],
        responses: { 200: runStatus, 400: bad, 404: error('The flow has no such run'), 503: unavailable },
      },
      handler: async (req, res) => {
        const flowId = parseGuidParam(req.params.orchestratedFlowId, 'orchestratedFlowId');
        const runId = parseGuidParam(req.params.runId, 'runId');
        res.json(await service.run(flowId, runId));
      },
    },
    {
      method: 'get',
      path: '/api/Orchestration/runs/{orchestratedFlowId}/{runId}/input',
      role: 'viewer',
      action: 'Orchestration.runInput',
      doc: {
        tags,
        summary: 'The input a run was started with (large inputs: the bytes from the blob store)',
        parameters: [flowParam, guidParam('runId')],
        responses: {
          200: { description: 'The input, as JSON', ...json({}) },
          400: bad,
          404: error('No such run (NotFound), no input (NoInput), or its data is gone (DataExpired)'),
          503: unavailable,
        },
      },
      handler: async (req, res) => {
        const flowId = parseGuidParam(req.params.orchestratedFlowId, 'orchestratedFlowId');
        const runId = parseGuidParam(req.params.runId, 'runId');
        const { bytes, contentType } = await service.runInput(flowId, runId);
        res.type(contentType).send(bytes);
      },
    },
    {
      method: 'get',
      path: '/api/Orchestration/runs/{orchestratedFlowId}/{runId}/steps/{stepId}/output',
      role: 'viewer',
      action: 'Orchestration.stepOutput',
      doc: {
        tags,
        summary:
          "A step's output as the processor produced it (large outputs: the bytes from the blob store)",
        parameters: [flowParam, guidParam('runId'), guidParam('stepId')],
        responses: {
          200: { description: 'The output, as JSON', ...json({}) },
          400: bad,
          404: error(
            'No such run or step (NotFound), no output (NoOutput), or its data is gone (DataExpired)',
          ),
          503: unavailable,
        },
      },
      handler: async (req, res) => {
        const flowId = parseGuidParam(req.params.orchestratedFlowId, 'orchestratedFlowId');
        const runId = parseGuidParam(req.params.runId, 'runId');
        const stepId = parseGuidParam(req.params.stepId, 'stepId');
        const { bytes, contentType } = await service.stepOutput(flowId, runId, stepId);
        res.type(contentType).send(bytes);
      },
    },
  ];
}
