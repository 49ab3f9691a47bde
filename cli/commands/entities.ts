/** `flowctl get`, `delete`, `graph`: stored definitions. */
import { BUNDLE_KINDS } from '../../api/bundle/document';
import { CliError, EXIT } from '../client';
import { table } from '../output';
import { findEntity, type Context, type Named } from './context';

/** `step`, `steps`, `Step` → `Step`. @throws CliError (exit 4) for an unknown kind. */
export function kindOf(text: string): string {
  const wanted = text.toLowerCase().replace(/s$/, '');
  const kind = BUNDLE_KINDS.find(
    (k) => k.toLowerCase() === wanted || (k === 'Address' && wanted === 'addresse'),
  );
  if (!kind) throw new CliError(`unknown kind "${text}": one of ${BUNDLE_KINDS.join(', ')}`, EXIT.usage);
  return kind;
}

export async function get(ctx: Context, kindText: string, ref: string | undefined): Promise<number> {
  const kind = kindOf(kindText);
  const api = await ctx.api();
  if (ref) {
    const entity = await findEntity(api, kind, ref);
    if (ctx.out.format === 'table') {
      const { id, name, version, description, updatedAt } = entity as Named & Record<string, string>;
      ctx.out.line(
        table(
          ['ID', 'NAME', 'VERSION', 'UPDATED', 'DESCRIPTION'],
          [[id, name, version, updatedAt ?? '', description ?? '']],
        ),
      );
    } else ctx.out.data(entity);
    return EXIT.ok;
  }
  const { body, headers } = await api.request<Array<Named & Record<string, string>>>(
    'GET',
    `/api/${kind}?limit=1000`,
  );
  if (ctx.out.format !== 'table') {
    ctx.out.data(body);
    return EXIT.ok;
  }
  ctx.out.line(
    table(
      ['ID', 'NAME', 'VERSION', 'UPDATED', 'DESCRIPTION'],
      body.map((e) => [e.id, e.name, e.version, e.updatedAt ?? '', e.description ?? '']),
    ),
  );
  ctx.out.line(`${body.length} of ${headers.get('X-Total-Count') ?? body.length} ${kind} entities`);
  return EXIT.ok;
}

export async function remove(ctx: Context, kindText: string, ref: string): Promise<number> {
  const kind = kindOf(kindText);
  const api = await ctx.api();
  const entity = await findEntity(api, kind, ref);
  await api.request('DELETE', `/api/${kind}/${entity.id}`);
  if (ctx.out.format !== 'table')
    ctx.out.data({ deleted: { kind, id: entity.id, name: entity.name, version: entity.version } });
  else ctx.out.line(`Deleted ${kind} ${entity.name}@${entity.version}`);
  return EXIT.ok;
}

interface GraphStep {
  id: string;
  name: string;
  version: string;
  nextStepIds: string[];
  entryCondition: string;
  processorId: string;
}

/** The flow's DAG: Mermaid (`flowchart LR`) or an indented tree from the entry points. */
export async function graph(ctx: Context, ref: string, options: { format?: string }): Promise<number> {
  const api = await ctx.api();
  const flow = (await findEntity(api, 'OrchestratedFlow', ref)) as Named & { workflowId: string };
  const workflow = (await api.request<{ stepIds: string[] }>('GET', `/api/Workflow/${flow.workflowId}`)).body;
  const steps = new Map<string, GraphStep>();
  for (const id of workflow.stepIds)
    steps.set(id, (await api.request<GraphStep>('GET', `/api/Step/${id}`)).body);
  const targets = new Set([...steps.values()].flatMap((s) => s.nextStepIds));
  const entries = workflow.stepIds.filter((id) => !targets.has(id));
  if (ctx.out.format !== 'table') {
    ctx.out.data({ flow: `${flow.name}@${flow.version}`, entryPoints: entries, steps: [...steps.values()] });
    return EXIT.ok;
  }
  const label = (s: GraphStep) =>
    `${s.name}@${s.version}${s.entryCondition === 'PreviousSuccess' ? '' : ` [${s.entryCondition}]`}`;
  if ((options.format ?? 'tree') === 'mermaid') {
    const node = (s: GraphStep) =>
      `  s${workflow.stepIds.indexOf(s.id)}["${label(s).replace(/"/g, '#quot;')}"]`;
    ctx.out.line('flowchart LR');
    for (const s of steps.values()) ctx.out.line(node(s));
    for (const s of steps.values())
      for (const next of s.nextStepIds)
        ctx.out.line(`  s${workflow.stepIds.indexOf(s.id)} --> s${workflow.stepIds.indexOf(next)}`);
    return EXIT.ok;
  }
  if (options.format !== 'tree') throw new CliError('--format is tree or mermaid', EXIT.usage);
  const shown = new Set<string>();
  const walk = (id: string, depth: number) => {
    const s = steps.get(id);
    if (!s) return;
    const again = shown.has(id);
    ctx.out.line(
      `${'  '.repeat(depth)}${depth === 0 ? '● ' : '└─ '}${label(s)}${again ? ' (see above)' : ''}`,
    );
    if (again) return;
    shown.add(id);
    for (const next of s.nextStepIds) walk(next, depth + 1);
  };
  for (const id of entries) walk(id, 0);
  return EXIT.ok;
}
