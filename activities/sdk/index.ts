/**
 * The processor SDK: define a processor, host it as a Temporal activity, state retry intent. See README.md here.
 */
export {
  defineProcessor,
  processorLabel,
  ProcessorDefinitionError,
  type JsonSchema,
  type ProcessorContext,
  type ProcessorDefaults,
  type ProcessorDefinition,
  type ProcessorRunInfo,
  type ProcessorSpec,
} from './define-processor';
export {
  NonRetryableError,
  RetryableError,
  type ProcessorErrorOptions,
  type RetryableErrorOptions,
} from './errors';
export { computeImplementationHash } from './implementation-hash';
export {
  createProcessorActivity,
  type ProcessorActivity,
  type ProcessorActivityDeps,
  type ProcessorSchemas,
} from './processor-activity';
export {
  SCHEMA_VIOLATION,
  pointerToDotted,
  type SchemaViolation,
  type SchemaViolationDetails,
  type ValidationTarget,
} from './schema-violation';
export { asStepActivity, type AttemptDetail } from './step-result';
