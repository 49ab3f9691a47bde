import { DefaultLogger, makeTelemetryFilterString, Runtime } from '@temporalio/worker';

/**
 * Installs a Temporal runtime that only reports errors: tests provoke failed activities and nondeterminism on
 * purpose and assert them instead of reading warnings. Idempotent within a test process.
 */
export function installQuietRuntime(): void {
  try {
    Runtime.install({
      logger: new DefaultLogger('ERROR'),
      telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }), forward: {} } },
    });
  } catch {
    /* a runtime is installed already (another module of this test process did it) */
  }
}
