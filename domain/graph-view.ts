/**
 * A workflow's DAG as people look at it: nodes in layers (left to right, each step one layer after its furthest
 * predecessor), edges, entry points; and the same as Mermaid or as a standalone SVG for READMEs. Pure.
 */
import { findEntryPoints, topologicalOrder, predecessorsOf, type GraphStep } from './dag';

export interface GraphViewStep extends GraphStep {
  version: string;
  entryCondition: string;
  /** `name@version` of the processor. */
  processor: string;
}

export interface GraphView {
  workflow: { id: string; name: string; version: string };
  nodes: Array<{
    id: string;
    name: string;
    version: string;
    processor: string;
    entryCondition: string;
    entryPoint: boolean;
    /** 0 for entry points; one more than the furthest predecessor. */
    layer: number;
  }>;
  edges: Array<{ from: string; to: string }>;
}

/** @throws DagError for a cycle (a stored workflow never has one: writes refuse them). */
export function buildGraphView(
  workflow: GraphView['workflow'],
  stepIds: readonly string[],
  steps: ReadonlyMap<string, GraphViewStep>,
): GraphView {
  const entry = new Set(findEntryPoints(stepIds, steps));
  const predecessors = predecessorsOf(stepIds, steps);
  const layer = new Map<string, number>();
  for (const id of topologicalOrder(stepIds, steps))
    layer.set(id, Math.max(-1, ...(predecessors.get(id) ?? []).map((p) => layer.get(p) ?? 0)) + 1);
  const members = new Set(stepIds);
  return {
    workflow,
    nodes: stepIds.map((id) => {
      const step = steps.get(id)!;
      return {
        id,
        name: step.name,
        version: step.version,
        processor: step.processor,
        entryCondition: step.entryCondition,
        entryPoint: entry.has(id),
        layer: layer.get(id) ?? 0,
      };
    }),
    edges: stepIds.flatMap((id) =>
      steps
        .get(id)!
        .nextStepIds.filter((next) => members.has(next))
        .map((to) => ({ from: id, to })),
    ),
  };
}

const conditionNote = (condition: string) => (condition === 'PreviousSuccess' ? '' : ` [${condition}]`);

/** `flowchart LR`, one node per step (name, processor, condition), entry points drawn as stadiums. */
export function toMermaid(view: GraphView): string {
  const index = new Map(view.nodes.map((node, i) => [node.id, `s${i}`]));
  const label = (text: string) => text.replace(/"/g, '#quot;');
  return [
    'flowchart LR',
    ...view.nodes.map((node) => {
      const text = label(`${node.name}<br/>${node.processor}${conditionNote(node.entryCondition)}`);
      return node.entryPoint ? `  ${index.get(node.id)}(["${text}"])` : `  ${index.get(node.id)}["${text}"]`;
    }),
    ...view.edges.map((edge) => `  ${index.get(edge.from)} --> ${index.get(edge.to)}`),
  ].join('\n');
}

const NODE_WIDTH = 200;
const NODE_HEIGHT = 52;
const GAP_X = 60;
const GAP_Y = 20;
const PAD = 16;

const xml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const fit = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** A standalone SVG: layers as columns, nodes in workflow order within a layer, edges as curves. */
export function toSvg(view: GraphView): string {
  const rows = new Map<number, number>();
  const position = new Map<string, { x: number; y: number }>();
  for (const node of view.nodes) {
    const row = rows.get(node.layer) ?? 0;
    rows.set(node.layer, row + 1);
    position.set(node.id, {
      x: PAD + node.layer * (NODE_WIDTH + GAP_X),
      y: PAD + row * (NODE_HEIGHT + GAP_Y),
    });
  }
  const layers = Math.max(1, ...[...rows.keys()].map((l) => l + 1));
  const height = PAD * 2 + Math.max(1, ...rows.values()) * (NODE_HEIGHT + GAP_Y) - GAP_Y;
  const width = PAD * 2 + layers * (NODE_WIDTH + GAP_X) - GAP_X;
  const edges = view.edges.map((edge) => {
    const from = position.get(edge.from)!;
    const to = position.get(edge.to)!;
    const [x1, y1, x2, y2] = [from.x + NODE_WIDTH, from.y + NODE_HEIGHT / 2, to.x, to.y + NODE_HEIGHT / 2];
    const bend = Math.max(20, (x2 - x1) / 2);
    return `  <path d="M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}" marker-end="url(#arrow)"/>`;
  });
  const nodes = view.nodes.map((node) => {
    const { x, y } = position.get(node.id)!;
    const title = xml(fit(node.name, 26));
    const subtitle = xml(fit(`${node.processor}${conditionNote(node.entryCondition)}`, 34));
    return [
      `  <g data-step-name="${xml(node.name)}"><title>${xml(`${node.name}@${node.version}`)}</title>`,
      `    <rect x="${x}" y="${y}" width="${NODE_WIDTH}" height="${NODE_HEIGHT}" rx="${node.entryPoint ? NODE_HEIGHT / 2 : 6}"/>`,
      `    <text x="${x + 12}" y="${y + 21}" class="name">${title}</text>`,
      `    <text x="${x + 12}" y="${y + 39}" class="detail">${subtitle}</text>`,
      '  </g>',
    ].join('\n');
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${xml(`Workflow ${view.workflow.name}@${view.workflow.version}`)}">`,
    '  <style>rect{fill:#fff;stroke:#445}path{fill:none;stroke:#889;stroke-width:1.5}text{font:13px sans-serif;fill:#223}.detail{font-size:11px;fill:#667}</style>',
    '  <defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" style="fill:#889;stroke:none"/></marker></defs>',
    ...edges,
    ...nodes,
    '</svg>',
    '',
  ].join('\n');
}
