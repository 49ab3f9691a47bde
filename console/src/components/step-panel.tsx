import { useEffect, useId, useRef } from 'react';
import { Link } from 'wouter';
import { useProcessor, type Run, type RunStep } from '../api/queries';
import { explainDecision } from '../lib/decision';
import { durationBetween, formatAttempts, formatDuration, formatTime } from '../lib/format';
import type { GraphNode } from '../lib/graph';
import { itemsProgress } from '../lib/run-control';
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
  /** The href that opens another run of the flow (a reused step's source run). */
  runHref: (runId: string) => string;
  /** Offered to operators once the run closed: rerun from this step. */
  onRerunFrom?: () => void;
  onClose: () => void;
}

/**
 * Everything about one step: its state in the run (a for-each step's items, the run a rerun reused it from), why
 * it was decided so, its compensation, its data and its processor.
 */
export function StepPanel({
  node,
  predecessors,
  run,
  step,
  now,
  runHref,
  onRerunFrom,
  onClose,
}: StepPanelProps) {
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
        <RunStepDetails
          node={node}
          predecessors={predecessors}
          run={run}
          step={step}
          now={now}
          runHref={runHref}
          onRerunFrom={onRerunFrom}
        />
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
  runHref,
  onRerunFrom,
}: Required<Pick<StepPanelProps, 'node' | 'predecessors' | 'run' | 'now' | 'runHref'>> &
  Pick<StepPanelProps, 'step' | 'onRerunFrom'>) {
  const rerunButton = onRerunFrom && (
    <p>
      <button type="button" onClick={onRerunFrom}>
        Rerun from this step
      </button>
    </p>
  );
  if (!step)
    return (
      <section aria-label="State in this run">
        <p>
          <StatusBadge status="Pending" /> This run does not list the step yet.
        </p>
        {rerunButton}
      </section>
    );
  const duration = durationBetween(step.startedAt, step.completedAt, now);
  const trace = explainDecision(step, (iso) => formatTime(iso));
  const compensations = run.compensation?.steps ?? [];
  const at = compensations.findIndex((c) => c.stepId === step.stepId);
  const compensation = compensations[at];
  const compensationOrder = `number ${at + 1} of ${compensations.length}, newest completion first`;
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
          <AttemptFacts {...step} />
          <dt>Duration</dt>
          <dd>{duration === undefined ? '—' : formatDuration(duration)}</dd>
          {step.items && (
            <>
              <dt>Items</dt>
              <dd>{itemsProgress(step.items)}</dd>
            </>
          )}
          {step.reusedFrom && (
            <>
              <dt>Reused from</dt>
              <dd>
                <Link href={runHref(step.reusedFrom.runId)}>
                  run <code>{step.reusedFrom.runId}</code>
                </Link>{' '}
                <span className="small">(not run again in this run)</span>
              </dd>
            </>
          )}
        </dl>
        {rerunButton}
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

      {compensation && (
        <section aria-labelledby="panel-compensation">
          <h3 id="panel-compensation">Compensation</h3>
          <p className="small">
            The run {run.status === 'Cancelled' ? 'was stopped with compensation' : 'failed'}: this
            step&apos;s compensation undoes its work ({compensationOrder}).
          </p>
          <dl className="facts">
            <AttemptFacts {...compensation} />
          </dl>
          {compensation.error && (
            <p>
              {compensation.error.type && <strong>{compensation.error.type}: </strong>}
              {compensation.error.message}
            </p>
          )}
        </section>
      )}

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

/** Status, attempts and times of a step or of its compensation: the first rows of their facts. */
function AttemptFacts(props: { status: string; attempts: number; startedAt?: string; completedAt?: string }) {
  return (
    <>
      <dt>Status</dt>
      <dd>
        <StatusBadge status={props.status} />
      </dd>
      <dt>Attempts</dt>
      <dd>{formatAttempts(props.attempts)}</dd>
      <dt>Started</dt>
      <dd>{formatTime(props.startedAt)}</dd>
      <dt>Completed</dt>
      <dd>{formatTime(props.completedAt)}</dd>
    </>
  );
}
