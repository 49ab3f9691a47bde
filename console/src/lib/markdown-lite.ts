/**
 * The markdown of codemirror-json-schema's messages and hovers (descriptions, `code`, **bold**), as HTML: stands in
 * for its own renderer (markdown-it with Shiki, whose WebAssembly the API's Content-Security-Policy forbids and which
 * would add a megabyte). vite.config.mts points the library's `utils/markdown` here. Escapes everything else. Pure.
 */
const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

function inline(markdown: string): string {
  return markdown
    .split(/(`[^`]*`)/)
    .map((part) =>
      part.startsWith('`') && part.endsWith('`') && part.length > 1
        ? `<code>${escapeHtml(part.slice(1, -1))}</code>`
        : escapeHtml(part).replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>'),
    )
    .join('');
}

/** Inline: one line of HTML; block: a paragraph per blank-line-separated block, fenced code as `<pre>`. */
export function renderMarkdown(markdown: string, inlineOnly = true): string {
  if (inlineOnly) return inline(markdown);
  return markdown
    .split(/\n{2,}/)
    .map((block) => {
      const fenced = /^```[^\n]*\n([\s\S]*?)\n?```$/.exec(block.trim());
      return fenced ? `<pre><code>${escapeHtml(fenced[1] ?? '')}</code></pre>` : `<p>${inline(block)}</p>`;
    })
    .join('');
}
