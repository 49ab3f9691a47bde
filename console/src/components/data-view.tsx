import { formatBytes } from '../lib/format';
import { viewData } from '../lib/step-data';

/** Saves `text` as a file (a link to a Blob, made and released on demand). */
function saveText(text: string, fileName: string) {
  const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Step data: inline when small, a download when large (the reference's href, or the data as a file). */
export function DataView({ value, fileName, what }: { value: unknown; fileName: string; what: string }) {
  const view = viewData(value);
  switch (view.kind) {
    case 'none':
      return <p className="muted">No {what}.</p>;
    case 'inline':
      return (
        <pre className="data" tabIndex={0} aria-label={what}>
          {view.text}
        </pre>
      );
    case 'large':
      return (
        <p>
          <button type="button" onClick={() => saveText(view.text, fileName)}>
            Download {what} ({formatBytes(view.bytes)}, JSON)
          </button>
        </p>
      );
    case 'reference':
      return (
        <p>
          <a href={view.href} download={fileName}>
            Download {what}
            {view.bytes !== undefined &&
              ` (${formatBytes(view.bytes)}${view.contentType ? `, ${view.contentType}` : ''})`}
          </a>{' '}
          <span className="muted small">large data, kept by reference</span>
        </p>
      );
  }
}
