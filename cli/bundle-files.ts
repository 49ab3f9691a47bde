/** Bundle files on disk: a file or every .yaml / .yml / .json of a directory, documents kept with their file and line. */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { BundleProblem } from '../api/bundle/document';
import { BundleSyntaxError, parseBundleText, type ParsedBundle } from '../api/bundle/yaml';
import { CliError, EXIT } from './client';

export interface BundleFiles {
  documents: unknown[];
  /** `file:line` of document `index` (of all files, in order) and a field of it. */
  where(index: number, field?: string): string;
}

const BUNDLE_FILE = /\.(ya?ml|json)$/i;

/** @throws CliError (exit 4) for a missing path, (exit 1) for a file that is not YAML. */
export async function readBundleFiles(paths: string[]): Promise<BundleFiles> {
  const files: string[] = [];
  /** Files found in a directory, rather than named: a JSON file there that is not a bundle is skipped. */
  const found = new Set<string>();
  for (const given of paths) {
    const info = await stat(given).catch(() => undefined);
    if (!info) throw new CliError(`${given}: no such file or directory`, EXIT.usage);
    if (info.isDirectory())
      for (const name of (await readdir(given)).filter((n) => BUNDLE_FILE.test(n)).sort()) {
        files.push(path.join(given, name));
        found.add(path.join(given, name));
      }
    else files.push(given);
  }
  if (files.length === 0)
    throw new CliError(`no .yaml, .yml or .json file in ${paths.join(', ')}`, EXIT.usage);
  const parts: Array<{ file: string; parsed: ParsedBundle; first: number }> = [];
  const documents: unknown[] = [];
  for (const file of files) {
    let parsed: ParsedBundle;
    try {
      parsed = parseBundleText(await readFile(file, 'utf8'));
    } catch (error) {
      if (error instanceof BundleSyntaxError)
        throw new CliError(
          `${file}:${error.line}:${error.column}: not valid YAML: ${error.message}`,
          EXIT.failed,
        );
      throw error;
    }
    // tsconfig.json, package.json …: JSON that holds no `kind` is not a bundle document.
    const isBundle = parsed.documents.every(
      (doc) => typeof doc === 'object' && doc !== null && 'kind' in doc,
    );
    if (found.has(file) && /\.json$/i.test(file) && !isBundle) continue;
    parts.push({ file, parsed, first: documents.length });
    documents.push(...parsed.documents);
  }
  return {
    documents,
    where(index, field) {
      const part = [...parts].reverse().find((p) => p.first <= index) ?? parts[0]!;
      const line = part.parsed.lineOf(index - part.first, field);
      return `${part.file}${line ? `:${line}` : ''}`;
    },
  };
}

/** One line per problem: `file:line  Step Shout@1.0  next[0]: message (rule)`. */
export function problemLines(files: BundleFiles, problems: ReadonlyArray<Partial<BundleProblem>>): string[] {
  return problems.map((p) => {
    const where = typeof p.document === 'number' ? files.where(p.document, p.field) : 'bundle';
    const what = p.kind ? `${p.kind} ${p.ref ?? ''}`.trim() : `document ${(p.document ?? 0) + 1}`;
    return `${where}  ${what}  ${p.field ?? ''}: ${p.message ?? ''}${p.rule ? ` (${p.rule})` : ''}`;
  });
}
