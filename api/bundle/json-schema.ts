/**
 * The JSON Schema of bundle documents, derived from the REST input schemas (so the two cannot drift): each entity's
 * fields with its ID fields replaced by `name@version` references and `kind` added. Served at
 * `GET /schemas/bundle.json` and committed as `schemas/bundle.json` for editors
 * (`# yaml-language-server: $schema=…`).
 */
import { z } from 'zod';
import { ENTITY_BY_NAME } from '../entities';
import { BUNDLE_KINDS, REFERENCE_FIELDS, type ReferenceField } from './document';

type JsonSchema = Record<string, unknown>;

export const BUNDLE_SCHEMA_ID = 'https://flow-orchestrator.dev/schemas/bundle.json';

const REF_PATTERN = '^[^\\u0000-\\u001f]+@[A-Za-z0-9][A-Za-z0-9._+-]*$';

const refSchema = (reference: ReferenceField): JsonSchema => ({
  type: 'string',
  pattern: REF_PATTERN,
  description: `name@version of a ${reference.targets.join(' or ')}`,
});

/**
 * The schema of an object field (or of its object alternative, when it is nullable) with the reference
 * `reference.restField` inside it replaced by its bundle name (`compensation.processorId` → `compensation.processor`).
 */
function withNestedReference(schema: JsonSchema, reference: ReferenceField): JsonSchema {
  if (Array.isArray(schema.anyOf))
    return {
      ...schema,
      anyOf: (schema.anyOf as JsonSchema[]).map((alternative) => withNestedReference(alternative, reference)),
    };
  if (schema.type !== 'object' || !schema.properties) return schema;
  const properties: Record<string, JsonSchema> = {};
  for (const [key, value] of Object.entries(schema.properties as Record<string, JsonSchema>))
    if (key === reference.restField) properties[reference.field] = refSchema(reference);
    else properties[key] = value;
  const required = ((schema.required as string[] | undefined) ?? []).map((key) =>
    key === reference.restField ? reference.field : key,
  );
  return { ...schema, properties, ...(required.length > 0 ? { required } : {}) };
}

function documentSchema(kind: (typeof BUNDLE_KINDS)[number]): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(ENTITY_BY_NAME[kind].input, {
    io: 'input',
    unrepresentable: 'any',
  }) as JsonSchema;
  const properties = { ...(rest.properties as Record<string, JsonSchema>) };
  const required = new Set((rest.required as string[] | undefined) ?? []);
  const ordered: Record<string, JsonSchema> = {
    kind: { const: kind, description: 'What the document is.' },
  };
  for (const [field, schema] of Object.entries(properties)) {
    const reference = REFERENCE_FIELDS[kind].find((r) => !r.parent && r.restField === field);
    if (!reference) {
      const nested = REFERENCE_FIELDS[kind].filter((r) => r.parent === field);
      ordered[field] = nested.reduce(withNestedReference, schema);
      continue;
    }
    const one = refSchema(reference);
    ordered[reference.field] = reference.list
      ? {
          type: 'array',
          items: one,
          uniqueItems: true,
          description: `${reference.targets.join(' or ')} references (name@version)`,
        }
      : schema.anyOf || required.has(field)
        ? one
        : { anyOf: [one, { type: 'null' }] };
    if (required.has(field)) {
      required.delete(field);
      required.add(reference.field);
    }
  }
  return {
    title: kind,
    type: 'object',
    properties: ordered,
    required: ['kind', ...[...required].filter((f) => f !== 'kind')],
    additionalProperties: false,
  };
}

/** The schema of one bundle document (a YAML file holds several, separated by `---`), or of `{ documents: [...] }`. */
export function bundleJsonSchema(): JsonSchema {
  const defs = Object.fromEntries(BUNDLE_KINDS.map((kind) => [kind, documentSchema(kind)]));
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: BUNDLE_SCHEMA_ID,
    title: 'FlowOrchestrator bundle document',
    description:
      'One entity of a bundle: kind, name, version, its own fields, and references to other entities as ' +
      'name@version. A bundle file holds several documents (YAML, separated by ---), or { "documents": [ … ] } in JSON.',
    anyOf: [
      { $ref: '#/$defs/Document' },
      {
        type: 'object',
        properties: { documents: { type: 'array', items: { $ref: '#/$defs/Document' } } },
        required: ['documents'],
        additionalProperties: false,
      },
    ],
    $defs: { Document: { oneOf: BUNDLE_KINDS.map((kind) => ({ $ref: `#/$defs/${kind}` })) }, ...defs },
  };
}
