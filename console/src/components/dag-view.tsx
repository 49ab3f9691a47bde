import { useQuery } from '@tanstack/react-query';
import {
  Background,
  Controls,
  MiniMap,
  ReactFlow,
  ReactFlowProvider,
  useReactFlow,
  type NodeChange,
} from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import { useCallback, useEffect, useMemo, useRef } from 'react';
import { elkLayout } from '../lib/elk-layout';
import { layerLayout, toFlowElements, type GraphView, type RunStepState, type StepNode } from '../lib/graph';
import { stepLook } from '../lib/status';
import { StepNodeView } from './step-node';

const nodeTypes = { step: StepNodeView };

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
    queryFn: () => elkLayout(view),
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

  const { fitView } = useReactFlow();
  useEffect(() => {
    if (layout.data) void fitView({ padding: 0.1, maxZoom: 1 });
  }, [layout.data, fitView]);

  // Refit when the canvas changes width (the step panel opens or closes, the window narrows).
  const containerRef = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = containerRef.current;
    if (!element) return;
    let width = element.clientWidth;
    const observer = new ResizeObserver(() => {
      if (Math.abs(element.clientWidth - width) < 40) return;
      width = element.clientWidth;
      void fitView({ padding: 0.1, maxZoom: 1 });
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, [fitView]);

  return (
    <div
      ref={containerRef}
      className="dag"
      aria-label={`Flow graph, ${view.nodes.length} steps`}
      role="region"
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
        fitViewOptions={{ padding: 0.1, maxZoom: 1 }}
        minZoom={0.05}
        maxZoom={2}
        onlyRenderVisibleElements={view.nodes.length > 150}
        deleteKeyCode={null}
      >
        <Background />
        <Controls showInteractive={false} />
        <MiniMap
          pannable
          zoomable
          ariaLabel="Overview of the flow graph"
          nodeColor={(node) => stepLook((node as StepNode).data.status).border}
        />
      </ReactFlow>
      {layout.isFetching && !layout.data && (
        <p className="dag-note" role="status">
          Laying out {view.nodes.length} steps…
        </p>
      )}
    </div>
  );
}
