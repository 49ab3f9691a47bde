import { loadTestConfig } from '../../infra/config';

/**
 * The environment of a worker process a test spawns: the test's database and Temporal, a free operations port (a
 * running `npm run dev` keeps 9464), and no tracing unless `extra` asks for it.
 */
export function workerProcessEnv(
  databaseUrl: string,
  logLevel: string,
  extra: NodeJS.ProcessEnv = {},
): NodeJS.ProcessEnv {
  const env = loadTestConfig();
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('OTEL_')),
  );
  return {
    ...inherited,
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: env.TEMPORAL_ADDRESS,
    TEMPORAL_NAMESPACE: env.TEMPORAL_NAMESPACE,
    LOG_LEVEL: logLevel,
    PROCESSOR_REREGISTER: '',
    PROCESSOR: '',
    METRICS_PORT: '0',
    METRICS_HOST: '127.0.0.1',
    ...extra,
  };
}
