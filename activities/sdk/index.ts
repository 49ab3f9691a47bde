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
  classifyAddress,
  EGRESS_DENIED,
  EgressGuard,
  formatAllowEntry,
  parseEgressAllowList,
  RESPONSE_TOO_LARGE,
  type AddressClassification,
  type AllowEntry,
  type EgressGuardOptions,
  type EgressLookup,
  type EgressRequestInit,
  type EgressResponse,
  type ResolvedAddress,
} from './egress';
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
export {
  DATA_UNAVAILABLE,
  DEFAULT_INLINE_DATA_MAX_BYTES,
  BlobUnavailableError,
  isDataRef,
  loadRef,
  offload,
  resolveRefs,
  type BlobOwner,
  type BlobStore,
  type DataPlane,
  type DataRef,
} from './data-refs';
