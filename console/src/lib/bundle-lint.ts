/**
 * Schema validation of a bundle in the editor, one document at a time. codemirror-json-schema validates one YAML
 * document against one schema (with json-schema-library's draft 4, which neither validates `if`/`then` nor picks a
 * `oneOf` branch by a property): so each document (`---`-separated, or an item of `{ documents: [...] }`) is checked
 * against the schema of its `kind`, and its markers land where its fields are.
 */
import { syntaxTree } from '@codemirror/language';
import type { Diagnostic } from '@codemirror/lint';
import { EditorState } from '@codemirror/state';
import type { EditorView } from '@codemirror/view';
import {
  getJsonPointerAt,
  JSONValidation,
  stateExtensions,
  type JSONPointersMap,
} from 'codemirror-json-schema';
import type { JSONSchema7 } from 'json-schema';
import { isMap, isSeq, parseAllDocuments, type Node } from 'yaml';

export interface BundleSchemas {
  /** Any document: `kind` names one of the kinds, and each kind's fields (for completion and hover). */
  document: JSONSchema7;
  /** The schema of each kind's documents. */
  byKind: ReadonlyMap<string, JSONSchema7>;
}

/** The bundle JSON Schema (`GET /schemas/bundle.json`: `$defs.Document` is a oneOf of the kinds) per document. */
export function bundleSchemas(bundle: { $defs?: Record<string, unknown> }): BundleSchemas {
  const defs = bundle.$defs ?? {};
  const oneOf = (defs.Document as { oneOf?: Array<{ $ref?: string }> } | undefined)?.oneOf ?? [];
  const kinds = oneOf.flatMap((branch) => branch.$ref?.split('/').pop() ?? []);
  const document = {
    $defs: defs,
    type: 'object',
    required: ['kind'],
    properties: { kind: { enum: kinds, description: 'What the document is.' } },
    allOf: kinds.map((kind) => ({
      if: { properties: { kind: { const: kind } }, required: ['kind'] },
      then: { $ref: `#/$defs/${kind}` },
    })),
  } as JSONSchema7;
  const byKind = new Map(
    kinds.map((kind) => [kind, { $defs: defs, ...(defs[kind] as object) } as JSONSchema7]),
  );
  return { document, byKind };
}

interface EditorDocument {
  data: unknown;
  pointers: JSONPointersMap;
  /** Where the document starts, for markers about it as a whole. */
  from: number;
}

const POINTER_NODES = new Set(['Key', 'BlockMapping', 'FlowMapping', 'Document']);

/** The documents of the editor's text, each with its data and the positions of its fields; none when not YAML. */
function documentsOf(state: EditorState): EditorDocument[] {
  const parsed = parseAllDocuments(state.doc.toString());
  const docs = (Array.isArray(parsed) ? parsed : []).filter((doc) => doc.contents !== null);
  if (docs.length === 0 || docs.some((doc) => doc.errors.length > 0)) return [];
  const only = docs.length === 1 ? docs[0]! : undefined;
  const wrapped = only && isMap(only.contents) ? only.get('documents', true) : undefined;
  const items: Array<{ data: unknown; range: readonly number[] }> =
    only && isSeq(wrapped)
      ? (wrapped.items as Node[]).map((node) => ({
          data: node.toJSON() as unknown,
          range: node.range ?? [0, 0, 0],
        }))
      : docs.map((doc) => ({ data: doc.toJS() as unknown, range: doc.range }));
  const result = items.map(({ data, range }) => ({
    data,
    pointers: new Map() as JSONPointersMap,
    from: range[0]!,
  }));
  const indexAt = (pos: number) => items.findIndex(({ range }) => pos >= range[0]! && pos < range[2]!);
  syntaxTree(state).iterate({
    enter: (ref) => {
      if (!POINTER_NODES.has(ref.name)) return;
      const node = ref.node;
      const index = indexAt(node.from);
      if (index < 0) return;
      let pointer = getJsonPointerAt(state.doc, node, 'yaml');
      if (wrapped !== undefined) {
        const prefix = `/documents/${index}`;
        if (!pointer.startsWith(prefix)) return;
        pointer = pointer.slice(prefix.length);
      }
      const value = node.nextSibling?.nextSibling;
      result[index]!.pointers.set(
        pointer,
        value
          ? { keyFrom: node.from, keyTo: node.to, valueFrom: value.from, valueTo: value.to }
          : { keyFrom: node.from, keyTo: node.to },
      );
    },
  });
  return result;
}

/** The linter: each document against its kind's schema (any document's schema when the kind is unknown). */
export function bundleLinter(schemas: BundleSchemas): (view: EditorView) => Diagnostic[] {
  const states = new Map<JSONSchema7, EditorState>();
  /** codemirror-json-schema reads the schema from the editor's state: a small state per schema holds it. */
  const stateFor = (schema: JSONSchema7) => {
    let state = states.get(schema);
    if (!state)
      states.set(schema, (state = EditorState.create({ doc: ' ', extensions: stateExtensions(schema) })));
    return state;
  };
  return (view) =>
    documentsOf(view.state).flatMap(({ data, pointers, from }) => {
      const kind = typeof data === 'object' && data !== null ? (data as { kind?: unknown }).kind : undefined;
      const schema = (typeof kind === 'string' && schemas.byKind.get(kind)) || schemas.document;
      const validation = new JSONValidation({ mode: 'yaml', jsonParser: () => ({ data, pointers }) });
      const line = view.state.doc.lineAt(from);
      return validation
        .doValidation({ state: stateFor(schema) } as EditorView)
        .map((d) => (d.from === 0 && d.to === 0 ? { ...d, from: line.from, to: line.to } : d));
    });
}
