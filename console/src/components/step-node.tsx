import { Handle, Position, type NodeProps } from '@xyflow/react';
import { formatAttempts, formatDuration } from '../lib/format';
import type { StepNode } from '../lib/graph';
import { stepLook } from '../lib/status';

/**
 * One step in the DAG: name, state (colour and words), processor, entry condition, attempts and duration; a
 * `Reused` mark when a rerun carried the step over, and a for-each step's item counts. The accessible name
 * (`"<step>: <status>"`), role and test hooks are on React Flow's wrapper (graph.ts).
 */
export function StepNodeView({ data, selected }: NodeProps<StepNode>) {
  const look = stepLook(data.status);
  // A for-each step's attempts are its items': its counts say more.
  const facts = [
    data.itemsText ??
      (data.attempts !== undefined && data.attempts > 0 ? formatAttempts(data.attempts) : undefined),
    data.durationMs !== undefined ? formatDuration(data.durationMs) : undefined,
  ].filter(Boolean);
  return (
    <div
      className={`step-node${data.entryPoint ? ' step-node-entry' : ''}${selected ? ' step-node-selected' : ''}`}
      style={{
        background: look.background,
        borderColor: look.border,
        borderStyle: look.dashed ? 'dashed' : 'solid',
      }}
    >
      <Handle type="target" position={Position.Left} isConnectable={false} className="step-handle" />
      <div className="step-node-head">
        <span className="step-node-name" title={data.name}>
          {data.name}
        </span>
        <span className="badge" style={{ background: look.badge }}>
          {data.statusLabel}
        </span>
      </div>
      <div className="step-node-line" title={data.processor}>
        {data.processor}
      </div>
      <div className="step-node-line">
        {data.entryPoint && <span className="entry-mark">Entry</span>}
        {data.reusedFromRunId && (
          <span className="reused-mark" title={`Reused from run ${data.reusedFromRunId}`}>
            Reused
          </span>
        )}
        <span>{data.entryCondition}</span>
      </div>
      {facts.length > 0 && (
        <div className="step-node-line" title={facts.join(' · ')}>
          {facts.join(' · ')}
        </div>
      )}
      <Handle type="source" position={Position.Right} isConnectable={false} className="step-handle" />
    </div>
  );
}
