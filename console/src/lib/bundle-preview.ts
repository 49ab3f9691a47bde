/**
 * A bundle's workflow as a graph while it is typed: YAML text (documents separated by `---`, or one
 * `{ documents: [...] }`) to the same GraphView the API's graph route answers, plus what is wrong with it (syntax
 * errors with their line, references to steps the bundle does not hold). Node IDs are `name@version`. Only a preview:
 * the API checks the whole bundle on Plan. Pure.
 */
import { isMap, isSeq, LineCounter, parseAllDocuments, type Node } from 'yaml';
import type { GraphNode, GraphView } from './graph';

export interface PreviewProblem {
  /** 1-based line of the document or the syntax error, when known. */
  line?: number;
  message: string;
}

export interface BundlePreview {
  /** The workflow drawn: the one the OrchestratedFlow names, else the first; null without one (or unreadable YAML). */
  view: GraphView | null;
  problems: PreviewProblem[];
  /** How many documents the bundle holds. */
  documents: number;
}

interface RawDocument {
  value: unknown;
  line: number | undefined;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The text of a name or version as the API reads it (a YAML number such as `1.0` is read as `1`). */
const text = (value: unknown): string =>
  typeof value === 'string' ? value.trim() : typeof value === 'number' ? String(value) : '';

const refOf = (doc: Record<string, unknown>) => `${text(doc.name)}@${text(doc.version)}`;

const refList = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];

/** The documents of the text, each with its first line; or the syntax errors, each with its line. */
function readText(source: string): { documents: RawDocument[]; problems: PreviewProblem[] } {
  const lineCounter = new LineCounter();
  const parsed = parseAllDocuments(source, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const docs = Array.isArray(parsed) ? parsed : [];
  const problems = docs.flatMap((doc) =>
    doc.errors.map((error) => {
      const line = lineCounter.linePos(error.pos[0]).line;
      return { line, message: `line ${line}: ${error.message.split('\n')[0]}` };
    }),
  );
  if (problems.length > 0) return { documents: [], problems };
  const lineOf = (node: Node | null | undefined) =>
    node?.range ? lineCounter.linePos(node.range[0]).line : undefined;
  const nonEmpty = docs.filter((doc) => doc.contents !== null);
  const only = nonEmpty.length === 1 ? nonEmpty[0] : undefined;
  const wrapped =
    only && isMap(only.contents) && only.has('documents') ? only.get('documents', true) : undefined;
  if (only && wrapped !== undefined) {
    if (!isSeq(wrapped))
      return {
        documents: [],
        problems: [{ line: lineOf(only.contents), message: 'documents must be a list' }],
      };
    const values = (only.toJS({ maxAliasCount: 100 }) as { documents: unknown[] }).documents;
    return {
      documents: values.map((value, i) => ({ value, line: lineOf(wrapped.items[i] as Node | undefined) })),
      problems: [],
    };
  }
  return {
    documents: nonEmpty.map((doc) => ({
      value: doc.toJS({ maxAliasCount: 100 }) as unknown,
      line: lineOf(doc.contents),
    })),
    problems: [],
  };
}

/**
 * The layer of each step: 0 for entry points, one more than the furthest predecessor; and a step on a cycle, if
 * there is one (the walk stops there).
 */
function layers(
  ids: readonly string[],
  predecessors: ReadonlyMap<string, readonly string[]>,
): { layer: Map<string, number>; onCycle?: string } {
  const layer = new Map<string, number>();
  const visiting = new Set<string>();
  let onCycle: string | undefined;
  const visit = (id: string): number => {
    const known = layer.get(id);
    if (known !== undefined) return known;
    if (visiting.has(id)) {
      onCycle ??= id;
      return 0;
    }
    visiting.add(id);
    const value = Math.max(-1, ...(predecessors.get(id) ?? []).map(visit)) + 1;
    visiting.delete(id);
    layer.set(id, value);
    return value;
  };
  ids.forEach(visit);
  return onCycle === undefined ? { layer } : { layer, onCycle };
}

/** The preview of bundle text: its workflow's graph and the problems found on the way. */
export function previewBundle(source: string): BundlePreview {
  const read = readText(source);
  if (read.problems.length > 0) return { view: null, problems: read.problems, documents: 0 };
  const problems: PreviewProblem[] = [];
  const documents: Array<{ doc: Record<string, unknown>; line: number | undefined }> = [];
  read.documents.forEach(({ value, line }, i) => {
    if (!isObject(value)) problems.push({ line, message: `document ${i + 1} is not a mapping of fields` });
    else if (typeof value.kind !== 'string')
      problems.push({ line, message: `document ${i + 1} has no kind` });
    else if (!text(value.name) || !text(value.version))
      problems.push({ line, message: `${value.kind} document ${i + 1} needs a name and a version` });
    else documents.push({ doc: value, line });
  });
  const label = (doc: Record<string, unknown>) => `${String(doc.kind)} ${refOf(doc)}`;
  const ofKind = (kind: string) => documents.filter(({ doc }) => doc.kind === kind);

  const steps = new Map<string, { doc: Record<string, unknown>; line: number | undefined }>();
  for (const entry of ofKind('Step')) {
    const ref = refOf(entry.doc);
    if (steps.has(ref)) problems.push({ line: entry.line, message: `Step ${ref} is in the bundle twice` });
    else steps.set(ref, entry);
  }
  const workflows = ofKind('Workflow');
  const flow = ofKind('OrchestratedFlow')[0];
  const named = flow && typeof flow.doc.workflow === 'string' ? flow.doc.workflow : undefined;
  if (flow && named && !workflows.some(({ doc }) => refOf(doc) === named))
    problems.push({
      line: flow.line,
      message: `${label(flow.doc)}: workflow ${named} is not a Workflow in this bundle`,
    });
  const chosen = workflows.find(({ doc }) => refOf(doc) === named) ?? workflows[0];
  if (!chosen) {
    if (documents.length > 0)
      problems.push({ message: 'the bundle has no Workflow document: nothing to draw' });
    return { view: null, problems, documents: read.documents.length };
  }

  const members: string[] = [];
  refList(chosen.doc.steps).forEach((ref, i) => {
    if (members.includes(ref))
      problems.push({ line: chosen.line, message: `${label(chosen.doc)}: steps[${i}] lists ${ref} twice` });
    else if (!steps.has(ref))
      problems.push({
        line: chosen.line,
        message: `${label(chosen.doc)}: steps[${i}] ${ref} is not a Step in this bundle`,
      });
    else members.push(ref);
  });
  const inWorkflow = new Set(members);
  const edges: GraphView['edges'] = [];
  const predecessors = new Map<string, string[]>();
  for (const from of members) {
    const { doc, line } = steps.get(from)!;
    refList(doc.next).forEach((to, i) => {
      if (!inWorkflow.has(to)) {
        problems.push({
          line,
          message: `${label(doc)}: next[${i}] ${to} is ${steps.has(to) ? 'not a step of' : 'not a Step in this bundle nor in'} workflow ${refOf(chosen.doc)}`,
        });
        return;
      }
      edges.push({ from, to });
      predecessors.set(to, [...(predecessors.get(to) ?? []), from]);
    });
  }
  const { layer, onCycle } = layers(members, predecessors);
  if (onCycle !== undefined)
    problems.push({
      line: steps.get(onCycle)!.line,
      message: `the steps form a cycle through next at ${onCycle}`,
    });
  const nodes = members.map((ref): GraphNode => {
    const { doc } = steps.get(ref)!;
    return {
      id: ref,
      name: text(doc.name),
      version: text(doc.version),
      processor: typeof doc.processor === 'string' ? doc.processor : '',
      entryCondition: typeof doc.entryCondition === 'string' ? doc.entryCondition : 'PreviousSuccess',
      entryPoint: !predecessors.has(ref),
      layer: layer.get(ref) ?? 0,
    };
  });
  const name = text(chosen.doc.name);
  const version = text(chosen.doc.version);
  return {
    view: { workflow: { id: `${name}@${version}`, name, version }, nodes, edges },
    problems,
    documents: read.documents.length,
  };
}
