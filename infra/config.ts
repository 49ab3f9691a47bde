import { existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { HistoryBudget } from '../domain/flow-types';

function findProjectRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'prisma'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(from, '..');
  }
}

/** The project root (package.json and prisma/), from sources under tsx and from compiled code under dist/. */
export const PROJECT_ROOT = findProjectRoot(__dirname);

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const emptyAsUndefined = (value: unknown) => (value === '' ? undefined : value);

/** Security defaults, shared with the API's own defaults (api/app.ts) so the two cannot drift apart. */
export const SECURITY_DEFAULTS = {
  rateLimits: { perMinute: 1200, writesPerMinute: 300, startsPerMinute: 120, authFailuresPerMinute: 20 },
  secretKeys: 'password,secret,token,apiKey,key,credentials',
} as const;

const booleanFlag = z.preprocess(
  emptyAsUndefined,
  z
    .enum(['true', 'false', '1', '0'])
    .default('false')
    .transform((value) => value === 'true' || value === '1'),
);

const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  /** Postgres connection string. When unset, `npm run dev` starts embedded Postgres. */
  DATABASE_URL: z.preprocess(emptyAsUndefined, z.string().url().optional()),
  /** Temporal frontend `host:port`. When unset, `npm run dev` starts the Temporal dev server. */
  TEMPORAL_ADDRESS: z.preprocess(emptyAsUndefined, z.string().min(1).optional()),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  /** Temporal Cloud API key (implies TLS). Named as in Temporal's environment configuration. */
  TEMPORAL_API_KEY: z.preprocess(emptyAsUndefined, z.string().optional()),
  /** Use TLS to reach Temporal (implied by an API key or a client certificate). */
  TEMPORAL_TLS: z.preprocess(emptyAsUndefined, z.enum(['true', 'false', '1', '0']).optional()),
  /** mTLS client certificate and key (PEM files), e.g. for Temporal Cloud namespaces with mTLS. */
  TEMPORAL_TLS_CLIENT_CERT_PATH: z.preprocess(emptyAsUndefined, z.string().optional()),
  TEMPORAL_TLS_CLIENT_KEY_PATH: z.preprocess(emptyAsUndefined, z.string().optional()),
  /** A CA certificate (PEM file) for a server whose certificate is not publicly trusted. */
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: z.preprocess(emptyAsUndefined, z.string().optional()),
  /** Overrides the TLS server name (SNI) when it differs from the address's host. */
  TEMPORAL_TLS_SERVER_NAME: z.preprocess(emptyAsUndefined, z.string().optional()),
  /** Path to a Temporal CLI binary to use instead of searching PATH / `.tools/bin`. */
  TEMPORAL_CLI: z.preprocess(emptyAsUndefined, z.string().optional()),
  /** A Chromium binary for the browser tests (`npm test`); default Debian's `/usr/bin/chromium`, installed if missing. */
  CHROMIUM_PATH: z.preprocess(emptyAsUndefined, z.string().optional()),
  /** Where `npm run dev` keeps embedded Postgres data and the Temporal SQLite file. */
  DATA_DIR: z.string().default(path.join(PROJECT_ROOT, '.data')),
  /** Ports used by `npm run dev` for the services it starts itself. */
  DEV_POSTGRES_PORT: z.coerce.number().int().min(1).max(65535).default(54329),
  DEV_TEMPORAL_PORT: z.coerce.number().int().min(1).max(65535).default(7233),
  DEV_TEMPORAL_UI_PORT: z.coerce.number().int().min(1).max(65535).default(8233),
  /**
   * Port of a worker process's operations server (`/metrics`, `/health`, `/health/ready`); 0 picks a free one.
   * `npm run dev` serves every worker's metrics on this port too.
   */
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  /** Interface the operations server binds to. */
  METRICS_HOST: z.string().min(1).default('0.0.0.0'),
  /** Maximum accepted JSON request body. */
  BODY_LIMIT: z.string().default('1mb'),
  /** Largest bundle (`POST /api/Bundle/plan|apply`): enough for a 10,000-step flow. */
  BUNDLE_BODY_LIMIT: z.string().default('32mb'),
  /**
   * A run's history budget per segment (manual runs and reruns): past this many events, or bytes, of its own history
   * a run continues as new (also when Temporal suggests it). Unset: 10,000 events, 10 MiB.
   */
  RUN_SEGMENT_MAX_EVENTS: z.coerce.number().int().min(100).max(50_000).optional(),
  RUN_SEGMENT_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(64 * 1024)
    .max(50 * 1024 * 1024)
    .optional(),
  /** The processor type `workers/processor.ts` hosts when no argument names one (e.g. `transform`). */
  PROCESSOR: z.preprocess(emptyAsUndefined, z.string().min(1).optional()),
  /** `true`: a processor worker whose implementation hash differs from the stored one re-registers instead of refusing. */
  PROCESSOR_REREGISTER: booleanFlag,
  /** How long a stopping processor worker lets running steps finish before cancelling them (they retry elsewhere). */
  PROCESSOR_SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(20_000),
  /** `on` (default): every route but health and the API docs needs a credential. `off`: local experiments only. */
  AUTH_MODE: z.enum(['on', 'off']).default('on'),
  /** At least 32 characters: the API makes sure an admin API key with exactly this secret exists (compose, CI). */
  FLOW_ADMIN_API_KEY: z.preprocess(
    emptyAsUndefined,
    z.string().min(32, { error: 'must be at least 32 characters' }).optional(),
  ),
  /** OIDC issuer whose JWTs the API accepts (`iss`); unset: JWTs are not accepted. */
  AUTH_JWT_ISSUER: z.preprocess(emptyAsUndefined, z.string().url().optional()),
  /** Expected `aud` of accepted JWTs; required with AUTH_JWT_ISSUER. */
  AUTH_JWT_AUDIENCE: z.preprocess(emptyAsUndefined, z.string().min(1).optional()),
  /** The issuer's JWKS; default: `jwks_uri` of the issuer's discovery document. */
  AUTH_JWT_JWKS_URL: z.preprocess(emptyAsUndefined, z.string().url().optional()),
  /** The claim holding the caller's roles (a dotted path such as `realm_access.roles` works too). */
  AUTH_JWT_ROLES_CLAIM: z.string().min(1).default('roles'),
  /** Maps provider role names to ours: `flow-admins=admin,ops=operator`; our own role names always map to themselves. */
  AUTH_JWT_ROLE_MAP: z.preprocess(emptyAsUndefined, z.string().optional()),
  /** Allowed clock skew for `exp` / `nbf`, in seconds. */
  AUTH_JWT_CLOCK_SKEW_SEC: z.coerce.number().int().min(0).max(300).default(30),
  /** The console's single sign-on client at AUTH_JWT_ISSUER (authorization code + PKCE); unset: API-key login only. */
  AUTH_OIDC_CLIENT_ID: z.preprocess(emptyAsUndefined, z.string().min(1).optional()),
  /** Only for an issuer whose clients must be confidential; a public client with PKCE needs none. */
  AUTH_OIDC_CLIENT_SECRET: z.preprocess(emptyAsUndefined, z.string().min(1).optional()),
  AUTH_OIDC_SCOPE: z.string().min(1).default('openid profile'),
  /** The longest a console session lives, in minutes (a session from an OIDC token also ends with the token). */
  SESSION_TTL_MINUTES: z.coerce.number().int().min(5).max(10_080).default(480),
  /** `true`: `GET /metrics` answers without a credential (for a scraper on a private network that cannot send one). */
  METRICS_PUBLIC: booleanFlag,
  /** Requests per minute per principal (reads); writes and starts have their own, stricter budgets. Per API replica. */
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(SECURITY_DEFAULTS.rateLimits.perMinute),
  RATE_LIMIT_WRITES_PER_MINUTE: z.coerce
    .number()
    .int()
    .min(1)
    .default(SECURITY_DEFAULTS.rateLimits.writesPerMinute),
  RATE_LIMIT_STARTS_PER_MINUTE: z.coerce
    .number()
    .int()
    .min(1)
    .default(SECURITY_DEFAULTS.rateLimits.startsPerMinute),
  /** Failed authentications per minute per client IP before that IP is refused for the rest of the minute. */
  AUTH_FAILURES_PER_MINUTE: z.coerce
    .number()
    .int()
    .min(1)
    .default(SECURITY_DEFAULTS.rateLimits.authFailuresPerMinute),
  /** Express `trust proxy`: set to the number of proxies in front of the API so client IPs are the real ones. */
  TRUST_PROXY: z.coerce.number().int().min(0).default(0),
  /** Comma-separated origins allowed by CORS; unset: no cross-origin access. */
  CORS_ORIGINS: z.preprocess(emptyAsUndefined, z.string().optional()),
  /** Where the console links a run in the Temporal Web UI; default: the first TEMPORAL_UI_ORIGIN. */
  TEMPORAL_UI_URL: z.preprocess(emptyAsUndefined, z.string().url().optional()),
  /** Origin(s) of the Temporal Web UI that calls the codec endpoint (`/codec/*`) from the browser, comma-separated. */
  TEMPORAL_UI_ORIGIN: z.preprocess(emptyAsUndefined, z.string().optional()),
  /** Serve HTTPS with this certificate and key (PEM files); both or neither. */
  TLS_CERT_PATH: z.preprocess(emptyAsUndefined, z.string().optional()),
  TLS_KEY_PATH: z.preprocess(emptyAsUndefined, z.string().optional()),
  /**
   * Configuration keys (and URL query parameters) whose values are secret: masked as `***` for every role but admin
   * and never logged. Matched word by word, case-insensitive (`apiKey` matches `x-api-key` and `API_KEY`).
   */
  SECRET_KEYS: z.string().default(SECURITY_DEFAULTS.secretKeys),
  /**
   * Destinations processors may reach although they are internal (loopback, private, link-local, …):
   * `host`, `host:port`, or a CIDR, comma-separated. Everything public is allowed; everything internal is not.
   */
  EGRESS_ALLOW: z.string().default(''),
  /**
   * The payload key ring: `kid:base64,…` (32-byte AES-256 keys). Every Temporal payload is encrypted with the active
   * key; every listed key decrypts. Required by every process; `npm run dev` generates one into DATA_DIR.
   */
  PAYLOAD_KEYS: z.preprocess(emptyAsUndefined, z.string().optional()),
  /** The key ID new payloads are encrypted with (default: the last key of PAYLOAD_KEYS). */
  PAYLOAD_ACTIVE_KEY: z.preprocess(emptyAsUndefined, z.string().optional()),
  /** Where step data too large for Temporal payloads is kept: `postgres` (table payload_blob) or `file:///path`. */
  BLOB_STORE: z
    .string()
    .regex(/^(postgres|file:\/\/\/.+)$/, { error: 'must be postgres or file:///path' })
    .default('postgres'),
  /** Step data of runs closed more than this many days ago is deleted (the daily `flow-data-retention` schedule). */
  DATA_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(7),
  /** Step data whose JSON is larger than this (bytes) travels by reference through the blob store. */
  INLINE_DATA_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(1024 * 1024)
    .default(64 * 1024),
  /** The largest HTTP answer a processor reads (bytes); a larger one fails the step. */
  HTTP_REQUEST_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1)
    .default(10 * 1024 * 1024),
  /** The built-in `file` processor reads and writes only inside this directory. */
  FILE_DATA_ROOT: z
    .string()
    .min(1)
    .default(path.join(PROJECT_ROOT, '.data', 'files'))
    .transform((dir) => path.resolve(dir)),
});

/** Settings that only make sense together. */
const checkedConfigSchema = configSchema.superRefine((config, ctx) => {
  if (config.AUTH_MODE === 'off' && config.NODE_ENV === 'production')
    ctx.addIssue({
      code: 'custom',
      path: ['AUTH_MODE'],
      message: 'off is refused when NODE_ENV=production (it exists for local experiments only)',
    });
  if (config.AUTH_JWT_ISSUER && !config.AUTH_JWT_AUDIENCE)
    ctx.addIssue({
      code: 'custom',
      path: ['AUTH_JWT_AUDIENCE'],
      message: 'is required with AUTH_JWT_ISSUER',
    });
  if (config.AUTH_OIDC_CLIENT_ID && !config.AUTH_JWT_ISSUER)
    ctx.addIssue({
      code: 'custom',
      path: ['AUTH_OIDC_CLIENT_ID'],
      message: 'needs AUTH_JWT_ISSUER (the issuer the console signs in with)',
    });
  if (Boolean(config.TLS_CERT_PATH) !== Boolean(config.TLS_KEY_PATH))
    ctx.addIssue({
      code: 'custom',
      path: [config.TLS_CERT_PATH ? 'TLS_KEY_PATH' : 'TLS_CERT_PATH'],
      message: 'TLS_CERT_PATH and TLS_KEY_PATH go together',
    });
});

export type Config = z.infer<typeof configSchema>;

/** Raised when the environment does not describe a valid configuration; names every bad variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

function parseEnvironment<T extends z.ZodType>(schema: T, env: NodeJS.ProcessEnv, title: string): z.infer<T> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`${title}:\n  ${problems.join('\n  ')}`);
  }
  return parsed.data;
}

/**
 * Parses the configuration from an environment (by default `process.env`). This is the only place that reads
 * `process.env`; everything else receives a `Config`.
 *
 * @throws ConfigError listing every invalid variable.
 */
/** The history budget the API gives the runs it starts: only what the environment sets (else the interpreter's). */
export function historyBudgetFromConfig(config: Config): HistoryBudget {
  return {
    ...(config.RUN_SEGMENT_MAX_EVENTS !== undefined ? { events: config.RUN_SEGMENT_MAX_EVENTS } : {}),
    ...(config.RUN_SEGMENT_MAX_BYTES !== undefined ? { bytes: config.RUN_SEGMENT_MAX_BYTES } : {}),
  };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return parseEnvironment(checkedConfigSchema, env, 'Invalid configuration');
}

const OTLP_PROTOCOLS = ['grpc', 'http/protobuf', 'http/json'] as const;

/**
 * The OpenTelemetry variables this project decides on (the OTel packages read the rest themselves: headers,
 * timeouts, OTEL_TRACES_SAMPLER, OTEL_BSP_*, OTEL_RESOURCE_ATTRIBUTES, …).
 */
const telemetryConfigSchema = z.object({
  OTEL_SDK_DISABLED: z.preprocess(
    emptyAsUndefined,
    z
      .enum(['true', 'false', 'TRUE', 'FALSE', '1', '0'])
      .default('false')
      .transform((value) => value.toLowerCase() === 'true' || value === '1'),
  ),
  /** Comma-separated: otlp, console, none. Unset: otlp when an OTLP endpoint is set, otherwise nothing. */
  OTEL_TRACES_EXPORTER: z.preprocess(emptyAsUndefined, z.string().optional()),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.preprocess(emptyAsUndefined, z.string().url().optional()),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.preprocess(emptyAsUndefined, z.string().url().optional()),
  OTEL_EXPORTER_OTLP_PROTOCOL: z.preprocess(emptyAsUndefined, z.enum(OTLP_PROTOCOLS).optional()),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: z.preprocess(emptyAsUndefined, z.enum(OTLP_PROTOCOLS).optional()),
  OTEL_SERVICE_NAME: z.preprocess(emptyAsUndefined, z.string().min(1).optional()),
  /** As in `Config`: names a processor worker's default service (`flow-processor-<name>`). */
  PROCESSOR: z.preprocess(emptyAsUndefined, z.string().min(1).optional()),
});

export type TelemetryConfig = z.infer<typeof telemetryConfigSchema>;

/**
 * Parses the OpenTelemetry subset of the environment (read once, before anything else, by `infra/instrument.ts`).
 *
 * @throws ConfigError listing every invalid variable.
 */
export function loadTelemetryConfig(env: NodeJS.ProcessEnv = process.env): TelemetryConfig {
  return parseEnvironment(telemetryConfigSchema, env, 'Invalid OpenTelemetry configuration');
}

const testConfigSchema = z.object({
  /** Maintenance URL of the Postgres server `npm test` started (CREATE/DROP DATABASE). */
  FLOW_TEST_ADMIN_URL: z.string().url(),
  /** A migrated database each test copies with CREATE DATABASE … TEMPLATE. */
  FLOW_TEST_TEMPLATE_DB: z.string().min(1),
  TEMPORAL_ADDRESS: z.string().min(1),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  /** A namespace created for one test file whose processes run on the default task queues. */
  FLOW_TEST_ISOLATED_NAMESPACE: z.string().min(1),
  /** The examples test's namespace: its workers serve the built-ins' own task queues. */
  FLOW_TEST_EXAMPLES_NAMESPACE: z.string().min(1),
  TEMPORAL_CLI: z.string().min(1),
  /** A Chromium binary for browser tests, when it is not Debian's `/usr/bin/chromium`. */
  CHROMIUM_PATH: z.preprocess(emptyAsUndefined, z.string().optional()),
  /** The payload key ring of this test run (every test client and worker encrypts with it). */
  PAYLOAD_KEYS: z.string().min(1),
});

export type TestConfig = z.infer<typeof testConfigSchema>;

/**
 * The environment `scripts/test.ts` hands to test files.
 *
 * @throws ConfigError when a test file runs outside `npm test`.
 */
export function loadTestConfig(env: NodeJS.ProcessEnv = process.env): TestConfig {
  const parsed = testConfigSchema.safeParse(env);
  if (!parsed.success)
    throw new ConfigError(
      `Tests need the services \`npm test\` starts (run them with \`npm test\`, or \`npm test -- <file>\`): ${parsed.error.issues
        .map((issue) => issue.path.join('.'))
        .join(', ')} missing`,
    );
  return parsed.data;
}
