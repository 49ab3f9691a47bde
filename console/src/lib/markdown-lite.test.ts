import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderMarkdown } from './markdown-lite';

describe('renderMarkdown', () => {
  it('renders code and bold inline and escapes the rest', () => {
    assert.equal(
      renderMarkdown('Expected `string` but received **<b>number</b>**'),
      'Expected <code>string</code> but received <strong>&lt;b&gt;number&lt;/b&gt;</strong>',
    );
    assert.equal(renderMarkdown('`<x>` & "y"'), '<code>&lt;x&gt;</code> &amp; &quot;y&quot;');
  });

  it('renders blocks as paragraphs and fenced code as pre', () => {
    assert.equal(
      renderMarkdown('One step.\n\n```json\n{"a": 1}\n```', false),
      '<p>One step.</p><pre><code>{&quot;a&quot;: 1}</code></pre>',
    );
  });
});
