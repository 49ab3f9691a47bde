/**
 * Checks a run's input before it is sent: JSON syntax, then each entry step's processor input schema (the schemas
 * the processors validate against when the run starts). Draft 2020-12 when the schema says so, else draft-07, as
 * the server's domain/json-schema.ts reads them.
 *
 * Why not ajv, as the server does: ajv compiles schemas to code with `new Function`, which the API's
 * Content-Security-Policy (`script-src 'self'`, helmet's default) forbids in the browser. @cfworker/json-schema
 * interprets schemas instead, with no eval. Pure.
 */
import { Validator, type OutputUnit, type Schema } from '@cfworker/json-schema';

export type ParsedInput = { ok: true; value: unknown } | { ok: false; message: string };

/** Parses the editor's text; empty text means "no input" (undefined). The message names the line and column. */
export function parseInput(text: string): ParsedInput {
  if (text.trim() === '') return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const position = /position (\d+)/.exec(message);
    if (!position) return { ok: false, message: `Not valid JSON: ${message}` };
    const offset = Number(position[1]);
    const before = text.slice(0, offset).split('\n');
    const line = before.length;
    const column = (before[before.length - 1]?.length ?? 0) + 1;
    return { ok: false, message: `Not valid JSON at line ${line}, column ${column}: ${message}` };
  }
}

/** An entry step's input schema. */
export interface InputSchema {
  stepName: string;
  /** `name@version` of the schema, for the message. */
  schemaName: string;
  definition: unknown;
}

export interface FieldError {
  stepName: string;
  schemaName: string;
  /** The field as a JSON pointer: `/greeting`, `/items/0`; `` for the input as a whole. */
  field: string;
  message: string;
}

function draftOf(schema: unknown): '2020-12' | '7' {
  const declared =
    schema && typeof schema === 'object' ? (schema as { $schema?: unknown }).$schema : undefined;
  return typeof declared === 'string' && declared.includes('2020-12') ? '2020-12' : '7';
}

const pointer = (location: string): string => location.replace(/^#/, '');

const ALTERNATIVES = new Set(['anyOf', 'oneOf', 'not']);
const EXTRA_PROPERTIES = new Set(['additionalProperties', 'unevaluatedProperties']);
const under = (inner: string, outer: string) => inner.startsWith(`${outer}/`);

/**
 * The problems people act on: a wrapper such as `properties` or `allOf` gives way to the specific problems inside
 * it, while `anyOf`, `oneOf` and `not` stand for their branches (listing every branch's failure would mislead). A
 * missing required property and a property that is not allowed are reported on that property.
 */
function leafErrors(errors: readonly OutputUnit[]): Array<{ field: string; message: string }> {
  const alternatives = errors.filter((error) => ALTERNATIVES.has(error.keyword));
  const kept = errors.filter(
    (error) => !alternatives.some((alt) => under(error.keywordLocation, alt.keywordLocation)),
  );
  const leaves = kept.filter(
    (error) =>
      ALTERNATIVES.has(error.keyword) ||
      !kept.some(
        (other) =>
          under(other.keywordLocation, error.keywordLocation) ||
          (EXTRA_PROPERTIES.has(error.keyword) &&
            other.keyword === 'false' &&
            under(other.instanceLocation, error.instanceLocation)),
      ),
  );
  const seen = new Set<string>();
  return leaves
    .map((error) => {
      const missing = error.keyword === 'required' ? /property "([^"]+)"/.exec(error.error)?.[1] : undefined;
      const field = pointer(error.instanceLocation) + (missing !== undefined ? `/${missing}` : '');
      const message =
        missing !== undefined ? 'is required' : error.keyword === 'false' ? 'is not allowed' : error.error;
      return { field, message };
    })
    .filter(({ field, message }) => {
      const key = `${field}\n${message}`;
      return seen.has(key) ? false : (seen.add(key), true);
    });
}

/** Every problem of `input` against every schema (empty: valid). A schema that cannot be read is one problem. */
export function validateInput(input: unknown, schemas: readonly InputSchema[]): FieldError[] {
  // An omitted input reaches the entry steps as null.
  const value = input === undefined ? null : input;
  return schemas.flatMap((schema) => {
    const base = { stepName: schema.stepName, schemaName: schema.schemaName };
    let validator: Validator;
    try {
      validator = new Validator(schema.definition as Schema | boolean, draftOf(schema.definition), false);
      const result = validator.validate(value);
      return result.valid ? [] : leafErrors(result.errors).map((error) => ({ ...base, ...error }));
    } catch (error) {
      return [{ ...base, field: '', message: `the schema could not be read: ${String(error)}` }];
    }
  });
}

/** `greeting`, `items[0].name`; `(input)` for the whole input. */
export function fieldLabel(field: string): string {
  if (field === '') return '(input)';
  return field
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce(
      (label, part) => (/^\d+$/.test(part) ? `${label}[${part}]` : label ? `${label}.${part}` : part),
      '',
    );
}
