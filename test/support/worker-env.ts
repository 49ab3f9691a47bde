import { loadTestConfig } from '../../infra/config';

/** The environment of a worker process a test spawns: the test's database and Temporal, nothing else preset. */
export function workerProcessEnv(
  databaseUrl: string,
  logLevel: string,
  extra: NodeJS.ProcessEnv = {},
): NodeJS.ProcessEnv {
  const env = loadTestConfig();
  return {
    ...process.env,
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: env.TEMPORAL_ADDRESS,
    TEMPORAL_NAMESPACE: env.TEMPORAL_NAMESPACE,
    LOG_LEVEL: logLevel,
    PROCESSOR_REREGISTER: '',
    PROCESSOR: '',
    ...extra,
  };
}
