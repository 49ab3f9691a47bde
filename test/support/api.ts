import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { startApi, type RunningApi } from '../../api/server';
import { lazyTemporalConnection } from '../../api/temporal-connection';
import { loadTestConfig } from '../../infra/config';
import { createDatabaseIfMissing, dropDatabase } from '../../infra/postgres';
import { createPrismaClient, type PrismaClient } from '../../prisma/client';

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A fresh, migrated database of its own (a copy of the template `npm test` migrated). */
export async function createTestDatabase(): Promise<TestDatabase> {
  const env = loadTestConfig();
  const name = `t_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  await createDatabaseIfMissing(env.FLOW_TEST_ADMIN_URL, name, env.FLOW_TEST_TEMPLATE_DB);
  return {
    name,
    url: env.FLOW_TEST_ADMIN_URL.replace(/\/postgres$/, `/${name}`),
    drop: () => dropDatabase(env.FLOW_TEST_ADMIN_URL, name),
  };
}

export interface JsonResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

/** JSON over HTTP to an API: what the REST helpers need. */
export interface ApiClient {
  url: string;
  request<T = any>(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<JsonResponse<T>>;
}

/** An `ApiClient` for the API at `url` (one this process runs, or one in another process). */
export function apiClient(url: string): ApiClient {
  return {
    url,
    async request(method, path, body, headers = {}) {
      const init: RequestInit = { method, headers: { ...headers } };
      if (body !== undefined) {
        init.body = typeof body === 'string' ? body : JSON.stringify(body);
        (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
      }
      const response = await fetch(`${url}${path}`, init);
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        /* not JSON: keep the text so the assertion shows it */
      }
      return { status: response.status, headers: response.headers, body: parsed as never };
    },
  };
}

export interface TestApi extends ApiClient {
  prisma: PrismaClient;
  database: TestDatabase;
  close(): Promise<void>;
}

export interface TestApiOptions {
  /** The task queue the API starts interpreter runs on (tests run their own orchestrator worker there). */
  orchestratorTaskQueue?: string;
  /** Point the API at a database URL other than its own (e.g. one where nothing listens). */
  databaseUrl?: string;
  temporalAddress?: string;
}

/** Starts the API on a free port over its own database and the test Temporal server. */
export async function startTestApi(options: TestApiOptions = {}): Promise<TestApi> {
  const env = loadTestConfig();
  const database = await createTestDatabase();
  const prisma = createPrismaClient(options.databaseUrl ?? database.url, { connectionTimeoutMs: 2_000 });
  const temporal = lazyTemporalConnection(options.temporalAddress ?? env.TEMPORAL_ADDRESS);
  let api: RunningApi;
  try {
    api = await startApi({
      prisma,
      temporal,
      logger: pino({ level: 'silent' }),
      port: 0,
      namespace: env.TEMPORAL_NAMESPACE,
      ...(options.orchestratorTaskQueue ? { orchestratorTaskQueue: options.orchestratorTaskQueue } : {}),
    });
  } catch (error) {
    await database.drop();
    throw error;
  }
  return {
    ...apiClient(api.url),
    prisma,
    database,
    async close() {
      await api.close();
      await prisma.$disconnect();
      await temporal.close();
      await database.drop();
    },
  };
}
