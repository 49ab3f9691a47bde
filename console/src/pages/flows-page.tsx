import { useVirtualizer } from '@tanstack/react-virtual';
import { useDeferredValue, useId, useMemo, useRef, useState } from 'react';
import { Link } from 'wouter';
import { useFlows, useLastRun, useSchedule, useWorkflowNames, type OrchestratedFlow } from '../api/queries';
import { Empty, ErrorState, Loading } from '../components/states';
import { StatusBadge } from '../components/status-badge';
import { searchFlows } from '../lib/flow-search';
import { formatRelative, formatTime } from '../lib/format';
import { useDelayed } from '../lib/use-delayed';
import { useNow } from '../lib/use-now';
import { useTitle } from '../lib/use-title';

/** Every orchestrated flow, searchable by name, in a virtualized list (only the rows on screen are in the DOM). */
export function FlowsPage() {
  useTitle('Flows');
  const flows = useFlows();
  const workflows = useWorkflowNames();
  const [query, setQuery] = useState('');
  const deferred = useDeferredValue(query);
  const shown = useMemo(() => searchFlows(flows.data ?? [], deferred), [flows.data, deferred]);
  const searchId = useId();

  return (
    <>
      <h1>Flows</h1>
      <div className="toolbar">
        <label htmlFor={searchId}>Search by name</label>
        <input
          id={searchId}
          type="search"
          value={query}
          onChange={(event) => setQuery(event.target.value)}
          placeholder="e.g. greeting"
        />
        {flows.data && (
          <span className="muted small" role="status">
            {shown.length === flows.data.length
              ? `${flows.data.length} flows`
              : `${shown.length} of ${flows.data.length} flows`}
          </span>
        )}
      </div>
      {flows.isPending ? (
        <Loading what="flows" />
      ) : flows.isError ? (
        <ErrorState
          title="The flows could not be loaded."
          error={flows.error}
          onRetry={() => void flows.refetch()}
        />
      ) : flows.data.length === 0 ? (
        <Empty>
          <p>No flows yet.</p>
          <p className="small">
            Create one with <code>npx flowctl apply -f examples/greeting.yaml</code>, or through the REST API.
          </p>
        </Empty>
      ) : shown.length === 0 ? (
        <Empty>No flow matches “{deferred}”.</Empty>
      ) : (
        <FlowList flows={shown} workflowNames={workflows.data} />
      )}
    </>
  );
}

function FlowList({
  flows,
  workflowNames,
}: {
  flows: OrchestratedFlow[];
  workflowNames: Map<string, string> | undefined;
}) {
  const now = useNow(true, 30_000);
  const parentRef = useRef<HTMLDivElement>(null);
  // eslint-disable-next-line react-hooks/incompatible-library -- TanStack Virtual's documented use; the list re-renders on scroll
  const virtualizer = useVirtualizer({
    count: flows.length,
    getScrollElement: () => parentRef.current,
    estimateSize: () => 64,
    overscan: 8,
    getItemKey: (index) => flows[index]!.id,
  });
  return (
    <div className="flow-list">
      <div className="flow-row flow-row-head" aria-hidden="true">
        <span>Flow</span>
        <span>Workflow</span>
        <span>Last run</span>
        <span>Schedule</span>
      </div>
      <div ref={parentRef} className="flow-scroll">
        <ul aria-label="Flows" style={{ height: virtualizer.getTotalSize() }}>
          {virtualizer.getVirtualItems().map((item) => {
            const flow = flows[item.index]!;
            return (
              <li
                key={item.key}
                data-index={item.index}
                ref={virtualizer.measureElement}
                className="flow-row"
                style={{ transform: `translateY(${item.start}px)` }}
                aria-setsize={flows.length}
                aria-posinset={item.index + 1}
              >
                <FlowRow flow={flow} workflowName={workflowNames?.get(flow.workflowId)} now={now} />
              </li>
            );
          })}
        </ul>
      </div>
    </div>
  );
}

function FlowRow({
  flow,
  workflowName,
  now,
}: {
  flow: OrchestratedFlow;
  workflowName: string | undefined;
  now: number;
}) {
  const settled = useDelayed(150);
  const lastRun = useLastRun(flow.id, settled);
  const schedule = useSchedule(flow.id, settled && flow.cronExpression !== null);
  const next = schedule.data?.nextRunTimes[0];
  const paused = schedule.data ? schedule.data.paused : !flow.isScheduleEnabled;
  return (
    <>
      <span className="flow-name">
        <Link href={`/flows/${flow.id}`}>{flow.name}</Link>{' '}
        <span className="muted small">v{flow.version}</span>
      </span>
      <span>
        <span className="sr-only">Workflow: </span>
        {workflowName ?? <span className="muted">…</span>}
      </span>
      <span>
        <span className="sr-only">Last run: </span>
        {lastRun.isError ? (
          <span className="muted">unavailable</span>
        ) : lastRun.data === undefined ? (
          <span className="muted">…</span>
        ) : lastRun.data === null ? (
          <span className="muted">never run</span>
        ) : (
          <>
            <StatusBadge status={lastRun.data.status} kind="run" />{' '}
            <time dateTime={lastRun.data.startedAt} title={formatTime(lastRun.data.startedAt)}>
              {formatRelative(lastRun.data.startedAt, now)}
            </time>
          </>
        )}
      </span>
      <span>
        <span className="sr-only">Schedule: </span>
        {flow.cronExpression === null ? (
          <span className="muted">none</span>
        ) : (
          <>
            <code>{flow.cronExpression}</code> <span className="small">{flow.timezone ?? 'UTC'}</span>
            {paused ? (
              <span className="pill">paused</span>
            ) : next ? (
              <span className="small">
                {' '}
                · next <time dateTime={next}>{formatRelative(next, now)}</time>
              </span>
            ) : null}
          </>
        )}
      </span>
    </>
  );
}
