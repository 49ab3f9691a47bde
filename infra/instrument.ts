/**
 * The first import of every entry point (`import '../infra/instrument';`): starts OpenTelemetry before anything
 * else loads `http`, with a default `service.name` for the role this process plays (OTEL_SERVICE_NAME wins).
 * A no-op when no trace exporter is configured.
 */
import { loadTelemetryConfig } from './config';
import { serviceNameForEntry } from './service-name';
import { startTelemetry } from './telemetry';

const config = loadTelemetryConfig();
const service = serviceNameForEntry(process.argv[1], process.argv.slice(2), config.PROCESSOR);
startTelemetry(config, service);
