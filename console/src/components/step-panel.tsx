import { useEffect, useId, useRef } from 'react';
import { useProcessor, type Run, type RunStep } from '../api/queries';
import { explainDecision } from '../lib/decision';
import { durationBetween, formatAttempts, formatDuration, formatTime } from '../lib/format';
import type { GraphNode } from '../lib/graph';
import { rebuiltInput } from '../lib/step-data';
import { DataView } from './data-view';
import { StatusBadge } from './status-badge';

interface StepPanelProps {
  node: GraphNode;
  /** The names of the step's predecessors, in workflow order. */
  predecessors: string[];
  /** The selected run, if any, and this step in it. */
  run?: Run;
  step?: RunStep;
  now: number;
  onClose: () => void;
}

/** Everything about one step: its state in the run, why it was decided so, its data and its processor. */
export function StepPanel({ node, predecessors, run, step, now, onClose }: StepPanelProps) {
  const titleId = useId();
  // Focus goes to the heading, not the close button: the Enter that opened the panel must not also close it.
  const headingRef = useRef<HTMLHeadingElement>(null);
  useEffect(() => headingRef.current?.focus(), [node.id]);

  return (
    <aside
      className="panel"
      aria-labelledby={titleId}
      onKeyDown={(event) => {
        if (event.key === 'Escape') onClose();
      }}
    >
      <div className="panel-head">
        <h2 id={titleId} ref={headingRef} tabIndex={-1}>
          {node.name}
        </h2>
        <button type="button" className="icon-button" onClick={onClose} aria-label="Close step panel">
          ×
        </button>
      </div>
      {run ? (
        <RunStepDetails node={node} predecessors={predecessors} run={run} step={step} now={now} />
      ) : (
        <p className="muted">No run selected: choose one under Runs to see this step&apos;s state.</p>
      )}
      <StepDefinition node={node} />
    </aside>
  );
}

function RunStepDetails({
  node,
  predecessors,
  run,
  step,
  now,
}: Required<Pick<StepPanelProps, 'node' | 'predecessors' | 'run' | 'now'>> & { step?: RunStep }) {
  if (!step)
    return (
      <section aria-label="State in this run">
        <p>
          <StatusBadge status="Pending" /> This run does not list the step yet.
        </p>
      </section>
    );
  const duration = durationBetween(step.startedAt, step.completedAt, now);
  const trace = explainDecision(step, (iso) => formatTime(iso));
  const inputHref = `/api/Orchestration/runs/${run.orchestratedFlowId}/${run.runId}/input`;
  // What it received, rebuilt from its predecessors as the engine built it (runs that record their decisions).
  const ran = step.status !== 'Pending' && step.status !== 'Skipped' && step.decision?.outcome === 'Run';
  const input = ran
    ? rebuiltInput(
        (step.decision?.predecessors ?? []).map((p) => p.stepId),
        run.steps,
      )
    : undefined;
  return (
    <>
      <section aria-labelledby="panel-state">
        <h3 id="panel-state">State in this run</h3>
        <dl className="facts">
          <dt>Status</dt>
          <dd>
            <StatusBadge status={step.status} />
          </dd>
          <dt>Attempts</dt>
          <dd>{formatAttempts(step.attempts)}</dd>
          <dt>Started</dt>
          <dd>{formatTime(step.startedAt)}</dd>
          <dt>Completed</dt>
          <dd>{formatTime(step.completedAt)}</dd>
          <dt>Duration</dt>
          <dd>{duration === undefined ? '—' : formatDuration(duration)}</dd>
        </dl>
      </section>

      <section aria-labelledby="panel-why">
        <h3 id="panel-why">Why</h3>
        <p className="trace-headline">{trace.headline}</p>
        {trace.details.map((line, i) => (
          <p key={i}>{line}</p>
        ))}
        {trace.predecessors.length > 0 && (
          <>
            <p className="small">
              Predecessors when it was decided{trace.condition && ` (condition ${trace.condition})`}:
            </p>
            <ul className="predecessors">
              {trace.predecessors.map((p) => (
                <li key={p.stepId}>
                  {p.name} <StatusBadge status={p.status} />
                  {!p.counted && <span className="muted small"> did not run, not counted</span>}
                </li>
              ))}
            </ul>
          </>
        )}
        {trace.reason && (
          <p className="small">
            Engine&apos;s reason: <code className="reason">{trace.reason}</code>
          </p>
        )}
      </section>

      {step.error && (
        <section aria-labelledby="panel-error">
          <h3 id="panel-error">Last error</h3>
          <p>
            {step.error.type && <strong>{step.error.type}: </strong>}
            {step.error.message}
          </p>
          {step.error.details !== undefined && (
            <DataView value={step.error.details} fileName={`${node.name}-error.json`} what="error details" />
          )}
        </section>
      )}

      <section aria-labelledby="panel-input">
        <h3 id="panel-input">Input</h3>
        {node.entryPoint ? (
          <p>
            The run&apos;s input: <a href={inputHref}>open the run input</a>
          </p>
        ) : (
          <>
            <p>
              {predecessors.length === 1 ? 'The output of ' : 'The outputs of '}
              {predecessors.map((name) => `"${name}"`).join(', ')}
              {predecessors.length > 1 && ', by step name'}.
            </p>
            {input !== undefined && (
              <DataView value={input} fileName={`${node.name}-input.json`} what="input" />
            )}
          </>
        )}
      </section>

      <section aria-labelledby="panel-output">
        <h3 id="panel-output">Output</h3>
        <DataView value={step.output} fileName={`${node.name}-output.json`} what="output" />
      </section>
    </>
  );
}

function StepDefinition({ node }: { node: GraphNode }) {
  const processor = useProcessor(node.processor);
  return (
    <section aria-labelledby="panel-definition">
      <h3 id="panel-definition">Definition</h3>
      <dl className="facts">
        <dt>Step</dt>
        <dd>
          {node.name}@{node.version}
        </dd>
        <dt>Entry condition</dt>
        <dd>
          {node.entryCondition}
          {node.entryPoint && ' (entry point)'}
        </dd>
        <dt>Processor</dt>
        <dd>{node.processor}</dd>
        <dt>Task queue</dt>
        <dd>
          {processor.data ? (
            <code>{processor.data.taskQueue}</code>
          ) : processor.isError ? (
            <span className="muted">not available ({processor.error.message})</span>
          ) : (
            <span className="muted">loading…</span>
          )}
        </dd>
      </dl>
    </section>
  );
}
