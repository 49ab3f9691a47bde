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
const boolean = z.enum(['true', 'false'], { error: 'must be true or false' }).default('false');
const stopQuery = z.object({ terminate: boolean, compensate: boolean });
const runQuery = z.object({ runId: z.guid({ error: 'must be a GUID' }).optional() });
const pauseBody = z.strictObject({
  reason: z.string().max(500, { error: 'at most 500 characters' }).optional(),
});
const rerunBody = z.strictObject({
  fromStepId: z.guid({ error: 'must be a GUID' }).optional(),
  input: z.unknown().optional(),
  definition: z
    .enum(['recorded', 'current'], { error: 'must be "recorded" or "current"' })
    .default('recorded'),
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

/** The request body as an object (absent: `{}`). @throws ValidationError naming `body` */
function objectBody(body: unknown, example: string): Record<string, unknown> {
  const value: unknown = body ?? {};
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ValidationError('The request body must be a JSON object', [
      { field: 'body', rule: 'object', message: `must be a JSON object such as ${example}` },
    ]);
  return value as Record<string, unknown>;
}

const runIdQuery = {
  name: 'runId',
  in: 'query',
  schema: { type: 'string', format: 'uuid' },
  description: "Which open run; default: the flow's only open run",
} as const;

/** `/api/Orchestration`: start, stop, pause, resume and rerun (operator, audited), status and runs (viewer). */
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
        const { input } = parseOrThrow(startBody, objectBody(req.body, '{"input": …}'), 'start request');
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
          {
            name: 'compensate',
            in: 'query',
            schema: { type: 'string', enum: ['true', 'false'], default: 'false' },
            description:
              'Cancel, then run the compensations of the steps that succeeded (not with terminate)',
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
        const { terminate, compensate } = parseOrThrow(stopQuery, req.query, 'query', 'query');
        if (terminate === 'true' && compensate === 'true')
          throw new ValidationError('A terminated run cannot compensate', [
            {
              field: 'compensate',
              rule: 'notWithTerminate',
              message: 'compensation needs a cancel, not a terminate',
            },
          ]);
        const stopped = await service.stop(flowId, terminate === 'true', compensate === 'true');
        await recordAudit(prisma, requestAuth(res).audit, {
          action: terminate === 'true' ? 'Orchestration.terminate' : 'Orchestration.stop',
          entityType: 'OrchestratedFlow',
          entityId: flowId,
          outcome: 200,
        });
        res.json(stopped);
      },
    },
    ...(['pause', 'resume'] as const).map((action): RouteSpec => ({
      method: 'post',
      path: `/api/Orchestration/${action}/{orchestratedFlowId}`,
      role: 'operator',
      action: `Orchestration.${action}`,
      doc: {
        tags,
        summary:
          action === 'pause'
            ? 'Pause a run: no new step starts until it is resumed; running steps finish and are recorded'
            : 'Resume a paused run',
        parameters: [flowParam, runIdQuery],
        ...(action === 'pause'
          ? {
              requestBody: {
                ...json({
                  type: 'object',
                  properties: { reason: { type: 'string', maxLength: 500 } },
                  additionalProperties: false,
                }),
              },
            }
          : {}),
        responses: {
          200: {
            ...runStatus,
            description: `The run, ${action === 'pause' ? 'Paused (paused: by, at)' : 'Running again'}`,
          },
          400: bad,
          404: error('No such run, or the flow has no open run (NoOpenRun)'),
          409: error(
            action === 'pause'
              ? 'The run is closed (RunClosed), already paused (AlreadyPaused), stopping or finishing (RunNotRunning), or several are open (AmbiguousRun)'
              : 'The run is closed (RunClosed), not paused (NotPaused), or several are open (AmbiguousRun)',
          ),
          503: unavailable,
        },
      },
      handler: async (req, res) => {
        const flowId = parseGuidParam(req.params.orchestratedFlowId, 'orchestratedFlowId');
        const { runId } = parseOrThrow(runQuery, req.query, 'query', 'query');
        const { reason } =
          action === 'pause'
            ? parseOrThrow(pauseBody, objectBody(req.body, '{"reason": "…"}'), 'pause request')
            : {};
        const auth = requestAuth(res);
        const summary = await service.pauseOrResume(action, flowId, runId, {
          by: auth.audit.principal,
          ...(reason ? { reason } : {}),
        });
        await recordAudit(prisma, auth.audit, {
          action: `Orchestration.${action}`,
          entityType: 'OrchestratedFlow',
          entityId: flowId,
          outcome: 200,
        });
        res.json(summary);
      },
    })),
    {
      method: 'post',
      path: '/api/Orchestration/rerun/{orchestratedFlowId}/{runId}',
      role: 'operator',
      action: 'Orchestration.rerun',
      rateClass: 'start',
      doc: {
        tags,
        summary:
          'Rerun a closed run: its failed and cancelled steps (or fromStepId) and everything downstream run again; the other steps keep their recorded outcome and output (Reused)',
        parameters: [flowParam, guidParam('runId')],
        requestBody: {
          ...json({
            type: 'object',
            properties: {
              fromStepId: { type: 'string', format: 'uuid' },
              input: { description: "The new run's input; default: the original run's" },
              definition: {
                type: 'string',
                enum: ['recorded', 'current'],
                default: 'recorded',
                description:
                  "recorded: the original run's definition; current: the stored one, if the reused steps are unchanged",
              },
            },
            additionalProperties: false,
          }),
        },
        responses: {
          202: {
            description: 'Started: the new run, rerunOf, and the step names reused and rerun',
            ...json({
              ...startedRun,
              properties: {
                ...startedRun.properties,
                rerunOf: {
                  type: 'object',
                  properties: {
                    workflowId: { type: 'string' },
                    runId: { type: 'string' },
                    fromStepId: { type: 'string', format: 'uuid' },
                  },
                },
                reused: { type: 'array', items: { type: 'string' } },
                rerun: { type: 'array', items: { type: 'string' } },
              },
            }),
          },
          400: bad,
          404: error('No such run of the flow'),
          409: error(
            'The run is still open (RunStillOpen), a manual run is open (RunAlreadyOpen), nothing failed (NothingToRerun), or reused steps changed (DefinitionChanged, details name them)',
          ),
          422: error('fromStepId is not a step of the run (UnknownStep), or the definition cannot run'),
          503: unavailable,
        },
      },
      handler: async (req, res) => {
        const flowId = parseGuidParam(req.params.orchestratedFlowId, 'orchestratedFlowId');
        const runId = parseGuidParam(req.params.runId, 'runId');
        const body = objectBody(req.body, '{"fromStepId": "…"}');
        const parsed = parseOrThrow(rerunBody, body, 'rerun request');
        const auth = requestAuth(res);
        const started = await service.rerun(flowId, runId, {
          ...(parsed.fromStepId !== undefined ? { fromStepId: parsed.fromStepId } : {}),
          input: parsed.input,
          hasInput: Object.hasOwn(body, 'input'),
          definition: parsed.definition,
          correlationId: auth.audit.correlationId!,
        });
        await recordAudit(prisma, auth.audit, {
          action: 'Orchestration.rerun',
          entityType: 'OrchestratedFlow',
          entityId: flowId,
          outcome: 202,
        });
        res.status(202).json(started);
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
