import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import { Client, type Connection } from '@temporalio/client';
import express, { type Express } from 'express';
import type { Logger } from 'pino';
import swaggerUi from 'swagger-ui-express';
import { ApiMetrics } from '../infra/metrics';
import { poolFigures, type PrismaClient } from '../prisma/client';
import { CrudService } from './crud-service';
import { ENTITIES } from './entities';
import { errorHandler, notFound } from './middleware/errors';
import { requestContext } from './middleware/correlation';
import { buildOpenApiDocument } from './openapi';
import { entityRouter } from './routes/entities';
import { healthRouter } from './routes/health';
import { orchestrationRouter } from './routes/orchestration';
import { scheduleRouter } from './routes/schedules';
import { OrchestrationService } from './orchestration/service';
import { withScheduleSync } from './schedules/entity';
import { ScheduleService } from './schedules/service';

export interface AppDeps {
  prisma: PrismaClient;
  temporal: Connection;
  logger: Logger;
  /** Temporal namespace of the runs (default `default`). */
  namespace?: string;
  /**
   * Task queue the interpreter's workers poll (default `flow-orchestrator`; tests use their own): manual runs and
   * the runs of flow schedules start there.
   */
  orchestratorTaskQueue?: string;
  bodyLimit?: string;
  version?: string;
  /** Served at `GET /metrics`; default: a registry of its own over the Prisma client's pool. */
  metrics?: ApiMetrics;
}

/** Builds the express application. Thin: routes parse, services decide, one middleware maps errors. */
export function createApp({
  prisma,
  temporal,
  logger,
  namespace = 'default',
  orchestratorTaskQueue,
  bodyLimit = '1mb',
  version = '0.1.0',
  metrics = new ApiMetrics(() => poolFigures(prisma)),
}: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(requestContext(logger, metrics));
  app.use(express.json({ limit: bodyLimit, strict: false }));

  app.use(healthRouter({ prisma, temporal }));
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  const openApi = buildOpenApiDocument(ENTITIES, version);
  app.get('/openapi.json', (_req, res) => {
    res.json(openApi);
  });
  app.use('/swagger', swaggerUi.serve, swaggerUi.setup(openApi, { customSiteTitle: 'FlowOrchestrator API' }));

  const crud = new CrudService(prisma);
  // The interceptor carries the request's trace into every run it starts (a no-op while tracing is off).
  const client = new Client({
    connection: temporal,
    namespace,
    interceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor()] },
  });
  // Every write of an OrchestratedFlow keeps its Temporal Schedule in step, inside the write's transaction.
  const schedules = new ScheduleService(prisma, client, orchestratorTaskQueue);
  app.use('/api/OrchestratedFlow', scheduleRouter(schedules));
  for (const def of ENTITIES) {
    const served = def.name === 'OrchestratedFlow' ? withScheduleSync(schedules) : def;
    app.use(`/api/${def.name}`, entityRouter(served, crud));
  }
  app.use(
    '/api/Orchestration',
    orchestrationRouter(new OrchestrationService(prisma, client, orchestratorTaskQueue, metrics)),
  );

  app.use(notFound);
  app.use(errorHandler(logger));
  return app;
}
