import { z } from 'zod';
import { buildGraphView, toMermaid, toSvg, type GraphViewStep } from '../../domain/graph-view';
import type { PrismaClient } from '../../prisma/client';
import { NotFoundError } from '../errors';
import { error, guidParam } from '../openapi-parts';
import { parseGuidParam, parseOrThrow } from '../validation';
import type { RouteSpec } from './route';

const query = z.strictObject({
  format: z.enum(['json', 'mermaid', 'svg'], { error: 'must be json, mermaid or svg' }).default('json'),
});

const graphSchema = {
  type: 'object',
  properties: {
    workflow: { type: 'object' },
    nodes: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: { type: 'string', format: 'uuid' },
          name: { type: 'string' },
          version: { type: 'string' },
          processor: { type: 'string', description: 'name@version' },
          entryCondition: { type: 'string' },
          entryPoint: { type: 'boolean' },
          layer: {
            type: 'integer',
            description: '0 for entry points; one more than the furthest predecessor',
          },
        },
      },
    },
    edges: {
      type: 'array',
      items: { type: 'object', properties: { from: { type: 'string' }, to: { type: 'string' } } },
    },
  },
};

/** `GET /api/Workflow/{id}/graph`: the DAG as nodes and edges, Mermaid, or an SVG to embed. */
export function workflowGraphRoute(prisma: PrismaClient): RouteSpec {
  return {
    method: 'get',
    path: '/api/Workflow/{id}/graph',
    role: 'viewer',
    action: 'Workflow.graph',
    doc: {
      tags: ['Workflow'],
      summary: "The workflow's DAG: nodes (name, processor, entry condition, layer), edges, entry points",
      description:
        'format=json (default), mermaid (flowchart LR, text/plain) or svg (image/svg+xml, for embedding).',
      parameters: [
        guidParam('id'),
        {
          name: 'format',
          in: 'query',
          schema: { type: 'string', enum: ['json', 'mermaid', 'svg'], default: 'json' },
        },
      ],
      responses: {
        200: {
          description: 'The graph',
          content: {
            'application/json': { schema: graphSchema },
            'text/plain': { schema: { type: 'string' } },
            'image/svg+xml': { schema: { type: 'string' } },
          },
        },
        400: error('A malformed GUID or format'),
        404: error('No such workflow'),
      },
    },
    handler: async (req, res) => {
      const id = parseGuidParam(req.params.id, 'id');
      const { format } = parseOrThrow(query, req.query, 'query', 'query');
      const workflow = await prisma.workflow.findUnique({
        where: { id },
        include: {
          steps: {
            orderBy: { position: 'asc' },
            include: {
              step: {
                include: {
                  processor: { select: { name: true, version: true } },
                  next: { orderBy: { position: 'asc' }, select: { nextStepId: true } },
                },
              },
            },
          },
        },
      });
      if (!workflow) throw new NotFoundError('Workflow', id);
      const steps = new Map<string, GraphViewStep>(
        workflow.steps.map(({ step }) => [
          step.id,
          {
            id: step.id,
            name: step.name,
            version: step.version,
            entryCondition: step.entryCondition,
            processor: `${step.processor.name}@${step.processor.version}`,
            nextStepIds: step.next.map((n) => n.nextStepId),
          },
        ]),
      );
      const view = buildGraphView(
        { id: workflow.id, name: workflow.name, version: workflow.version },
        workflow.steps.map((s) => s.stepId),
        steps,
      );
      if (format === 'mermaid') res.type('text/plain').send(`${toMermaid(view)}\n`);
      else if (format === 'svg') res.type('image/svg+xml').send(toSvg(view));
      else res.json(view);
    },
  };
}
