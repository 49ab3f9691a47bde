import { randomUUID } from 'node:crypto';
import type { EncryptionCodec } from '../../infra/payload-codec';
import type { HistoryBudget } from '../../domain/flow-types';
import { testCodec } from './codec';
import pino, { type Logger } from 'pino';
import type { SecurityOptions } from '../../api/app';
import { generateApiKey, insertApiKey } from '../../api/auth/api-keys';
import type { Role } from '../../api/auth/roles';
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

/**
 * An `ApiClient` for the API at `url` (one this process runs, or one in another process). With `apiKey`, every
 * request carries it as a bearer token (a request's own `authorization` header wins).
 */
export function apiClient(url: string, apiKey?: string): ApiClient {
  const auth: Record<string, string> = apiKey ? { authorization: `Bearer ${apiKey}` } : {};
  return {
    url,
    async request(method, path, body, headers = {}) {
      const init: RequestInit = { method, headers: { ...auth, ...headers } };
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
  /** A client calling as `role` (an API key named `test-<role>`, created on first use). */
  as(role: Role): ApiClient;
  /** A client sending no credential. */
  anonymous: ApiClient;
  /** The API key of `role` (created on first use). */
  keyOf(role: Role): Promise<string>;
  /** Requests the fast path of `GET /api/{Entity}/{id}` answered (api/hot-reads.ts); 0 when it is off. */
  hotReadsServed(): number;
  close(): Promise<void>;
}

export interface TestApiOptions {
  /** The task queue the API starts interpreter runs on (tests run their own orchestrator worker there). */
  orchestratorTaskQueue?: string;
  /** Point the API at a database URL other than its own (e.g. one where nothing listens). */
  databaseUrl?: string;
  temporalAddress?: string;
  /** The role the TestApi's own requests run as (default `editor`: definitions and runs, no keys or audit). */
  role?: Role;
  /** The payload codec (default: the test run's, `testCodec()`). */
  codec?: EncryptionCodec;
  /** Overrides of the API's security options; rate limits default high, so only rate-limit tests meet them. */
  security?: SecurityOptions;
  /** Where the API logs (default: nowhere). */
  logger?: Logger;
  /** The Temporal namespace (default: the test run's). */
  namespace?: string;
  /** The built console to serve at /ui/ (default: the project's console/dist). */
  consoleDir?: string;
  /** The history budget of the runs the API starts (default: the interpreter's). */
  historyBudget?: HistoryBudget;
  /** The fast path of `GET /api/{Entity}/{id}` (default on, as shipped). */
  hotReads?: boolean;
}

/** Rate limits far above what any test but the rate-limit tests sends. */
export const TEST_RATE_LIMITS = {
  perMinute: 1_000_000,
  writesPerMinute: 1_000_000,
  startsPerMinute: 1_000_000,
  authFailuresPerMinute: 1_000_000,
};

/** Creates an API key of `role` straight in the database; answers the secret. */
export async function createTestKey(
  prisma: PrismaClient,
  role: Role,
  name = `test-${role}`,
): Promise<string> {
  const secret = generateApiKey();
  await insertApiKey(prisma, { secret, name, role, createdBy: 'test' });
  return secret;
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
      logger: options.logger ?? pino({ level: 'silent' }),
      port: 0,
      namespace: options.namespace ?? env.TEMPORAL_NAMESPACE,
      ...(options.orchestratorTaskQueue ? { orchestratorTaskQueue: options.orchestratorTaskQueue } : {}),
      security: { ...options.security, rateLimits: { ...TEST_RATE_LIMITS, ...options.security?.rateLimits } },
      codec: options.codec ?? testCodec(),
      ...(options.consoleDir ? { consoleDir: options.consoleDir } : {}),
      ...(options.historyBudget ? { historyBudget: options.historyBudget } : {}),
      ...(options.hotReads === false ? { hotReads: false } : {}),
    });
  } catch (error) {
    await database.drop();
    throw error;
  }
  // Keys live in the database. One pointed elsewhere (an outage test) cannot hold them: those tests send a key that
  // must be looked up, so they meet the outage (503) rather than a missing credential (401).
  const keys = new Map<Role, Promise<string>>();
  const keyOf = (role: Role) => {
    let key = keys.get(role);
    if (!key) {
      key = createTestKey(prisma, role);
      keys.set(role, key);
    }
    return key;
  };
  const defaultKey = options.databaseUrl ? generateApiKey() : await keyOf(options.role ?? 'editor');
  const clients = new Map<Role, ApiClient>();
  return {
    ...apiClient(api.url, defaultKey),
    prisma,
    database,
    anonymous: apiClient(api.url),
    keyOf,
    hotReadsServed: () => api.hotReads?.served ?? 0,
    as(role) {
      let client = clients.get(role);
      if (!client) {
        const key = keyOf(role);
        client = {
          url: api.url,
          request: async (...args) => apiClient(api.url, await key).request(...args),
        };
        clients.set(role, client);
      }
      return client;
    },
    async close() {
      await api.close();
      await prisma.$disconnect();
      await temporal.close();
      await database.drop();
    },
  };
}

/** A FLOW_ADMIN_API_KEY for an API process a test spawns. */
export function bootstrapAdminSecret(): string {
  return generateApiKey();
}

/**
 * A client of the API at `url` acting as `role`: the spawned API's bootstrap admin creates the key through
 * `POST /api/ApiKey`, as an operator would.
 */
export async function clientWithRole(url: string, adminKey: string, role: Role): Promise<ApiClient> {
  const created = await apiClient(url, adminKey).request<{ key: string }>('POST', '/api/ApiKey', {
    name: `test-${role}`,
    role,
  });
  if (created.status !== 201)
    throw new Error(`could not create a ${role} key: ${JSON.stringify(created.body)}`);
  return apiClient(url, created.body.key);
}
