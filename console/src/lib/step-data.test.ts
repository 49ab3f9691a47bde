import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { INLINE_TEXT_MAX, isDataReference, viewData } from './step-data';

describe('viewData', () => {
  it('shows small data inline, pretty', () => {
    assert.deepEqual(viewData({ a: 1 }), { kind: 'inline', text: '{\n  "a": 1\n}' });
    assert.deepEqual(viewData(null), { kind: 'inline', text: 'null' });
    assert.deepEqual(viewData(undefined), { kind: 'none' });
  });

  it("links a reference's href", () => {
    const ref = { $ref: 'blob:abc', size: 3_000_000, contentType: 'application/json', href: '/api/x/output' };
    assert.equal(isDataReference(ref), true);
    assert.deepEqual(viewData(ref), {
      kind: 'reference',
      href: '/api/x/output',
      bytes: 3_000_000,
      contentType: 'application/json',
    });
    assert.equal(isDataReference({ $ref: 'blob:abc' }), false);
  });

  it('offers large inline data as a download', () => {
    const view = viewData({ text: 'x'.repeat(INLINE_TEXT_MAX) });
    assert.equal(view.kind, 'large');
    assert.ok(view.kind === 'large' && view.bytes > INLINE_TEXT_MAX);
  });
});
