import path from 'node:path';

/** The default `service.name` of a process, and whether it hosts several components (see `TelemetryOptions`). */
export interface ServiceIdentity {
  serviceName: string;
  componentServiceNames: boolean;
}

/** Service names of the API and the orchestrator (OTEL_SERVICE_NAME overrides a process's). */
export const API_SERVICE_NAME = 'flow-api';
export const ORCHESTRATOR_SERVICE_NAME = 'flow-orchestrator';

/** `flow-processor-<name>`: the service name of a processor type's workers. */
export function processorServiceName(processor: string): string {
  return `flow-processor-${processor}`;
}

/**
 * The default service name for the script a process runs (`process.argv[1]`), from sources or from dist/:
 * `api/main` → flow-api, `workers/orchestrator` → flow-orchestrator, `workers/processor <name>` (or PROCESSOR) →
 * flow-processor-<name>, `scripts/dev` → flow-api with each worker under its own name, any other entry point (a
 * custom processor's) → flow-processor-<name> from a `<name>-processor` folder, else flow-<its folder>.
 */
export function serviceNameForEntry(
  entry: string | undefined,
  args: string[],
  processorFromEnv?: string,
): ServiceIdentity {
  const single = (serviceName: string) => ({ serviceName, componentServiceNames: false });
  if (!entry) return single('flow');
  const parsed = path.parse(entry);
  const role = `${path.basename(parsed.dir)}/${parsed.name}`;
  switch (role) {
    case 'api/main':
      return single(API_SERVICE_NAME);
    case 'workers/orchestrator':
      return single(ORCHESTRATOR_SERVICE_NAME);
    case 'workers/processor': {
      const name = args.find((arg) => !arg.startsWith('-')) ?? processorFromEnv;
      return single(name ? processorServiceName(name) : 'flow-processor');
    }
    case 'scripts/dev':
      return { serviceName: API_SERVICE_NAME, componentServiceNames: true };
    default: {
      const folder = path.basename(parsed.dir);
      const processor = /^(.+)-processor$/.exec(folder)?.[1];
      return single(processor ? processorServiceName(processor) : `flow-${folder}`);
    }
  }
}
