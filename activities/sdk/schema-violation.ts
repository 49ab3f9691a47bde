import { ApplicationFailure } from '@temporalio/common';
import { compileValidator, type SchemaProblem } from '../../domain/json-schema';

/** What is validated: the step's input and configuration before `run`, the output after. */
export type ValidationTarget = 'input' | 'output' | 'configuration';

/** One broken rule: the field as a dotted path from the target (`input.customer.email`) and the ajv keyword. */
export interface SchemaViolation {
  field: string;
  rule: string;
  message: string;
}

/** `details[0]` of a `SchemaViolation` failure. */
export interface SchemaViolationDetails {
  target: ValidationTarget;
  /** The processor as `name@version`. */
  processor: string;
  details: SchemaViolation[];
}

export const SCHEMA_VIOLATION = 'SchemaViolation';

/** `/items/0/a~1b` → `items.0.a/b` (RFC 6901 unescaping). */
export function pointerToDotted(pointer: string): string {
  if (pointer === '') return '';
  return pointer
    .slice(1)
    .split('/')
    .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'))
    .join('.');
}

// ajv reports a missing property on its parent object; name the property itself (`input.customer.email`).
const MISSING_PROPERTY = /^must have required property '(.+)'$/;

function toViolation(target: ValidationTarget, problem: SchemaProblem): SchemaViolation {
  const parts: string[] = [target];
  const dotted = pointerToDotted(problem.path);
  if (dotted) parts.push(dotted);
  const missing = problem.keyword === 'required' ? MISSING_PROPERTY.exec(problem.message)?.[1] : undefined;
  if (missing) parts.push(missing);
  return { field: parts.join('.'), rule: problem.keyword, message: problem.message };
}

/** Validates values against one JSON Schema and answers with violations named from `target`. */
export type TargetValidator = (value: unknown) => SchemaViolation[];

/**
 * Compiles a schema for one target.
 *
 * @throws Error naming the target when the schema does not compile.
 */
export function compileTargetValidator(target: ValidationTarget, schema: unknown): TargetValidator {
  let validate: (value: unknown) => SchemaProblem[];
  try {
    validate = compileValidator(schema);
  } catch (error) {
    throw new Error(
      `the ${target} schema does not compile: ${error instanceof Error ? error.message : String(error)}`,
      {
        cause: error,
      },
    );
  }
  return (value) => validate(value).map((problem) => toViolation(target, problem));
}

/**
 * The non-retryable failure for a schema violation: type `SchemaViolation`, a message naming every field and rule,
 * and `details[0]` = {@link SchemaViolationDetails}.
 */
export function schemaViolationFailure(
  target: ValidationTarget,
  processor: string,
  violations: SchemaViolation[],
): ApplicationFailure {
  const listed = violations.map((v) => `${v.field} ${v.message} (${v.rule})`).join('; ');
  const details: SchemaViolationDetails = { target, processor, details: violations };
  return ApplicationFailure.nonRetryable(
    `The ${target} does not match the ${target} schema of processor ${processor}: ${listed}`,
    SCHEMA_VIOLATION,
    details,
  );
}
