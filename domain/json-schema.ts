import Ajv, { type AnySchema, type ErrorObject } from 'ajv';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

/** One JSON Schema problem: where (a JSON pointer, '' for the root) and which keyword failed. */
export interface SchemaProblem {
  path: string;
  keyword: string;
  message: string;
}

const DRAFT_2020 = 'https://json-schema.org/draft/2020-12/schema';

function makeAjv<T extends Ajv>(Ctor: new (options: object) => T): T {
  const ajv = new Ctor({ allErrors: true, strict: false, validateSchema: true, validateFormats: true });
  addFormats(ajv);
  return ajv;
}

// Documents declaring draft 2020-12 are checked against its meta-schema; everything else against draft-07.
const draft07 = makeAjv(Ajv);
const draft2020 = makeAjv(Ajv2020 as unknown as new (options: object) => Ajv);

function ajvFor(schema: unknown): Ajv {
  const declared =
    schema && typeof schema === 'object' ? (schema as { $schema?: unknown }).$schema : undefined;
  return typeof declared === 'string' && declared.replace(/#$/, '') === DRAFT_2020 ? draft2020 : draft07;
}

function toProblems(errors: ErrorObject[] | null | undefined): SchemaProblem[] {
  return (errors ?? []).map((error) => ({
    path: error.instancePath,
    keyword: error.keyword,
    message: error.message ?? 'is invalid',
  }));
}

/**
 * Checks that `schema` is itself a valid JSON Schema (its meta-schema, and that it compiles: resolvable `$ref`s,
 * valid patterns). Returns every problem found; an empty list means valid.
 */
export function checkJsonSchema(schema: unknown): SchemaProblem[] {
  if (typeof schema !== 'boolean' && (typeof schema !== 'object' || schema === null || Array.isArray(schema)))
    return [{ path: '', keyword: 'type', message: 'a JSON Schema must be an object or a boolean' }];
  const ajv = ajvFor(schema);
  if (!ajv.validateSchema(schema)) return toProblems(ajv.errors);
  try {
    ajv.compile(schema as AnySchema);
    return [];
  } catch (error) {
    return [
      { path: '', keyword: 'compile', message: error instanceof Error ? error.message : String(error) },
    ];
  }
}

/** Compiles `schema` into a reusable validator returning the problems of a value (empty when valid). */
export function compileValidator(schema: unknown): (value: unknown) => SchemaProblem[] {
  const ajv = ajvFor(schema);
  const validate = ajv.compile(schema as AnySchema);
  return (value) => (validate(value) ? [] : toProblems(validate.errors));
}
