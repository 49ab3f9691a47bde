import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useId, useMemo, useState } from 'react';
import { Link, useSearchParams } from 'wouter';
import {
  applyBundle,
  flowIdOf,
  planBundle,
  useBundleExport,
  useBundleSchema,
  type BundleResult,
} from '../api/bundles';
import { useFlows } from '../api/queries';
import { useSession } from '../api/session';
import { canEdit } from '../auth/roles';
import { ApiErrorView } from '../components/api-error-view';
import { DagView } from '../components/dag-view';
import { Empty, ErrorState, Loading } from '../components/states';
import { YamlEditor } from '../components/yaml-editor';
import { bundleSchemas } from '../lib/bundle-lint';
import { previewBundle } from '../lib/bundle-preview';
import type { GraphView } from '../lib/graph';
import { useDebounced } from '../lib/use-debounced';
import { useTitle } from '../lib/use-title';

const PREVIEW_DELAY_MS = 300;

/**
 * Flows as code: a flow's bundle (`?flow=name@version`) in a YAML editor with the bundle schema's markers,
 * completion and hover, its workflow drawn as it is typed, and for editors Plan and Apply.
 */
export function DefinitionsPage() {
  useTitle('Definitions');
  const [search, setSearch] = useSearchParams();
  const flow = search.get('flow') ?? undefined;
  const exported = useBundleExport(flow);

  return (
    <>
      <h1>Definitions</h1>
      <FlowPicker flow={flow} onPick={(ref) => setSearch(ref ? { flow: ref } : {})} />
      {flow === undefined ? (
        <BundleEditor key="new" initial="" flow={undefined} />
      ) : exported.isPending ? (
        <Loading what={`the bundle of ${flow}`} />
      ) : exported.isError ? (
        <ErrorState
          title={`The bundle of ${flow} could not be loaded.`}
          error={exported.error}
          onRetry={() => void exported.refetch()}
        />
      ) : (
        <BundleEditor key={flow} initial={exported.data} flow={flow} />
      )}
    </>
  );
}

function FlowPicker({ flow, onPick }: { flow: string | undefined; onPick: (ref: string) => void }) {
  const flows = useFlows();
  const id = useId();
  const refs = useMemo(
    () => (flows.data ?? []).map((f) => `${f.name}@${f.version}`).sort((a, b) => a.localeCompare(b)),
    [flows.data],
  );
  return (
    <div className="toolbar">
      <label htmlFor={id}>Flow</label>
      <select
        id={id}
        value={flow ?? ''}
        onChange={(event) => onPick(event.target.value)}
        disabled={flows.isPending}
      >
        <option value="">A new bundle (paste or type it)</option>
        {flow !== undefined && !refs.includes(flow) && <option value={flow}>{flow}</option>}
        {refs.map((ref) => (
          <option key={ref} value={ref}>
            {ref}
          </option>
        ))}
      </select>
      {flows.isPending && <span className="muted small">Loading flows…</span>}
      {flows.isError && (
        <span className="small" role="alert">
          The flows could not be listed: {flows.error.message}
        </span>
      )}
    </div>
  );
}

function BundleEditor({ initial, flow }: { initial: string; flow: string | undefined }) {
  const session = useSession();
  const editor = canEdit(session.data?.role);
  const schema = useBundleSchema();
  const schemas = useMemo(() => (schema.data ? bundleSchemas(schema.data) : undefined), [schema.data]);
  const [text, setText] = useState(initial);
  const settled = useDebounced(text, PREVIEW_DELAY_MS);
  const preview = useMemo(() => previewBundle(settled), [settled]);
  // While the text is not readable YAML, the last graph that was stays on screen.
  const [lastView, setLastView] = useState<GraphView | null>(null);
  if (preview.view && preview.view !== lastView) setLastView(preview.view);
  const shown = preview.view ?? lastView;
  const problemsId = useId();
  const editorHelpId = useId();

  return (
    <div className="definitions">
      <section aria-labelledby={`${editorHelpId}-h`} className="definitions-editor">
        <h2 id={`${editorHelpId}-h`}>Bundle {flow && <span className="muted version">{flow}</span>}</h2>
        <p id={editorHelpId} className="muted small">
          One document per entity, separated by <code>---</code>. Ctrl-Space completes a field; Tab leaves the
          editor; Ctrl-Shift-M lists the schema problems.
        </p>
        <YamlEditor
          value={text}
          onChange={setText}
          schemas={schemas}
          label="Bundle YAML"
          describedBy={`${editorHelpId} ${problemsId}`}
        />
        {schema.isError && (
          <p className="small" role="status">
            Without schema checks: {schema.error.message}
          </p>
        )}
        <Problems id={problemsId} problems={preview.problems} pending={settled !== text} />
        {editor ? (
          <PlanAndApply text={text} />
        ) : (
          <p className="muted small">Plan and Apply are for editors and admins.</p>
        )}
      </section>
      <section aria-labelledby={`${problemsId}-preview`} className="definitions-preview">
        <h2 id={`${problemsId}-preview`}>
          Preview{shown && <span className="muted version"> workflow {shown.workflow.id}</span>}
        </h2>
        {shown ? (
          <>
            {!preview.view && (
              <p className="small">The text is not readable YAML: the last readable graph.</p>
            )}
            <DagView view={shown} selectedStepId={null} onSelectStep={() => undefined} now={0} />
          </>
        ) : (
          <Empty>
            <p>No workflow to draw yet.</p>
            <p className="small">
              Add a <code>kind: Workflow</code> document whose <code>steps</code> name the bundle's Step
              documents (<code>name@version</code>).
            </p>
          </Empty>
        )}
      </section>
    </div>
  );
}

function Problems({
  id,
  problems,
  pending,
}: {
  id: string;
  problems: ReturnType<typeof previewBundle>['problems'];
  pending: boolean;
}) {
  return (
    <div id={id} className="problems" role="status" aria-busy={pending}>
      {problems.length === 0 ? (
        <p className="muted small">No problems found in the preview.</p>
      ) : (
        <>
          <h3>
            {problems.length} {problems.length === 1 ? 'problem' : 'problems'}
          </h3>
          <ul>
            {problems.map((problem, i) => (
              <li key={i}>
                {problem.line !== undefined && !problem.message.startsWith('line ') && (
                  <span className="muted">line {problem.line}: </span>
                )}
                {problem.message}
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

function PlanAndApply({ text }: { text: string }) {
  const client = useQueryClient();
  const plan = useMutation({ mutationFn: planBundle });
  const apply = useMutation({
    mutationFn: async (body: string) => {
      const result = await applyBundle(body);
      const flow = result.changes?.find((c) => c.kind === 'OrchestratedFlow');
      const flowId = flow ? (flow.id ?? (await flowIdOf(flow.name, flow.version))) : undefined;
      return { result, flow, flowId };
    },
    onSuccess: () => client.invalidateQueries(),
  });
  const busy = plan.isPending || apply.isPending;
  const empty = text.trim() === '';
  // The last answer shown is the one of the last button pressed.
  const [last, setLast] = useState<'plan' | 'apply' | null>(null);

  return (
    <div className="bundle-actions">
      <div className="actions" role="group" aria-label="Bundle actions">
        <button
          type="button"
          disabled={busy || empty}
          onClick={() => {
            setLast('plan');
            apply.reset();
            plan.mutate(text);
          }}
        >
          Plan
        </button>
        <button
          type="button"
          className="primary"
          disabled={busy || empty}
          onClick={() => {
            setLast('apply');
            plan.reset();
            apply.mutate(text);
          }}
        >
          Apply
        </button>
        {busy && (
          <span className="muted small" role="status">
            {plan.isPending ? 'Planning…' : 'Applying…'}
          </span>
        )}
      </div>
      {last === 'plan' && plan.isError && <Refusal what="Plan" error={plan.error} />}
      {last === 'apply' && apply.isError && <Refusal what="Apply" error={apply.error} />}
      {last === 'plan' && plan.data && <ChangesTable title="Plan" result={plan.data} />}
      {last === 'apply' && apply.data && (
        <div role="status" className="applied">
          <p>
            <strong>Applied.</strong> {summaryText(apply.data.result)}
            {apply.data.flowId && apply.data.flow && (
              <>
                {' '}
                <Link href={`/flows/${apply.data.flowId}`}>
                  Open {apply.data.flow.name} {apply.data.flow.version}
                </Link>
              </>
            )}
          </p>
          <ChangesTable title="Applied changes" result={apply.data.result} />
        </div>
      )}
    </div>
  );
}

function Refusal({ what, error }: { what: string; error: unknown }) {
  return (
    <div className="state state-error" role="alert">
      <p>
        <strong>{what} was refused.</strong>
      </p>
      <ApiErrorView error={error} />
    </div>
  );
}

const summaryText = (result: BundleResult) => {
  const summary = (result.summary ?? {}) as Record<string, number | undefined>;
  return (['create', 'update', 'unchanged', 'delete'] as const)
    .map((action) => `${summary[action] ?? 0} ${action === 'unchanged' ? 'unchanged' : `to ${action}`}`)
    .join(', ');
};

function ChangesTable({ title, result }: { title: string; result: BundleResult }) {
  const changes = result.changes ?? [];
  return (
    // Scrolls sideways in a narrow column: focusable, so the keyboard can scroll it too.
    <div className="table-scroll" role="region" aria-label={title} tabIndex={0}>
      <table className="runs changes">
        <caption>
          {title}: {summaryText(result)}
        </caption>
        <thead>
          <tr>
            <th scope="col">Action</th>
            <th scope="col">Kind</th>
            <th scope="col">Name</th>
            <th scope="col">Version</th>
            <th scope="col">Fields</th>
          </tr>
        </thead>
        <tbody>
          {changes.map((change, i) => (
            <tr key={i} data-action={change.action}>
              <td>
                <span className={`pill change-${change.action}`}>{change.action}</span>
              </td>
              <td>{change.kind}</td>
              <th scope="row">{change.name}</th>
              <td>{change.version}</td>
              <td>{change.fields?.join(', ') ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
