/** `flowctl apply`, `validate` and `export`: bundles of definitions. */
import { writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';
import { checkBundle } from '../../api/bundle/document';
import type { BundleResult, PlannedChange } from '../../api/bundle/service';
import { CliError, EXIT } from '../client';
import { problemLines, readBundleFiles, type BundleFiles } from '../bundle-files';
import { table } from '../output';
import type { Context } from './context';

function changeRows(ctx: Context, changes: PlannedChange[]): string[][] {
  const { color } = ctx.out;
  const painted = {
    create: color('green', 'create'),
    update: color('yellow', 'update'),
    unchanged: 'unchanged',
    delete: color('red', 'delete'),
  };
  return changes.map((c) => [
    painted[c.action],
    c.kind,
    `${c.name}@${c.version}${c.connectionString ? ` (${c.connectionString})` : ''}`,
    c.fields?.join(', ') ?? '',
  ]);
}

function printResult(ctx: Context, result: BundleResult, title: string): void {
  if (ctx.out.format !== 'table') return ctx.out.data(result);
  ctx.out.line(table(['ACTION', 'KIND', 'NAME', 'CHANGED FIELDS'], changeRows(ctx, result.changes)));
  const { create, update, unchanged, delete: deleted } = result.summary;
  ctx.out.line(
    `${title}: ${create} to create, ${update} to update, ${unchanged} unchanged${deleted ? `, ${deleted} to delete` : ''}`,
  );
}

/** Problems found offline or by the API, each at its file and line. @throws CliError (exit 1). */
function refuse(
  files: BundleFiles,
  message: string,
  problems: ReadonlyArray<Record<string, unknown>>,
): never {
  throw new CliError(`${message}\n${problemLines(files, problems).join('\n')}`, EXIT.failed);
}

export async function apply(ctx: Context, paths: string[], options: { dryRun?: boolean }): Promise<number> {
  const files = await readBundleFiles(paths);
  const offline = checkBundle(files.documents, { offline: true });
  if (offline.problems.length > 0)
    refuse(files, `The bundle has ${offline.problems.length} problem(s):`, offline.problems);
  const api = await ctx.api();
  const send = async (route: 'plan' | 'apply') => {
    try {
      return (
        await api.request<BundleResult>('POST', `/api/Bundle/${route}`, {
          body: { documents: files.documents },
        })
      ).body;
    } catch (error) {
      if (error instanceof CliError && error.details.length > 0)
        refuse(files, error.message.split(':')[0]!, error.details);
      throw error;
    }
  };
  const plan = await send('plan');
  const pending = plan.summary.create + plan.summary.update + plan.summary.delete;
  if (options.dryRun || pending === 0) {
    printResult(ctx, plan, options.dryRun ? 'Plan (dry run, nothing applied)' : 'Nothing to do');
    return EXIT.ok;
  }
  if (ctx.out.format === 'table') {
    ctx.out.line(table(['ACTION', 'KIND', 'NAME', 'CHANGED FIELDS'], changeRows(ctx, plan.changes)));
    ctx.out.line();
  }
  const applied = await send('apply');
  if (ctx.out.format !== 'table') ctx.out.data(applied);
  else {
    const { create, update, unchanged } = applied.summary;
    ctx.out.line(
      ctx.out.color('bold', `Applied: ${create} created, ${update} updated, ${unchanged} unchanged`),
    );
  }
  return EXIT.ok;
}

export async function validate(ctx: Context, paths: string[]): Promise<number> {
  const files = await readBundleFiles(paths);
  const { problems, external } = checkBundle(files.documents, { offline: true });
  if (ctx.out.format !== 'table') {
    ctx.out.data({ valid: problems.length === 0, documents: files.documents.length, problems, external });
    return problems.length === 0 ? EXIT.ok : EXIT.failed;
  }
  if (problems.length > 0) refuse(files, `The bundle has ${problems.length} problem(s):`, problems);
  ctx.out.line(`Valid: ${files.documents.length} document(s).`);
  if (external.length > 0) ctx.out.line(`Must already be stored on the server: ${external.join(', ')}`);
  return EXIT.ok;
}

export async function exportFlow(ctx: Context, ref: string, options: { output?: string }): Promise<number> {
  const api = await ctx.api();
  const { body } = await api.request<{ documents: unknown[] }>(
    'GET',
    `/api/Bundle/export?flow=${encodeURIComponent(ref)}`,
  );
  const text =
    ctx.out.format === 'json'
      ? `${JSON.stringify(body, null, 2)}\n`
      : body.documents.map((doc) => stringify(doc, { lineWidth: 0 })).join('---\n');
  if (options.output) {
    await writeFile(options.output, text);
    ctx.out.note(`written ${options.output} (${body.documents.length} documents)`);
  } else process.stdout.write(text);
  return EXIT.ok;
}
