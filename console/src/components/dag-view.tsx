import { useQuery } from '@tanstack/react-query';
import {
  Background,
  Controls,
  MiniMap,
  ReactFlow,
  ReactFlowProvider,
  useReactFlow,
  type FitViewOptions,
  type NodeChange,
} from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import { useCallback, useEffect, useMemo, useRef } from 'react';
import { elkLayout, warmElk } from '../lib/elk-layout';
import { layerLayout, toFlowElements, type GraphView, type RunStepState, type StepNode } from '../lib/graph';
import { stepLook } from '../lib/status';
import { StepNodeView } from './step-node';

const nodeTypes = { step: StepNodeView };
/** From this size a graph opens on its entry steps rather than fitted whole. */
const BIG_GRAPH = 150;
/** After this long without ELK's answer the layer layout stays. */
const ELK_PATIENCE_MS = 8000;

/**
 * The whole graph when it is small; a big one opens on its entry steps at a readable zoom (the minimap shows the
 * rest), so the first paint draws tens of nodes, not a thousand.
 */
function fitViewOptions(view: GraphView): FitViewOptions {
  if (view.nodes.length < BIG_GRAPH) return { padding: 0.1, maxZoom: 1 };
  const entries = view.nodes.filter((node) => node.entryPoint).slice(0, 12);
  return { padding: 0.1, maxZoom: 1, minZoom: 0.5, nodes: entries.map((node) => ({ id: node.id })) };
}

/** What assistive technology hears about the canvas: our keys, not React Flow's editing ones. */
const ARIA_LABELS = {
  'node.a11yDescription.default': "Press Enter or Space to open the step's panel, Escape to close it.",
  'node.a11yDescription.keyboardDisabled':
    "Press Enter or Space to open the step's panel, Escape to close it.",
  'edge.a11yDescription.default': 'An edge from a step to one of its next steps.',
  'controls.ariaLabel': 'Zoom controls',
  'controls.zoomIn.ariaLabel': 'Zoom in',
  'controls.zoomOut.ariaLabel': 'Zoom out',
  'controls.fitView.ariaLabel': 'Fit the graph',
};

const withPatience = <T,>(promise: Promise<T>, ms: number): Promise<T> =>
  Promise.race([
    promise,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no layout within ${ms} ms`)), ms)),
  ]);

// This module loads with the flow page: start ELK's worker while the page fetches the flow and its graph.
warmElk();
const MINIMAP_FROM = 15;

/** A key for a graph's shape: the same shape is laid out once and cached. */
const shapeOf = (view: GraphView) =>
  `${view.nodes.map((n) => n.id).join(',')}|${view.edges.map((e) => `${e.from}>${e.to}`).join(',')}`;

interface DagViewProps {
  view: GraphView;
  /** The selected run's steps; undefined while no run is selected. */
  runSteps?: readonly RunStepState[];
  selectedStepId: string | null;
  onSelectStep: (stepId: string | null) => void;
  now: number;
}

/**
 * The workflow's DAG, left to right, pannable and zoomable, one focusable node per step (Tab to reach, Enter or
 * Space to open its panel, Escape to close it). Drawn at once by layer, then laid out by ELK in a worker.
 */
export function DagView(props: DagViewProps) {
  return (
    <ReactFlowProvider>
      <DagCanvas {...props} />
    </ReactFlowProvider>
  );
}

function DagCanvas({ view, runSteps, selectedStepId, onSelectStep, now }: DagViewProps) {
  const shape = useMemo(() => shapeOf(view), [view]);
  const layout = useQuery({
    queryKey: ['layout', shape],
    queryFn: () => withPatience(elkLayout(view), ELK_PATIENCE_MS),
    staleTime: Infinity,
    retry: false,
  });
  const instant = useMemo(() => layerLayout(view), [view]);
  const positions = layout.data ?? instant;
  const { nodes, edges } = useMemo(
    () => toFlowElements(view, { positions, runSteps, selectedStepId, now }),
    [view, positions, runSteps, selectedStepId, now],
  );

  const onNodesChange = useCallback(
    (changes: Array<NodeChange<StepNode>>) => {
      const selected = changes.find((c) => c.type === 'select' && c.selected);
      if (selected && selected.type === 'select') return onSelectStep(selected.id);
      if (changes.some((c) => c.type === 'select' && !c.selected && c.id === selectedStepId))
        onSelectStep(null);
    },
    [onSelectStep, selectedStepId],
  );

  // Fit the graph once ELK's layout arrives, unless the reader has already panned or zoomed.
  const { fitView } = useReactFlow();
  const moved = useRef(false);
  const fitOptions = useMemo(() => fitViewOptions(view), [view]);
  useEffect(() => {
    if (layout.data && !moved.current) void fitView(fitOptions);
  }, [layout.data, fitView, fitOptions]);

  // Refit when the canvas changes width (the step panel opens or closes, the window narrows).
  const containerRef = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = containerRef.current;
    if (!element) return;
    let width = element.clientWidth;
    const observer = new ResizeObserver(() => {
      if (Math.abs(element.clientWidth - width) < 40) return;
      width = element.clientWidth;
      void fitView(fitOptions);
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, [fitView, fitOptions]);

  return (
    <div
      ref={containerRef}
      className="dag"
      aria-label={`Flow graph, ${view.nodes.length} steps`}
      role="region"
      // For tests and the bench: `layers` while drawn by layer (at once), `elk` once ELK's layout is in, `failed`
      // when ELK gave none (the layers stay).
      data-layout={layout.data ? 'elk' : layout.isError ? 'failed' : 'layers'}
    >
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodesChange={onNodesChange}
        nodesDraggable={false}
        nodesConnectable={false}
        edgesFocusable={false}
        elementsSelectable
        fitView
        fitViewOptions={fitOptions}
        minZoom={0.05}
        maxZoom={2}
        onlyRenderVisibleElements={view.nodes.length > 150}
        deleteKeyCode={null}
        ariaLabelConfig={ARIA_LABELS}
        onMoveStart={(event) => {
          // Programmatic moves (fitView) have no event; a person's pan or zoom does.
          if (event) moved.current = true;
        }}
      >
        <Background />
        <Controls showInteractive={false} />
        {/* A small graph fits on screen: an overview would only hide some of its nodes. */}
        {view.nodes.length > MINIMAP_FROM && (
          <MiniMap
            pannable
            zoomable
            ariaLabel="Overview of the flow graph"
            nodeColor={(node) => stepLook((node as StepNode).data.status).border}
          />
        )}
      </ReactFlow>
      {layout.isPending && view.nodes.length >= BIG_GRAPH && (
        <p className="dag-note" role="status">
          Laying out {view.nodes.length} steps…
        </p>
      )}
    </div>
  );
}
