import path from 'node:path';
import type { Logger } from 'pino';
import { checkJsonSchema } from '../../domain/json-schema';
import type {
  AssignedEntity,
  PreviousStepResult,
  StepRetryPolicy,
  StepTimeouts,
} from '../../domain/flow-types';
import type { EgressRequestInit, EgressResponse } from './egress';

/** A JSON Schema document (draft-07, or 2020-12 when it declares `$schema`). */
export type JsonSchema = Record<string, unknown> | boolean;

/** Who and where a step runs: the run's IDs plus this attempt. Safe to log. */
export interface ProcessorRunInfo {
  workflowId: string;
  runId: string;
  orchestratedFlowId: string;
  orchestratedFlowName: string;
  correlationId: string;
  stepId: string;
  stepName: string;
  /** 1 on the first attempt. */
  attempt: number;
  activityId: string;
  /** The processor as `name@version`. */
  processor: string;
}

/** What `run` receives. Input and configuration have already passed their schemas. */
export interface ProcessorContext<Input = unknown, Configuration = Record<string, unknown>> {
  /** Entry steps: the run input; one predecessor: its output; several: an object keyed by predecessor step name. */
  input: Input;
  /** Each predecessor's step ID, name, state, output or error. */
  previous: PreviousStepResult[];
  /** The Address / Delivery entities assigned to this step in this orchestrated flow. */
  assignments: AssignedEntity[];
  /** The step's configuration (`{}` when the step has none). */
  configuration: Configuration;
  /** For-each steps: which item this call handles (`input` is the item); undefined otherwise. */
  item?: { index: number; total: number };
  run: ProcessorRunInfo;
  /**
   * Reports liveness (and optional progress details, which a retry sees as `lastHeartbeatDetails`). Heartbeats are
   * also how cancellation reaches a running step: call it regularly in long work.
   */
  heartbeat: (details?: unknown) => void;
  /** The details of the last heartbeat of the previous attempt, to resume from; undefined on a fresh start. */
  lastHeartbeatDetails: unknown;
  /** Fires when the step is cancelled (the run was stopped) or the worker shuts down; pass it to I/O calls. */
  signal: AbortSignal;
  /** A child logger carrying the run's IDs. Never log payloads (input, output, configuration) at info level. */
  log: Logger;
  /**
   * HTTP through the worker's egress guard; use this instead of global fetch. Internal destinations (loopback,
   * private, link-local, …) are refused unless the worker allows them (`EGRESS_ALLOW`), every redirect is checked
   * again, and the body is read in full up to the worker's limit. The step's cancellation `signal` is already
   * applied. See `activities/sdk/README.md`, "Reaching out: the egress guard".
   *
   * @throws NonRetryableError `EgressDenied` / `ResponseTooLarge` (let them propagate: the step fails at once).
   */
  fetch: (url: string | URL, init?: EgressRequestInit) => Promise<EgressResponse>;
}

/** Retry and timeout defaults for steps using this processor (a step's own overrides win). */
export interface ProcessorDefaults {
  retryPolicy?: StepRetryPolicy;
  timeouts?: StepTimeouts;
}

export interface ProcessorSpec<Input, Output, Configuration> {
  /** Activity type and task queue component: letters, digits, `.`, `_`, `-`. */
  name: string;
  /** e.g. `1.0.0`. A new version is a new Processor entity on its own task queue. */
  version: string;
  description: string;
  /**
   * The file that implements the processor — pass `__filename`. The worker hashes this file's bytes (SHA-256) as the
   * Processor entity's `implementationHash`, so keep the processor (and its schemas) in that one file; helpers it
   * imports are not part of the hash.
   */
  module: string;
  inputSchema: JsonSchema;
  outputSchema: JsonSchema;
  /** Validates the step's configuration before each run; default: any object. */
  configurationSchema?: JsonSchema;
  defaults?: ProcessorDefaults;
  /**
   * While `run` is pending, heartbeat this often on its behalf, so cancellation reaches a processor that does not
   * heartbeat itself (e.g. one waiting on a single slow HTTP call). Unset: only the processor heartbeats.
   */
  autoHeartbeatMs?: number;
  /** The work. Throw {@link NonRetryableError} / {@link RetryableError} to state retry intent. */
  run(context: ProcessorContext<Input, Configuration>): Promise<Output> | Output;
}

/**
 * A processor definition, checked by {@link defineProcessor}. `ProcessorDefinition` with no type arguments is any
 * processor (what registries and workers hold).
 */
export interface ProcessorDefinition<
  Input = unknown,
  Output = unknown,
  Configuration = unknown,
> extends Readonly<ProcessorSpec<Input, Output, Configuration>> {
  readonly configurationSchema: JsonSchema;
}

/** Raised at definition time for a definition that could never run (bad name, invalid schema, relative module). */
export class ProcessorDefinitionError extends Error {
  override name = 'ProcessorDefinitionError';
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const VERSION = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,49}$/;
const ANY_OBJECT: JsonSchema = { type: 'object' };

/**
 * Defines a processor: a typed `run(context) → output` with a name, version and schemas. The type parameters are
 * what the schemas promise; the SDK checks values against the schemas at run time.
 *
 * @throws ProcessorDefinitionError listing every problem of the definition.
 */
export function defineProcessor<Input = unknown, Output = unknown, Configuration = Record<string, unknown>>(
  spec: ProcessorSpec<Input, Output, Configuration>,
): ProcessorDefinition<Input, Output, Configuration> {
  const problems: string[] = [];
  if (!NAME.test(spec.name)) problems.push(`name "${spec.name}" must match ${String(NAME)}`);
  if (!VERSION.test(spec.version)) problems.push(`version "${spec.version}" must match ${String(VERSION)}`);
  if (!path.isAbsolute(spec.module)) problems.push(`module must be an absolute path (pass __filename)`);
  const schemas = {
    inputSchema: spec.inputSchema,
    outputSchema: spec.outputSchema,
    configurationSchema: spec.configurationSchema ?? ANY_OBJECT,
  };
  for (const [field, schema] of Object.entries(schemas))
    for (const problem of checkJsonSchema(schema))
      problems.push(
        `${field}${problem.path ? ` at ${problem.path}` : ''}: ${problem.message} (${problem.keyword})`,
      );
  if (spec.autoHeartbeatMs !== undefined && !(spec.autoHeartbeatMs > 0))
    problems.push('autoHeartbeatMs must be positive');
  if (problems.length > 0)
    throw new ProcessorDefinitionError(
      `Processor ${spec.name}@${spec.version} is invalid:\n  ${problems.join('\n  ')}`,
    );
  return Object.freeze({ ...spec, ...schemas });
}

/** `name@version`, as logs, errors and status show a processor. */
export function processorLabel(definition: { name: string; version: string }): string {
  return `${definition.name}@${definition.version}`;
}
