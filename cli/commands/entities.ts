/** `flowctl get`, `delete`, `graph`: stored definitions. */
import { BUNDLE_KINDS } from '../../api/bundle/document';
import type { GraphView } from '../../domain/graph-view';
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

type Listed = Named & { updatedAt?: string; description?: string };

export async function get(ctx: Context, kindText: string, ref: string | undefined): Promise<number> {
  const kind = kindOf(kindText);
  const api = await ctx.api();
  const { body: entities, headers } = ref
    ? { body: [(await findEntity(api, kind, ref)) as Listed], headers: undefined }
    : await api.request<Listed[]>('GET', `/api/${kind}?limit=1000`);
  ctx.out.show(ref ? entities[0] : entities, () => {
    ctx.out.line(
      table(
        ['ID', 'NAME', 'VERSION', 'UPDATED', 'DESCRIPTION'],
        entities.map((e) => [e.id, e.name, e.version, e.updatedAt ?? '', e.description ?? '']),
      ),
    );
    if (headers)
      ctx.out.line(
        `${entities.length} of ${headers.get('X-Total-Count') ?? entities.length} ${kind} entities`,
      );
  });
  return EXIT.ok;
}

export async function remove(ctx: Context, kindText: string, ref: string): Promise<number> {
  const kind = kindOf(kindText);
  const api = await ctx.api();
  const entity = await findEntity(api, kind, ref);
  await api.request('DELETE', `/api/${kind}/${entity.id}`);
  ctx.out.show({ deleted: { kind, id: entity.id, name: entity.name, version: entity.version } }, () =>
    ctx.out.line(`Deleted ${kind} ${entity.name}@${entity.version}`),
  );
  return EXIT.ok;
}

/** The flow's DAG (`GET /api/Workflow/{id}/graph`): an indented tree from the entry points, or Mermaid. */
export async function graph(ctx: Context, ref: string, options: { format?: string }): Promise<number> {
  const api = await ctx.api();
  const flow = (await findEntity(api, 'OrchestratedFlow', ref)) as Named & { workflowId: string };
  const route = `/api/Workflow/${flow.workflowId}/graph`;
  if (ctx.out.format === 'table' && options.format === 'mermaid') {
    process.stdout.write((await api.request<string>('GET', `${route}?format=mermaid`)).body);
    return EXIT.ok;
  }
  const view = (await api.request<GraphView>('GET', route)).body;
  ctx.out.show(view, () => printTree(ctx, view));
  return EXIT.ok;
}

/** The DAG as an indented tree from its entry points; a step reached again is named, not repeated. */
function printTree(ctx: Context, view: GraphView): void {
  const nodes = new Map(view.nodes.map((node) => [node.id, node]));
  const next = new Map<string, string[]>();
  for (const edge of view.edges) next.set(edge.from, [...(next.get(edge.from) ?? []), edge.to]);
  const label = (node: GraphView['nodes'][number]) =>
    `${node.name}@${node.version}${node.entryCondition === 'PreviousSuccess' ? '' : ` [${node.entryCondition}]`}`;
  const shown = new Set<string>();
  const walk = (id: string, depth: number) => {
    const node = nodes.get(id)!;
    const again = shown.has(id);
    ctx.out.line(
      `${'  '.repeat(depth)}${depth === 0 ? '● ' : '└─ '}${label(node)}${again ? ' (see above)' : ''}`,
    );
    if (again) return;
    shown.add(id);
    for (const target of next.get(id) ?? []) walk(target, depth + 1);
  };
  for (const node of view.nodes) if (node.entryPoint) walk(node.id, 0);
}
