/**
 * A workflow's graph (`GET /api/Workflow/{id}/graph?format=json`, built by domain/graph-view.ts) as React Flow
 * nodes and edges, with each node's state in the selected run; the ELK input for a layered left-to-right layout and
 * its result as positions; and an instant layout by layer to draw while ELK works. Pure: no React, no DOM.
 */
import type { Edge, Node } from '@xyflow/react';
import type { ElkNode } from 'elkjs/lib/elk-api';
import { durationBetween } from './format';
import { itemsProgress, type ItemCounts } from './run-control';
import { nodeAccessibleName, stepLook } from './status';

export interface GraphNode {
  id: string;
  name: string;
  version: string;
  /** `name@version` of the processor. */
  processor: string;
  entryCondition: string;
  entryPoint: boolean;
  /** 0 for entry points; one more than the furthest predecessor. */
  layer: number;
}

export interface GraphView {
  workflow: { id: string; name: string; version: string };
  nodes: GraphNode[];
  edges: Array<{ from: string; to: string }>;
}

/** What a node shows of its step in the selected run. */
export interface RunStepState {
  stepId: string;
  status: string;
  attempts: number;
  startedAt?: string;
  completedAt?: string;
  /** A rerun carried this state over from that run. */
  reusedFrom?: { runId: string };
  /** A for-each step's item counts. */
  items?: ItemCounts;
}

export interface StepNodeData extends Record<string, unknown> {
  name: string;
  processor: string;
  entryCondition: string;
  entryPoint: boolean;
  /** The step's status in the selected run (`Pending` … `Cancelled`), or `NotRun` while no run is selected. */
  status: string;
  /** The status in words: `Succeeded`, `Not run`. */
  statusLabel: string;
  attempts?: number;
  durationMs?: number;
  /** The run a rerun reused this step's state from. */
  reusedFromRunId?: string;
  /** A for-each step's progress in words: `12/50 done, 1 failed, 5 running`. */
  itemsText?: string;
}

export type StepNode = Node<StepNodeData, 'step'>;

export const NODE_WIDTH = 230;
export const NODE_HEIGHT = 96;
const GAP_X = 70;
const GAP_Y = 24;

export type Positions = ReadonlyMap<string, { x: number; y: number }>;

/** Layers as columns, nodes in workflow order within a layer: instant, and close to ELK's for small graphs. */
export function layerLayout(view: GraphView): Positions {
  const rows = new Map<number, number>();
  const positions = new Map<string, { x: number; y: number }>();
  for (const node of view.nodes) {
    const row = rows.get(node.layer) ?? 0;
    rows.set(node.layer, row + 1);
    positions.set(node.id, { x: node.layer * (NODE_WIDTH + GAP_X), y: row * (NODE_HEIGHT + GAP_Y) });
  }
  return positions;
}

/** ELK's input: a layered layout, left to right, every node the same size, edges in workflow order. */
export function toElkGraph(view: GraphView): ElkNode {
  const large = view.nodes.length > 300;
  return {
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'RIGHT',
      'elk.spacing.nodeNode': String(GAP_Y),
      'elk.layered.spacing.nodeNodeBetweenLayers': String(GAP_X),
      // Small graphs get crossing minimisation that keeps the workflow's order where it can. Big ones keep the
      // workflow order as it is within each layer: a cold 1,000-step layout takes about 1.5 s instead of 5 s.
      ...(large
        ? { 'elk.layered.thoroughness': '1', 'elk.layered.crossingMinimization.strategy': 'NONE' }
        : { 'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES' }),
    },
    children: view.nodes.map((node) => ({ id: node.id, width: NODE_WIDTH, height: NODE_HEIGHT })),
    edges: view.edges.map((edge, i) => ({ id: `e${i}`, sources: [edge.from], targets: [edge.to] })),
  };
}

/** ELK's result as positions (nodes ELK left out keep no position: callers fall back to the layer layout). */
export function fromElkLayout(result: ElkNode): Positions {
  return new Map((result.children ?? []).map((child) => [child.id, { x: child.x ?? 0, y: child.y ?? 0 }]));
}

/** The node's state: its step in the run, `Pending` for a step the run does not list, `NotRun` without a run. */
export function nodeStatus(step: RunStepState | undefined, hasRun: boolean): string {
  if (!hasRun) return 'NotRun';
  return step?.status ?? 'Pending';
}

export interface BuildOptions {
  /** The selected run's steps; undefined while no run is selected. */
  runSteps?: readonly RunStepState[];
  positions: Positions;
  selectedStepId?: string | null;
  now: number;
}

/** React Flow nodes and edges for `view`; each node carries its accessible name and its test hooks. */
export function toFlowElements(view: GraphView, options: BuildOptions): { nodes: StepNode[]; edges: Edge[] } {
  const fallback = layerLayout(view);
  const steps = new Map((options.runSteps ?? []).map((step) => [step.stepId, step]));
  const hasRun = options.runSteps !== undefined;
  const names = new Map(view.nodes.map((node) => [node.id, node.name]));
  const nodes = view.nodes.map((node): StepNode => {
    const step = steps.get(node.id);
    const status = nodeStatus(step, hasRun);
    const durationMs = step ? durationBetween(step.startedAt, step.completedAt, options.now) : undefined;
    return {
      id: node.id,
      type: 'step',
      position: options.positions.get(node.id) ?? fallback.get(node.id) ?? { x: 0, y: 0 },
      width: NODE_WIDTH,
      height: NODE_HEIGHT,
      selected: node.id === options.selectedStepId,
      draggable: false,
      connectable: false,
      ariaLabel: nodeAccessibleName(node.name, status),
      ariaRole: 'group',
      domAttributes: {
        'data-step-name': node.name,
        'data-status': status,
        ...(step?.reusedFrom && { 'data-reused': 'true' }),
      } as StepNode['domAttributes'],
      data: {
        name: node.name,
        processor: node.processor,
        entryCondition: node.entryCondition,
        entryPoint: node.entryPoint,
        status,
        statusLabel: stepLook(status).label,
        ...(step && { attempts: step.attempts }),
        ...(durationMs !== undefined && { durationMs }),
        ...(step?.reusedFrom && { reusedFromRunId: step.reusedFrom.runId }),
        ...(step?.items && { itemsText: itemsProgress(step.items) }),
      },
    };
  });
  const edges = view.edges.map((edge, i): Edge => ({
    id: `e${i}-${edge.from}-${edge.to}`,
    source: edge.from,
    target: edge.to,
    ariaLabel: `${names.get(edge.from) ?? edge.from} to ${names.get(edge.to) ?? edge.to}`,
    focusable: false,
    selectable: false,
  }));
  return { nodes, edges };
}

/** `name@version` split at the last `@` (a processor name may not contain one, but be safe). */
export function splitProcessor(processor: string): { name: string; version: string } | undefined {
  const at = processor.lastIndexOf('@');
  if (at <= 0 || at === processor.length - 1) return undefined;
  return { name: processor.slice(0, at), version: processor.slice(at + 1) };
}

/** The steps that have no predecessor: the ones the run's input goes to. */
export const entryNodes = (view: GraphView): GraphNode[] => view.nodes.filter((node) => node.entryPoint);

/** The names of a step's predecessors, in workflow order. */
export function predecessorNames(view: GraphView, stepId: string): string[] {
  const from = new Set(view.edges.filter((edge) => edge.to === stepId).map((edge) => edge.from));
  return view.nodes.filter((node) => from.has(node.id)).map((node) => node.name);
}
