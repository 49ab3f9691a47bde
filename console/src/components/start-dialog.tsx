import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useId, useRef, useState, type FormEvent } from 'react';
import { api, unwrap } from '../api/client';
import { flowKeys, useEntrySchemas } from '../api/queries';
import type { GraphView } from '../lib/graph';
import { fieldLabel, parseInput, validateInput, type FieldError } from '../lib/input-validation';
import { ApiErrorView } from './api-error-view';

interface StartFormProps {
  flowId: string;
  view: GraphView | undefined;
  onStarted: (runId: string) => void;
  onCancel: () => void;
}

/**
 * The start form: a JSON input checked against the entry steps' processor input schemas before it is sent, with
 * every problem named by field; the API's refusal (message and details) when it says no.
 */
export function StartForm({ flowId, view, onStarted, onCancel }: StartFormProps) {
  const [text, setText] = useState('{}');
  const [syntax, setSyntax] = useState<string>();
  const [problems, setProblems] = useState<FieldError[]>([]);
  const [idempotencyKey] = useState(() => crypto.randomUUID());
  const summaryRef = useRef<HTMLDivElement>(null);
  const ids = { input: useId(), hint: useId(), errors: useId() };
  const entry = useEntrySchemas(view);
  const client = useQueryClient();

  const start = useMutation({
    mutationFn: async (input: unknown) =>
      unwrap(
        await api.POST('/api/Orchestration/start/{orchestratedFlowId}', {
          params: { path: { orchestratedFlowId: flowId }, header: { 'Idempotency-Key': idempotencyKey } },
          body: input === undefined ? {} : { input },
        }),
      ),
    onSuccess: async (started) => {
      await client.invalidateQueries({ queryKey: flowKeys.runs(flowId) });
      if (started.runId) onStarted(started.runId);
    },
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const parsed = parseInput(text);
    if (!parsed.ok) {
      setSyntax(parsed.message);
      setProblems([]);
      requestAnimationFrame(() => summaryRef.current?.focus());
      return;
    }
    const found = validateInput(parsed.value, entry.schemas);
    setSyntax(undefined);
    setProblems(found);
    if (found.length > 0) {
      requestAnimationFrame(() => summaryRef.current?.focus());
      return;
    }
    start.mutate(parsed.value);
  };

  const invalid = syntax !== undefined || problems.length > 0;
  return (
    <form onSubmit={submit} noValidate>
      <label htmlFor={ids.input}>Run input (JSON)</label>
      <p id={ids.hint} className="muted small">
        {entry.isPending
          ? 'Loading the entry steps’ input schemas…'
          : entry.error
            ? 'The input schemas could not be loaded: the server checks the input instead.'
            : entry.schemas.length > 0
              ? `Checked before sending against ${entry.schemas
                  .map((s) => `${s.stepName}’s input schema ${s.schemaName}`)
                  .join('; ')}. Leave empty to send no input.`
              : 'Leave empty to send no input.'}
      </p>
      <textarea
        id={ids.input}
        className="code"
        rows={10}
        spellCheck={false}
        value={text}
        onChange={(event) => setText(event.target.value)}
        aria-invalid={invalid}
        aria-describedby={`${ids.hint}${invalid ? ` ${ids.errors}` : ''}`}
      />
      {invalid && (
        <div id={ids.errors} ref={summaryRef} tabIndex={-1} role="alert" className="field-errors">
          {syntax ? (
            <p>{syntax}</p>
          ) : (
            <>
              <p>
                The input does not match {problems.length === 1 ? 'a schema' : 'the schemas'} (
                {problems.length} {problems.length === 1 ? 'problem' : 'problems'}):
              </p>
              <ul>
                {problems.map((p, i) => (
                  <li key={i}>
                    <strong>{fieldLabel(p.field)}</strong> {p.message}{' '}
                    <span className="small">
                      ({p.stepName}, {p.schemaName})
                    </span>
                  </li>
                ))}
              </ul>
            </>
          )}
        </div>
      )}
      {start.isError && (
        <div role="alert" className="field-errors">
          <p>
            <strong>The run was not started.</strong>
          </p>
          <ApiErrorView error={start.error} />
        </div>
      )}
      <div className="dialog-actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button
          type="submit"
          className="primary"
          disabled={start.isPending || (entry.isPending && !entry.error)}
        >
          {start.isPending ? 'Starting…' : 'Start run'}
        </button>
      </div>
    </form>
  );
}
