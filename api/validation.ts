import { z } from 'zod';
import { ValidationError, type ProblemDetail } from './errors';

const EMPTY_GUID = '00000000-0000-0000-0000-000000000000';

/**
 * The error option of a type: "is required" when the value is missing, "must be <expected>" when it has the wrong
 * type. Other issues (length, format, …) keep their own messages: zod applies a type's error to its checks too.
 */
export function typeError(expected: string) {
  return {
    error: (issue: z.core.$ZodRawIssue) =>
      issue.code === 'invalid_type'
        ? issue.input === undefined
          ? 'is required'
          : `must be ${expected}`
        : undefined,
  };
}

/** A GUID (8-4-4-4-12 hex, any version) that is not the empty GUID (the spec's NotEmptyGuid). */
export const guid = z
  .guid({
    error: (issue) =>
      issue.code === 'invalid_type' && issue.input === undefined
        ? 'is required'
        : 'must be a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)',
  })
  .transform((value) => value.toLowerCase())
  .refine((value) => value !== EMPTY_GUID, {
    error: 'must not be the empty GUID',
    params: { rule: 'NotEmptyGuid' },
  });

/** A list of at most `max` distinct non-empty GUIDs (the spec's NoEmptyGuids). */
const distinctGuids = (max: number) =>
  z
    .array(guid)
    .max(max, { error: `must hold at most ${max} ids` })
    .superRefine((ids, ctx) => {
      const seen = new Set<string>();
      ids.forEach((id, index) => {
        if (seen.has(id))
          ctx.addIssue({
            code: 'custom',
            path: [index],
            message: `duplicate id ${id}`,
            params: { rule: 'unique' },
          });
        seen.add(id);
      });
    });

const nonEmpty = {
  error: 'must contain at least one id',
  params: { rule: 'NotEmptyCollection' },
} as const;

/** A list of at most 1,000 distinct non-empty GUIDs (next steps, assignment IDs). */
export const guidList = distinctGuids(1000);

/** A non-empty list of at most 1,000 distinct non-empty GUIDs (NotEmptyCollection + NoEmptyGuids). */
export const nonEmptyGuidList = guidList.refine((ids) => ids.length > 0, nonEmpty);

/** Steps a workflow may hold: long runs continue as new (issue 14 §2), so 10,000 run. */
export const MAX_WORKFLOW_STEPS = 10_000;

/** A workflow's step list: 1 to {@link MAX_WORKFLOW_STEPS} distinct non-empty GUIDs. */
export const workflowStepIdList = distinctGuids(MAX_WORKFLOW_STEPS).refine((ids) => ids.length > 0, nonEmpty);

const LIMIT = 'must be an integer from 1 to 1000';
const OFFSET = 'must be an integer of 0 or more';

/** `?limit=&offset=`: a page of at most 1000 (default 100). */
export const pagination = z.object({
  limit: z.coerce
    .number({ error: LIMIT })
    .int({ error: LIMIT })
    .min(1, { error: LIMIT })
    .max(1000, { error: LIMIT })
    .default(100),
  offset: z.coerce
    .number({ error: OFFSET })
    .int({ error: OFFSET })
    .min(0, { error: OFFSET })
    .max(Number.MAX_SAFE_INTEGER, { error: OFFSET })
    .default(0),
});

function ruleOf(issue: z.core.$ZodIssue): string {
  if (issue.code === 'custom') {
    const rule = (issue.params as { rule?: unknown } | undefined)?.rule;
    return typeof rule === 'string' ? rule : 'custom';
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) return 'required';
  if (issue.code === 'too_small' && issue.origin === 'string' && issue.minimum === 1) return 'required';
  if (issue.code === 'too_small' || issue.code === 'too_big')
    return issue.code === 'too_small' ? 'min' : 'max';
  if (issue.code === 'invalid_type') return 'type';
  if (issue.code === 'invalid_format') return issue.format;
  if (issue.code === 'invalid_value' || issue.code === 'invalid_union') return 'oneOf';
  if (issue.code === 'unrecognized_keys') return 'unknownField';
  return issue.code;
}

/** Formats a zod path as `field.sub[2]`, prefixed by where it came from when that is not the body. */
export function formatPath(path: readonly PropertyKey[], prefix?: string): string {
  let out = prefix ?? '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out || 'body';
}

/** Converts zod issues into problem details, one per issue (unknown keys: one per key). */
export function issuesToDetails(issues: readonly z.core.$ZodIssue[], prefix?: string): ProblemDetail[] {
  return issues.flatMap((issue): ProblemDetail[] => {
    if (issue.code === 'unrecognized_keys')
      return issue.keys.map((key) => ({
        field: formatPath([...issue.path, key], prefix),
        rule: 'unknownField',
        message: 'is not a field of this entity',
      }));
    return [{ field: formatPath(issue.path, prefix), rule: ruleOf(issue), message: issue.message }];
  });
}

/** How deeply a request body may nest objects and arrays. */
export const MAX_BODY_DEPTH = 64;

/**
 * Values JSON can carry but Postgres cannot store: U+0000 in a string or key (text and jsonb reject it), a number
 * that is not finite (`1e400` parses to Infinity, which jsonb would turn into null), and nesting deeper than
 * MAX_BODY_DEPTH (which overflows the JSON Schema validator and Postgres). Iterative, so depth cannot overflow it.
 */
export function unstorableValues(body: unknown): ProblemDetail[] {
  const details: ProblemDetail[] = [];
  const stack: Array<{ value: unknown; path: PropertyKey[] }> = [{ value: body, path: [] }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { value, path } = item;
    const field = formatPath(path);
    if (typeof value === 'string' && value.includes('\u0000'))
      details.push({ field, rule: 'noNullCharacter', message: 'must not contain the character U+0000' });
    else if (typeof value === 'number' && !Number.isFinite(value))
      details.push({ field, rule: 'finiteNumber', message: 'must be a finite number' });
    else if (typeof value === 'object' && value !== null) {
      if (path.length >= MAX_BODY_DEPTH) {
        details.push({ field, rule: 'maxDepth', message: `nests deeper than ${MAX_BODY_DEPTH} levels` });
        continue;
      }
      // Pushed in reverse so children are visited in document order.
      for (const [key, child] of Object.entries(value).reverse()) {
        const childPath = [...path, Array.isArray(value) ? Number(key) : key];
        stack.push({ value: child, path: childPath });
        if (key.includes('\u0000'))
          details.push({
            field: formatPath(childPath),
            rule: 'noNullCharacter',
            message: 'the key must not contain the character U+0000',
          });
      }
    }
  }
  return details;
}

/**
 * Parses `value` with `schema`; `earlier` are problems already found in the same value, reported with the schema's.
 *
 * @throws ValidationError (400) naming every field and rule that failed.
 */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  value: unknown,
  what: string,
  prefix?: string,
  earlier: readonly ProblemDetail[] = [],
): z.output<S> {
  // reportInput: a missing value (rule `required`) is told apart from one of the wrong type (rule `type`).
  const result = schema.safeParse(value, { reportInput: true });
  if (result.success && earlier.length === 0) return result.data;
  const details = [...earlier, ...(result.success ? [] : issuesToDetails(result.error.issues, prefix))];
  throw new ValidationError(
    `Invalid ${what}: ${details.map((d) => `${d.field} ${d.message}`).join('; ')}`,
    details,
  );
}

/**
 * Parses a path parameter that must be a GUID, as {@link guid} does. A well-formed one (nearly every request) is
 * checked by zod's own pattern alone (`z.regexes.guid`, what `z.guid()` tests): through zod it was 2 % of a GET by
 * id's CPU (bench/README.md, "API speed").
 * @throws ValidationError (400) for a malformed GUID, with zod's details.
 */
export function parseGuidParam(value: unknown, name: string): string {
  if (typeof value === 'string' && z.regexes.guid.test(value)) {
    const id = value.toLowerCase();
    if (id !== EMPTY_GUID) return id;
  }
  return parseOrThrow(guid, value, `path parameter ${name}`, name);
}
