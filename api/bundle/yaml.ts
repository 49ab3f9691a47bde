/**
 * Bundle files: YAML (one document per entity, separated by `---`) or JSON, read with the positions of every node,
 * so a problem found in document 3, field `next[1]` can be shown at `greeting.yaml:27`.
 */
import {
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseAllDocuments,
  type Document,
  type Node,
  type Pair,
} from 'yaml';

/** Raised for text that is not YAML; names the line and column. */
export class BundleSyntaxError extends Error {
  override name = 'BundleSyntaxError';

  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(message);
  }
}

export interface ParsedBundle {
  /** Each document as plain data. */
  documents: unknown[];
  /** The 1-based line of a document's field (`next[1]`, `configuration.expression`), or of the document. */
  lineOf(document: number, field?: string): number | undefined;
}

/** Parses bundle text. A JSON `{ "documents": [...] }` file is one YAML document holding them all. @throws BundleSyntaxError */
export function parseBundleText(text: string): ParsedBundle {
  const lineCounter = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const docs: Document[] = Array.isArray(parsed) ? parsed : [];
  for (const doc of docs)
    for (const error of doc.errors) {
      const { line, col } = lineCounter.linePos(error.pos[0]);
      throw new BundleSyntaxError(`line ${line}, column ${col}: ${error.message.split('\n')[0]}`, line, col);
    }
  const nonEmpty = docs.filter((doc) => doc.contents !== null);
  // `{ documents: [...] }` (what the API and `flowctl export -o json` use) holds the documents one level down.
  const wrapped =
    nonEmpty.length === 1 && isMap(nonEmpty[0]!.contents) && nonEmpty[0]!.has('documents')
      ? (nonEmpty[0]!.get('documents', true) as Node | undefined)
      : undefined;
  const nodes: Node[] =
    wrapped && isSeq(wrapped) ? (wrapped.items as Node[]) : nonEmpty.map((doc) => doc.contents as Node);
  const documents = wrapped
    ? ((nonEmpty[0]!.toJS({ maxAliasCount: 100 }) as { documents: unknown[] }).documents ?? [])
    : nonEmpty.map((doc) => doc.toJS({ maxAliasCount: 100 }) as unknown);
  const line = (node: Node | undefined) =>
    node?.range ? lineCounter.linePos(node.range[0]).line : undefined;
  return {
    documents,
    lineOf(document, field) {
      const root = nodes[document];
      if (!root) return undefined;
      let node: Node | undefined = root;
      let last = line(root);
      for (const key of field ? (field.match(/[^.[\]]+/g) ?? []) : []) {
        if (isMap(node)) {
          const pair: Pair | undefined = node.items.find(
            (item) => isScalar(item.key) && String(item.key.value) === key,
          );
          if (!pair) break;
          last = line(pair.key as Node) ?? last;
          node = (pair.value as Node | null) ?? undefined;
        } else if (isSeq(node) && /^\d+$/.test(key)) {
          node = node.items[Number(key)] as Node | undefined;
          last = line(node) ?? last;
        } else break;
      }
      return last;
    },
  };
}
