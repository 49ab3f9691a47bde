import { detailLines, isApiError } from '../api/errors';

/** An API refusal as people need it: the message, each detail, the code and the correlation ID to quote. */
export function ApiErrorView({ error }: { error: unknown }) {
  if (!isApiError(error)) return <p>{error instanceof Error ? error.message : String(error)}</p>;
  const lines = detailLines(error.details);
  return (
    <div className="api-error">
      <p>{error.message}</p>
      {lines.length > 0 && (
        <ul>
          {lines.map((line, i) => (
            <li key={i}>{line}</li>
          ))}
        </ul>
      )}
      <p className="muted small">
        {error.code}
        {error.status > 0 && ` (HTTP ${error.status})`}
        {error.correlationId && (
          <>
            {' '}
            · correlation ID <code>{error.correlationId}</code>
          </>
        )}
      </p>
    </div>
  );
}
