/**
 * Prometheus metrics (prom-client), one registry per role so a process hosting several roles (`npm run dev`) still
 * serves each role's figures on its own address: the API's at `GET /metrics`, the workers' on their operations port.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Seconds: from a millisecond health check up to a long step. */
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const STEP_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

/** A connection pool's figures at scrape time. */
export interface PoolFigures {
  total: number;
  idle: number;
  waiting: number;
  max: number;
}

function newRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** The API's metrics. */
export class ApiMetrics {
  readonly registry = newRegistry();
  readonly httpRequestDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP requests served by the API, by method, route template and status code.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: HTTP_BUCKETS,
    registers: [this.registry],
  });
  readonly runsStarted = new Counter({
    name: 'flow_runs_started_total',
    help: 'Flow runs the API started, by trigger (manual). Scheduled runs start in Temporal: see flow_runs_finished_total.',
    labelNames: ['trigger'] as const,
    registers: [this.registry],
  });

  /** `pool` is read at every scrape (the database pool's connection figures). */
  constructor(pool?: () => PoolFigures | undefined) {
    if (!pool) return;
    new Gauge({
      name: 'db_pool_connections',
      help: 'Database pool connections by state.',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        const figures = pool();
        if (!figures) return;
        this.set({ state: 'idle' }, figures.idle);
        this.set({ state: 'used' }, figures.total - figures.idle);
      },
    });
    new Gauge({
      name: 'db_pool_waiting_requests',
      help: 'Queries waiting for a free database connection.',
      registers: [this.registry],
      collect() {
        const figures = pool();
        if (figures) this.set(figures.waiting);
      },
    });
    new Gauge({
      name: 'db_pool_max_connections',
      help: 'Size limit of the database pool.',
      registers: [this.registry],
      collect() {
        const figures = pool();
        if (figures) this.set(figures.max);
      },
    });
  }
}

/** How a step attempt ended, as a metric label. */
export type AttemptStatus = 'completed' | 'failed' | 'cancelled';

/** The workers' metrics: runs finished (orchestrator) and step attempts (processors). */
export class WorkerMetrics {
  readonly registry = newRegistry();
  readonly runsFinished = new Counter({
    name: 'flow_runs_finished_total',
    help: 'Flow runs the orchestrator saw finish, by final status and trigger (terminated and timed-out runs excluded).',
    labelNames: ['status', 'trigger'] as const,
    registers: [this.registry],
  });
  readonly stepDuration = new Histogram({
    name: 'flow_step_duration_seconds',
    help: 'Time a processor spent on one attempt of a step, by processor and outcome.',
    labelNames: ['processor', 'status'] as const,
    buckets: STEP_BUCKETS,
    registers: [this.registry],
  });
  readonly stepAttempts = new Counter({
    name: 'flow_step_attempts_total',
    help: 'Step attempts run by processors (retries included), by processor and outcome.',
    labelNames: ['processor', 'status'] as const,
    registers: [this.registry],
  });

  /** Records one step attempt. */
  stepAttempt(processor: string, status: AttemptStatus, seconds: number): void {
    this.stepDuration.observe({ processor, status }, seconds);
    this.stepAttempts.inc({ processor, status });
  }
}
