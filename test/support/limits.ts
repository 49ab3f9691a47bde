/**
 * Helpers for the limit tests: a Processor entity registered through REST before any worker starts (so its limits
 * are there when a worker reads them), an extra in-process worker for an engine, and how many intervals overlap.
 */
import type { Logger } from 'pino';
import { computeImplementationHash, type ProcessorDefinition } from '../../activities/sdk';
import { loadTestConfig } from '../../infra/config';
import { processorSchemaNames } from '../../workers/processor-registration';
import { startProcessorWorker, type ProcessorWorker } from '../../workers/processor-worker';
import type { ApiClient } from './api';
import { testCodec, testDataPlane } from './codec';
import type { TestEngine } from './engine';
import { create } from './fixtures';

export interface ProcessorLimitFields {
  maxActivitiesPerSecond?: number;
  maxConcurrentActivities?: number;
}

/**
 * Creates the Processor entity of `definition` (and its schemas) through REST, with the running code's hash and
 * `limits`, as an operator would before starting its workers. The workers then find it and verify it.
 */
export async function registerProcessor(
  api: ApiClient,
  definition: ProcessorDefinition,
  limits: ProcessorLimitFields,
): Promise<Record<string, any>> {
  const names = processorSchemaNames(definition.name);
  const schema = (name: string, body: unknown) =>
    create(api, 'Schema', { version: definition.version, name, definition: body });
  const input = await schema(names.input, definition.inputSchema);
  const output = await schema(names.output, definition.outputSchema);
  return create(api, 'Processor', {
    version: definition.version,
    name: definition.name,
    inputSchemaId: input.id,
    outputSchemaId: output.id,
    implementationHash: await computeImplementationHash(definition),
    ...limits,
  });
}

/** Starts one more processor worker beside an engine's (same connection, database, codec), already polling. */
export async function startExtraProcessorWorker(
  engine: TestEngine,
  definition: ProcessorDefinition,
  logger: Logger,
): Promise<ProcessorWorker> {
  const codec = testCodec();
  const worker = await startProcessorWorker({
    definition,
    connection: engine.connection,
    namespace: loadTestConfig().TEMPORAL_NAMESPACE,
    prisma: engine.api.prisma,
    logger,
    codec,
    data: testDataPlane(engine.api.prisma, codec),
  });
  void worker.run();
  return worker;
}

/** The most intervals `[from, until)` that overlap at any instant. */
export function peakOverlap(intervals: ReadonlyArray<{ from: number; until: number }>): number {
  // Ends sort before starts at the same instant: a slot freed and taken at once is not an overlap.
  const events = intervals
    .flatMap(({ from, until }) => [
      { at: from, delta: 1 },
      { at: until, delta: -1 },
    ])
    .sort((a, b) => a.at - b.at || a.delta - b.delta);
  let running = 0;
  let peak = 0;
  for (const { delta } of events) {
    running += delta;
    peak = Math.max(peak, running);
  }
  return peak;
}
