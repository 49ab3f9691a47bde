/**
 * The bundle format (flows as code): one document per entity, references as `name@version` instead of UUIDs.
 * Pure: reading documents, checking them with the REST routes' own input schemas, and the bundle's graph checks,
 * so `flowctl validate` runs the same checks offline that `POST /api/Bundle/apply` runs on the server.
 */
import type { z } from 'zod';
import { validateGraph, type GraphStep } from '../../domain/dag';
import type { EntityName } from '../entities/definition';
import { ENTITY_BY_NAME } from '../entities';
import type { ProblemDetail } from '../errors';
import { issuesToDetails, unstorableValues } from '../validation';

/** The kinds a bundle holds, in dependency order: each refers only to kinds before it (and Steps to Steps). */
export const BUNDLE_KINDS = [
  'Schema',
  'Processor',
  'Address',
  'Delivery',
  'Step',
  'Workflow',
  'Assignment',
  'OrchestratedFlow',
] as const satisfies readonly EntityName[];
export type BundleKind = (typeof BUNDLE_KINDS)[number];

/**
 * A reference field of a document: its bundle name, the REST field it becomes, and what it may name. With `parent`,
 * both are keys inside the document's object field `parent` (a Step's `compensation.processor`).
 */
export interface ReferenceField {
  field: string;
  restField: string;
  targets: readonly BundleKind[];
  list: boolean;
  parent?: string;
}

/** Where a reference is in a document (and in `BundleDocument.refs`): `processor`, `compensation.processor`. */
export const refPath = (reference: ReferenceField) =>
  reference.parent ? `${reference.parent}.${reference.field}` : reference.field;

/** Where a reference is in the REST body: `processorId`, `compensation.processorId`. */
export const restPath = (reference: ReferenceField) =>
  reference.parent ? `${reference.parent}.${reference.restField}` : reference.restField;

/** `field` (a problem's path in the REST body) with the reference it falls under named as the bundle names it. */
export function bundleFieldOf(kind: BundleKind, field: string): string {
  for (const reference of REFERENCE_FIELDS[kind]) {
    const from = restPath(reference);
    if (field === from || field.startsWith(`${from}.`) || field.startsWith(`${from}[`))
      return `${refPath(reference)}${field.slice(from.length)}`;
  }
  return field;
}

export const REFERENCE_FIELDS: Record<BundleKind, readonly ReferenceField[]> = {
  Schema: [],
  Processor: [
    { field: 'inputSchema', restField: 'inputSchemaId', targets: ['Schema'], list: false },
    { field: 'outputSchema', restField: 'outputSchemaId', targets: ['Schema'], list: false },
  ],
  Address: [{ field: 'schema', restField: 'schemaId', targets: ['Schema'], list: false }],
  Delivery: [{ field: 'schema', restField: 'schemaId', targets: ['Schema'], list: false }],
  Step: [
    { field: 'processor', restField: 'processorId', targets: ['Processor'], list: false },
    { field: 'next', restField: 'nextStepIds', targets: ['Step'], list: true },
    {
      parent: 'compensation',
      field: 'processor',
      restField: 'processorId',
      targets: ['Processor'],
      list: false,
    },
  ],
  Workflow: [{ field: 'steps', restField: 'stepIds', targets: ['Step'], list: true }],
  Assignment: [
    { field: 'step', restField: 'stepId', targets: ['Step'], list: false },
    { field: 'entities', restField: 'entityIds', targets: ['Address', 'Delivery'], list: true },
  ],
  OrchestratedFlow: [
    { field: 'workflow', restField: 'workflowId', targets: ['Workflow'], list: false },
    { field: 'assignments', restField: 'assignmentIds', targets: ['Assignment'], list: true },
  ],
};

/** Fields a document may not carry: the server owns them, and references are never UUIDs. */
const SERVER_FIELDS = ['id', 'createdAt', 'updatedAt', 'createdBy', 'updatedBy', 'taskQueue'];

/** `name@version`: the version is what follows the last `@` (versions have no `@`). */
export interface EntityRef {
  name: string;
  version: string;
}

export function parseRef(text: string): EntityRef | undefined {
  const at = text.lastIndexOf('@');
  if (at <= 0 || at === text.length - 1) return undefined;
  return { name: text.slice(0, at), version: text.slice(at + 1) };
}

export const formatRef = (ref: EntityRef) => `${ref.name}@${ref.version}`;

/** One document of a bundle, read: its identity, its own fields, and its references as written. */
export interface BundleDocument {
  /** Position in the bundle (0-based), for errors and line numbers. */
  index: number;
  kind: BundleKind;
  name: string;
  version: string;
  /** Address and Delivery: part of the composite key. */
  connectionString?: string;
  /** The entity's own REST fields (everything but kind and the reference fields). */
  fields: Record<string, unknown>;
  /** Reference path ({@link refPath}) → `name@version` (or a list of them); absent fields are left out. */
  refs: Record<string, string | string[] | null>;
}

/** A problem with a document: which one (index, kind, name@version) and which field, by the bundle's names. */
export interface BundleProblem extends ProblemDetail {
  document: number;
  kind?: string;
  ref?: string;
}

/** How a document is named in messages: `Step Shout@1.0`. */
export const documentLabel = (doc: Pick<BundleDocument, 'kind' | 'name' | 'version'>) =>
  `${doc.kind} ${doc.name}@${doc.version}`;

/** The key a document is matched on: kind, name, version (and connection string for endpoints). */
export const documentKey = (
  doc: Pick<BundleDocument, 'kind' | 'name' | 'version'> & { connectionString?: string | undefined },
) =>
  `${doc.kind}\u0000${doc.name}\u0000${doc.version}` +
  (doc.connectionString === undefined ? '' : `\u0000${doc.connectionString}`);

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Reads raw documents (parsed YAML or JSON): kind, identity, reference syntax, duplicates. Field values are checked
 * later, against the REST input schemas ({@link checkDocumentFields}).
 */
export function readDocuments(raw: readonly unknown[]): {
  documents: BundleDocument[];
  problems: BundleProblem[];
} {
  const documents: BundleDocument[] = [];
  const problems: BundleProblem[] = [];
  const seen = new Map<string, number>();
  raw.forEach((value, index) => {
    const problem = (field: string, rule: string, message: string, extra: Partial<BundleProblem> = {}) =>
      problems.push({ document: index, field, rule, message, ...extra });
    if (!isObject(value)) {
      problem('document', 'object', 'must be a mapping of fields (kind, name, version, …)');
      return;
    }
    const kind = value.kind;
    if (typeof kind !== 'string' || !(BUNDLE_KINDS as readonly string[]).includes(kind)) {
      problem(
        'kind',
        kind === undefined ? 'required' : 'oneOf',
        kind === undefined ? 'is required' : `must be one of ${BUNDLE_KINDS.join(', ')}`,
      );
      return;
    }
    const bundleKind = kind as BundleKind;
    const name = typeof value.name === 'string' ? value.name.trim() : '';
    const version =
      typeof value.version === 'string'
        ? value.version.trim()
        : typeof value.version === 'number'
          ? String(value.version)
          : '';
    const label = { kind: bundleKind, ref: `${name}@${version}` };
    const fields: Record<string, unknown> = {};
    const refs: Record<string, string | string[] | null> = {};
    const topLevel = REFERENCE_FIELDS[bundleKind].filter((r) => !r.parent);
    const referenceFields = new Map(topLevel.map((r) => [r.field, r]));
    for (const [field, fieldValue] of Object.entries(value)) {
      if (field === 'kind') continue;
      const reference = referenceFields.get(field);
      if (reference) {
        const read = readReference(reference, fieldValue);
        if ('problem' in read) problem(read.field ?? field, 'reference', read.problem, label);
        else if (read.value !== undefined) refs[field] = read.value;
        continue;
      }
      if (SERVER_FIELDS.includes(field) || topLevel.some((r) => r.restField === field)) {
        const instead = topLevel.find((r) => r.restField === field)?.field;
        problem(
          field,
          'unknownField',
          instead
            ? `is not a bundle field: references are name@version, use "${instead}"`
            : 'is owned by the server and is not part of a bundle',
          label,
        );
        continue;
      }
      fields[field] = fieldValue;
    }
    // References inside an object field: taken out of it here; a holder that is not an object is left to the REST
    // schema to report.
    for (const reference of REFERENCE_FIELDS[bundleKind]) {
      const original = reference.parent ? fields[reference.parent] : undefined;
      if (!reference.parent || !isObject(original)) continue;
      const holder = { ...original };
      const path = refPath(reference);
      if (reference.restField in holder) {
        problem(
          restPath(reference),
          'unknownField',
          `is not a bundle field: references are name@version, use "${path}"`,
          label,
        );
        delete holder[reference.restField];
      }
      if (reference.field in holder) {
        const read = readReference(reference, holder[reference.field]);
        if ('problem' in read) problem(read.field ?? path, 'reference', read.problem, label);
        else if (read.value !== undefined) refs[path] = read.value;
        delete holder[reference.field];
      }
      fields[reference.parent] = holder;
    }
    const connectionString =
      bundleKind === 'Address' || bundleKind === 'Delivery'
        ? typeof value.connectionString === 'string'
          ? value.connectionString.trim()
          : ''
        : undefined;
    const document: BundleDocument = {
      index,
      kind: bundleKind,
      name,
      version,
      ...(connectionString !== undefined ? { connectionString } : {}),
      fields,
      refs,
    };
    const key = documentKey(document);
    const earlier = seen.get(key);
    if (earlier !== undefined && name && version)
      problem(
        'name',
        'unique',
        `${documentLabel(document)} is already document ${earlier + 1} of the bundle`,
        label,
      );
    else seen.set(key, index);
    documents.push(document);
  });
  return { documents, problems };
}

function readReference(
  reference: ReferenceField,
  value: unknown,
): { value: string | string[] | null | undefined } | { problem: string; field?: string } {
  const syntax = `must be name@version of a ${reference.targets.join(' or ')}`;
  if (value === undefined || value === null) return { value: value };
  if (!reference.list) return typeof value === 'string' && parseRef(value) ? { value } : { problem: syntax };
  if (!Array.isArray(value))
    return { problem: `must be a list of name@version of ${reference.targets.join(' or ')}` };
  const bad = value.findIndex((item) => typeof item !== 'string' || !parseRef(item));
  if (bad >= 0) return { problem: syntax, field: `${refPath(reference)}[${bad}]` };
  // The first item listed before (a Set, not indexOf: a workflow lists up to 10,000 steps).
  const listed = new Set<unknown>();
  const duplicate = value.findIndex((item) => {
    if (listed.has(item)) return true;
    listed.add(item);
    return false;
  });
  if (duplicate >= 0)
    return {
      problem: `lists ${String(value[duplicate])} twice`,
      field: `${refPath(reference)}[${duplicate}]`,
    };
  return { value: value as string[] };
}

/** Resolves one reference of a document to an ID, or says why it cannot. */
export type RefResolver = (
  target: readonly BundleKind[],
  ref: string,
) => { id: string } | { problem: string; rule: string };

/**
 * The REST body of a document, with references resolved by `resolve`. Problems name the bundle's fields.
 */
export function restBody(
  doc: BundleDocument,
  resolve: RefResolver,
): { body: Record<string, unknown>; problems: BundleProblem[] } {
  const body: Record<string, unknown> = { ...doc.fields };
  const problems: BundleProblem[] = [];
  const label = { document: doc.index, kind: doc.kind, ref: `${doc.name}@${doc.version}` };
  for (const reference of REFERENCE_FIELDS[doc.kind]) {
    const path = refPath(reference);
    const value = doc.refs[path];
    if (value === undefined) continue;
    // A nested reference is only read out of an object holder (readDocuments), so the holder is one here.
    const set = (resolved: unknown) => {
      if (reference.parent)
        body[reference.parent] = {
          ...(body[reference.parent] as Record<string, unknown>),
          [reference.restField]: resolved,
        };
      else body[reference.restField] = resolved;
    };
    if (value === null) {
      set(null);
      continue;
    }
    const one = (ref: string, field: string) => {
      const resolved = resolve(reference.targets, ref);
      if ('id' in resolved) return resolved.id;
      problems.push({ ...label, field, rule: resolved.rule, message: resolved.problem });
      return undefined;
    };
    set(Array.isArray(value) ? value.map((ref, i) => one(ref, `${path}[${i}]`)) : one(value, path));
  }
  return { body, problems };
}

/** The REST schema's problems with a document's body, renamed to the bundle's fields (`nextStepIds[2]` → `next[2]`). */
export function checkDocumentFields(
  doc: BundleDocument,
  body: Record<string, unknown>,
): { input?: unknown; problems: BundleProblem[] } {
  const schema = ENTITY_BY_NAME[doc.kind].input as z.ZodType;
  const label = { document: doc.index, kind: doc.kind, ref: `${doc.name}@${doc.version}` };
  const unstorable = unstorableValues(body);
  const result = schema.safeParse(body, { reportInput: true });
  const details = [...unstorable, ...(result.success ? [] : issuesToDetails(result.error.issues))];
  const problems = details.map((detail) => ({
    ...label,
    ...detail,
    field: bundleFieldOf(doc.kind, detail.field),
  }));
  return problems.length === 0 && result.success ? { input: result.data, problems } : { problems };
}

/**
 * Graph checks over the bundle's own steps: `next` must not form a cycle, and every workflow whose steps are all in
 * the bundle must be a valid DAG (the rules of domain/dag.ts). Steps and workflows that involve stored entities are
 * checked by the server, on the graph as it will be.
 */
export function bundleGraphProblems(documents: readonly BundleDocument[]): BundleProblem[] {
  const steps = new Map<string, GraphStep & { doc: BundleDocument }>();
  for (const doc of documents)
    if (doc.kind === 'Step') {
      const ref = `${doc.name}@${doc.version}`;
      const next = doc.refs.next;
      steps.set(ref, { id: ref, name: doc.name, nextStepIds: Array.isArray(next) ? next : [], doc });
    }
  const problems: BundleProblem[] = [];
  // A cycle through `next` among the bundle's steps, wherever they belong. Depth-first without recursion: a chain
  // of 10,000 steps is 10,000 deep.
  const state = new Map<string, 'visiting' | 'done'>();
  const reported = new Set<string>();
  const visit = (root: string) => {
    if (state.has(root)) return;
    /** The steps being visited, root first, each with where it is in its own `next`. */
    const path: string[] = [];
    const positions: number[] = [];
    const enter = (ref: string) => {
      state.set(ref, 'visiting');
      path.push(ref);
      positions.push(0);
    };
    enter(root);
    while (path.length > 0) {
      const ref = path[path.length - 1]!;
      const position = positions[positions.length - 1]!;
      const nextStepIds = steps.get(ref)!.nextStepIds;
      if (position >= nextStepIds.length) {
        state.set(ref, 'done');
        path.pop();
        positions.pop();
        continue;
      }
      positions[positions.length - 1] = position + 1;
      const next = nextStepIds[position]!;
      if (!steps.has(next) || state.get(next) === 'done') continue;
      if (state.get(next) === 'visiting') {
        const cycle = [...path.slice(path.indexOf(next)), next];
        if (!reported.has(next)) {
          reported.add(next);
          problems.push({
            document: steps.get(next)!.doc.index,
            kind: 'Step',
            ref: next,
            field: 'next',
            rule: 'acyclic',
            message: `the steps form a cycle through next: ${cycle.join(' → ')}`,
          });
        }
        continue;
      }
      enter(next);
    }
  };
  for (const ref of steps.keys()) visit(ref);
  if (problems.length > 0) return problems;
  for (const doc of documents) {
    if (doc.kind !== 'Workflow' || !Array.isArray(doc.refs.steps)) continue;
    const members = doc.refs.steps;
    if (!members.every((ref) => steps.has(ref))) continue;
    for (const { message, rule } of validateGraph(members, steps))
      problems.push({
        document: doc.index,
        kind: 'Workflow',
        ref: `${doc.name}@${doc.version}`,
        field: 'steps',
        rule,
        message,
      });
  }
  return problems;
}

/** An entity a reference may name: a document of the bundle or a stored entity. */
export interface Candidate {
  kind: BundleKind;
  name: string;
  version: string;
  connectionString?: string;
  id: string;
}

/**
 * Resolves references over `candidates`. A reference no candidate matches is a problem, or, with `external`, gets
 * a stand-in ID and is recorded in `external` (offline validation: it may be stored on the server).
 */
export function resolverOver(candidates: readonly Candidate[], external?: Map<string, string>): RefResolver {
  const byRef = new Map<string, Candidate[]>();
  for (const candidate of candidates) {
    const key = `${candidate.name}@${candidate.version}`;
    byRef.set(key, [...(byRef.get(key) ?? []), candidate]);
  }
  return (targets, ref) => {
    const matches = (byRef.get(ref) ?? []).filter((c) => targets.includes(c.kind));
    if (matches.length === 1) return { id: matches[0]!.id };
    if (matches.length > 1)
      return {
        rule: 'ambiguous',
        problem:
          `${ref} names ${matches.length} entities: ` +
          matches.map((c) => `${c.kind} with connectionString "${c.connectionString ?? ''}"`).join(', ') +
          ' (give them distinct names or versions)',
      };
    if (external) {
      const key = `${targets.join('|')} ${ref}`;
      if (!external.has(key)) external.set(key, placeholderId(candidates.length + external.size));
      return { id: external.get(key)! };
    }
    return {
      rule: 'exists',
      problem: `no ${targets.join(' or ')} ${ref} in the bundle or stored`,
    };
  };
}

/** A stand-in GUID for an entity that has none yet (a document to create, or a reference checked offline). */
export const placeholderId = (n: number) =>
  `00000000-0000-4000-8000-${(n + 1).toString(16).padStart(12, '0')}`;

/** The bundle's documents as candidates, with the IDs `idOf` gives them. */
export function documentCandidates(
  documents: readonly BundleDocument[],
  idOf: (doc: BundleDocument) => string,
) {
  return documents.map((doc) => ({
    kind: doc.kind,
    name: doc.name,
    version: doc.version,
    ...(doc.connectionString !== undefined ? { connectionString: doc.connectionString } : {}),
    id: idOf(doc),
  }));
}

export interface CheckedDocument {
  doc: BundleDocument;
  /** The REST input, parsed (defaults applied), with references resolved. */
  input: Record<string, unknown>;
}

/**
 * Every check that needs no database: the documents, their fields against the REST schemas, their references (over
 * the bundle and `stored`), and the bundle's graph. Answers every problem at once; `documents` only when there are
 * none. Offline (`offline: true`), references to entities outside the bundle are listed in `external` instead.
 */
export function checkBundle(
  raw: readonly unknown[],
  options: CheckOptions = {},
): { checked?: CheckedDocument[]; problems: BundleProblem[]; external: string[] } {
  return checkRead(readDocuments(raw), options);
}

export interface CheckOptions {
  stored?: readonly Candidate[];
  idOf?: (doc: BundleDocument) => string;
  offline?: boolean;
}

/** {@link checkBundle} over documents already read (the server reads them first, to load what they name). */
export function checkRead(
  read: { documents: BundleDocument[]; problems: BundleProblem[] },
  options: CheckOptions = {},
): { checked?: CheckedDocument[]; problems: BundleProblem[]; external: string[] } {
  const { documents } = read;
  const problems = [...read.problems];
  const idOf = options.idOf ?? ((doc: BundleDocument) => placeholderId(doc.index));
  const mine = documentCandidates(documents, idOf);
  const inBundle = new Set(mine.map((c) => documentKey(c)));
  // A document listed twice is one candidate (the duplicate is reported once, by readDocuments).
  const unique = [...new Map(mine.map((c) => [documentKey(c), c] as const)).values()];
  const candidates = [...unique, ...(options.stored ?? []).filter((c) => !inBundle.has(documentKey(c)))];
  const external = options.offline ? new Map<string, string>() : undefined;
  const resolve = resolverOver(candidates, external);
  const checked: CheckedDocument[] = [];
  for (const doc of documents) {
    /**
     * A field already reported (a malformed or unresolved reference) is not reported again as missing: a problem
     * stands for its top-level field, or for the nested reference it falls under.
     */
    const nested = REFERENCE_FIELDS[doc.kind].filter((r) => r.parent).map(refPath);
    const base = (field: string) =>
      nested.find((path) => field === path || field.startsWith(`${path}.`) || field.startsWith(`${path}[`)) ??
      field.split(/[.[]/)[0]!;
    const { body, problems: refProblems } = restBody(doc, resolve);
    const fields = checkDocumentFields(doc, body);
    const reported = new Set(
      [...problems, ...refProblems].filter((p) => p.document === doc.index).map((p) => base(p.field)),
    );
    problems.push(...refProblems, ...fields.problems.filter((p) => !reported.has(base(p.field))));
    if (fields.input !== undefined) checked.push({ doc, input: fields.input as Record<string, unknown> });
  }
  problems.push(...bundleGraphProblems(documents));
  problems.sort((a, b) => a.document - b.document);
  const externalRefs = [...(external?.keys() ?? [])].sort();
  return problems.length === 0
    ? { checked, problems, external: externalRefs }
    : { problems, external: externalRefs };
}
