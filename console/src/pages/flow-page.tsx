import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useMemo, useState, type ReactNode } from 'react';
import { Link, useParams, useSearchParams } from 'wouter';
import {
  flowKeys,
  useFlow,
  useGraph,
  useRun,
  useRuns,
  useSchedule,
  type FlowSchedule,
  type Run,
} from '../api/queries';
import { useProviders, useSession } from '../api/session';
import { canOperate } from '../auth/roles';
import { CompensationView } from '../components/compensation-view';
import { DagView } from '../components/dag-view';
import { FlowActions } from '../components/flow-actions';
import { RerunDialog, type RerunRequest } from '../components/rerun-dialog';
import { RunControls } from '../components/run-controls';
import { RunsTable, type TemporalUi } from '../components/runs-table';
import { Empty, ErrorState, Loading } from '../components/states';
import { StatusBadge } from '../components/status-badge';
import { StepPanel } from '../components/step-panel';
import { durationBetween, formatDuration, formatRelative, formatTime } from '../lib/format';
import { predecessorNames } from '../lib/graph';
import { canRerun, pausedText, shortRunId, withLiveStatus } from '../lib/run-control';
import { isLiveRun, isOpenRun } from '../lib/status';
import { temporalRunUrl } from '../lib/temporal-link';
import { useNow } from '../lib/use-now';
import { useTitle } from '../lib/use-title';

/**
 * One flow: its DAG, the state of the selected run on it (`?run=`), the step panel (`?step=`), its runs and, for
 * operators, run control (start, stop; pause, resume and rerun the selected run). The run is polled every second
 * while it is open (or compensating) and shown.
 */
export function FlowPage() {
  const { id } = useParams<{ id: string }>();
  const [search, setSearch] = useSearchParams();
  const runId = search.get('run') ?? undefined;
  const stepId = search.get('step');

  const session = useSession();
  const operator = canOperate(session.data?.role);
  const [rerunRequest, setRerunRequest] = useState<RerunRequest | null>(null);
  const [runNotice, setRunNotice] = useState<string>();
  const providers = useProviders();
  const flow = useFlow(id);
  const graph = useGraph(flow.data?.workflowId);
  const runs = useRuns(id);
  const run = useRun(id, runId);
  const schedule = useSchedule(id, Boolean(flow.data?.cronExpression));
  useTitle(flow.data?.name ?? 'Flow');
  // When the shown run closes, the runs list (and Stop) learn it at once rather than at their next refresh.
  const client = useQueryClient();
  const runStatus = run.data?.status;
  useEffect(() => {
    if (runStatus !== undefined && !isOpenRun(runStatus))
      void client.invalidateQueries({ queryKey: flowKeys.runs(id) });
  }, [client, id, runStatus]);
  const now = useNow(isLiveRun(run.data) || Boolean(runs.data?.some((r) => isOpenRun(r.status))));

  const setParam = useCallback(
    (name: string, value: string | null) =>
      setSearch(
        (previous) => {
          const next = new URLSearchParams(previous);
          if (value === null) next.delete(name);
          else next.set(name, value);
          return next;
        },
        { replace: name === 'step' },
      ),
    [setSearch],
  );
  const onSelectStep = useCallback((step: string | null) => setParam('step', step), [setParam]);
  const runHref = useCallback(
    (target: string) => {
      const next = new URLSearchParams(search);
      next.set('run', target);
      return `/flows/${id}?${next.toString()}`;
    },
    [id, search],
  );

  const temporalUi: TemporalUi | undefined = providers.data?.temporalUi;
  const node = graph.data?.nodes.find((n) => n.id === stepId);
  const runSteps = runId === undefined ? undefined : (run.data?.steps ?? []);
  const predecessors = useMemo(
    () => (graph.data && node ? predecessorNames(graph.data, node.id) : []),
    [graph.data, node],
  );

  if (flow.isPending) return <Loading what="the flow" />;
  if (flow.isError)
    return (
      <>
        <h1>Flow</h1>
        <ErrorState
          title="The flow could not be loaded."
          error={flow.error}
          onRetry={() => void flow.refetch()}
        />
        <p>
          <Link href="/">Back to the flows</Link>
        </p>
      </>
    );

  return (
    <>
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link href="/">Flows</Link> <span aria-hidden="true">›</span>{' '}
        <span aria-current="page">{flow.data.name}</span>
      </nav>
      <div className="flow-head">
        <div>
          <h1>
            {flow.data.name} <span className="muted version">v{flow.data.version}</span>
          </h1>
          <FlowFacts
            workflow={graph.data?.workflow}
            cron={flow.data.cronExpression}
            timezone={flow.data.timezone}
            enabled={flow.data.isScheduleEnabled}
            schedule={schedule.data}
            now={now}
          />
          {flow.data.description && <p>{flow.data.description}</p>}
        </div>
        {operator && (
          <FlowActions
            flow={flow.data}
            view={graph.data}
            hasOpenRun={Boolean(runs.data?.some((r) => isOpenRun(r.status))) || isOpenRun(run.data?.status)}
            schedule={schedule.data}
            onStarted={(started) => setParam('run', started)}
          />
        )}
      </div>

      <section aria-labelledby="graph-heading" className="flow-section">
        <h2 id="graph-heading">Graph</h2>
        <RunBar
          runId={runId}
          run={run.data}
          error={run.error}
          temporalUi={temporalUi}
          now={now}
          runHref={runHref}
          controls={
            operator &&
            run.data && (
              <RunControls
                flowId={id}
                run={run.data}
                onRerun={() => setRerunRequest({})}
                onNotice={setRunNotice}
              />
            )
          }
          onClose={() => setParam('run', null)}
        />
        <p className="notice" role="status">
          {runNotice}
        </p>
        {run.data?.compensation && <CompensationView compensation={run.data.compensation} />}
        <RerunDialog
          flowId={id}
          run={run.data}
          request={rerunRequest}
          onClose={() => setRerunRequest(null)}
          onStarted={(started, notice) => {
            setRerunRequest(null);
            setRunNotice(notice);
            setParam('run', started);
          }}
        />
        {graph.isPending ? (
          <Loading what="the graph" />
        ) : graph.isError ? (
          <ErrorState
            title="The graph could not be loaded."
            error={graph.error}
            onRetry={() => void graph.refetch()}
          />
        ) : graph.data.nodes.length === 0 ? (
          <Empty>The flow&apos;s workflow has no steps.</Empty>
        ) : (
          <div className={`flow-body${node ? ' with-panel' : ''}`}>
            <DagView
              view={graph.data}
              runSteps={runSteps}
              selectedStepId={stepId}
              onSelectStep={onSelectStep}
              now={now}
            />
            {node && (
              <StepPanel
                node={node}
                predecessors={predecessors}
                run={run.data}
                step={run.data?.steps.find((s) => s.stepId === node.id)}
                now={now}
                runHref={runHref}
                onRerunFrom={
                  operator && run.data && canRerun(run.data)
                    ? () => setRerunRequest({ fromStepId: node.id })
                    : undefined
                }
                onClose={() => {
                  onSelectStep(null);
                  focusNode(node.id);
                }}
              />
            )}
          </div>
        )}
      </section>

      <section aria-labelledby="runs-heading" className="flow-section">
        <h2 id="runs-heading">Runs</h2>
        {runs.isPending ? (
          <Loading what="runs" />
        ) : runs.isError ? (
          <ErrorState
            title="The runs could not be loaded."
            error={runs.error}
            onRetry={() => void runs.refetch()}
          />
        ) : (
          <RunsTable
            flowId={id}
            runs={withLiveStatus(runs.data, run.data)}
            selectedRunId={runId}
            temporalUi={temporalUi}
            runHref={runHref}
            now={now}
          />
        )}
      </section>
    </>
  );
}

/** Gives the keyboard back to a DAG node (after its panel closed). */
function focusNode(stepId: string) {
  requestAnimationFrame(() =>
    document.querySelector<HTMLElement>(`.react-flow__node[data-id="${CSS.escape(stepId)}"]`)?.focus(),
  );
}

function FlowFacts({
  workflow,
  cron,
  timezone,
  enabled,
  schedule,
  now,
}: {
  workflow: { name: string; version: string } | undefined;
  cron: string | null;
  timezone: string | null;
  enabled: boolean;
  schedule: FlowSchedule | null | undefined;
  now: number;
}) {
  const next = schedule?.nextRunTimes[0];
  const paused = schedule ? schedule.paused : !enabled;
  return (
    <dl className="facts inline">
      <dt>Workflow</dt>
      <dd>{workflow ? `${workflow.name}@${workflow.version}` : '…'}</dd>
      <dt>Schedule</dt>
      <dd>
        {cron === null ? (
          'none (manual runs only)'
        ) : (
          <>
            <code>{cron}</code> in {schedule?.timezone ?? timezone ?? 'UTC'}
            {paused ? (
              <>
                {' '}
                <span className="pill">paused</span>
                {schedule?.note && <span className="small"> ({schedule.note})</span>}
              </>
            ) : next ? (
              <>
                {' '}
                · next run <time dateTime={next}>{formatTime(next)}</time> ({formatRelative(next, now)})
              </>
            ) : null}
          </>
        )}
      </dd>
    </dl>
  );
}

const RUN_KIND: Partial<Record<string, string>> = {
  manual: 'Manual run',
  schedule: 'Scheduled run',
  rerun: 'Rerun',
};

function RunBar({
  runId,
  run,
  error,
  temporalUi,
  now,
  runHref,
  controls,
  onClose,
}: {
  runId: string | undefined;
  run: Run | undefined;
  error: unknown;
  temporalUi: TemporalUi | undefined;
  now: number;
  runHref: (runId: string) => string;
  /** Pause, resume or rerun this run (operators only). */
  controls: ReactNode;
  onClose: () => void;
}) {
  if (runId === undefined)
    return (
      <p className="run-bar muted">
        No run selected: nodes show the definition (&quot;Not run&quot;). Open a run under Runs to see its
        live state.
      </p>
    );
  if (!run)
    return error ? (
      <ErrorState title="The run could not be loaded." error={error} />
    ) : (
      <Loading what="the run" />
    );
  const duration = durationBetween(run.startedAt, run.completedAt, now);
  const rerunOf = run.rerunOf;
  const fromStep = rerunOf?.fromStepId && run.steps.find((s) => s.stepId === rerunOf.fromStepId);
  return (
    <div className="run-bar" aria-label="Selected run" role="group">
      <StatusBadge status={run.status} kind="run" />
      <span>
        {RUN_KIND[run.trigger] ?? `${run.trigger} run`} started {formatTime(run.startedAt)}
        {duration !== undefined && ` · ${formatDuration(duration)}`}
      </span>
      {rerunOf && (
        <span>
          rerun of{' '}
          <Link href={runHref(rerunOf.runId)} title={rerunOf.runId}>
            run <code>{shortRunId(rerunOf.runId)}</code>
          </Link>
          {rerunOf.fromStepId && ` from step "${fromStep ? fromStep.name : rerunOf.fromStepId}"`}
        </span>
      )}
      <span>
        {run.completedSteps} of {run.totalSteps} steps done
      </span>
      <span className="small">
        correlation ID <code>{run.correlationId}</code>
      </span>
      {temporalUi && (
        <a
          href={temporalRunUrl(temporalUi.url, temporalUi.namespace, run.workflowId, run.runId)}
          target="_blank"
          rel="noreferrer"
        >
          Open in Temporal<span className="sr-only"> (new tab)</span>
        </a>
      )}
      <button type="button" onClick={onClose}>
        Close run
      </button>
      {controls}
      {run.status === 'Paused' && run.paused && (
        <p className="run-paused">{pausedText(run.paused, (iso) => formatTime(iso))}</p>
      )}
      {run.error && (
        <p className="run-error">
          {run.error.type && <strong>{run.error.type}: </strong>}
          {run.error.message}
        </p>
      )}
      {isLiveRun(run) && (
        <span className="sr-only" role="status">
          Updating every second.
        </span>
      )}
    </div>
  );
}
