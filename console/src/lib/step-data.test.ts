import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { INLINE_TEXT_MAX, isDataReference, rebuiltInput, viewData } from './step-data';

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

describe('rebuiltInput', () => {
  const steps = [
    { stepId: 'a', name: 'A', status: 'Succeeded', output: { n: 1 } },
    { stepId: 'b', name: 'B', status: 'Failed' },
    { stepId: 'c', name: 'C', status: 'Skipped' },
    { stepId: 'd', name: 'A', status: 'Succeeded', output: 'second A' },
  ];

  it("gives one predecessor's output, or null when it failed", () => {
    assert.deepEqual(rebuiltInput(['a'], steps), { n: 1 });
    assert.equal(rebuiltInput(['b'], steps), null);
  });

  it('keys a join by the names of the predecessors that ran, a repeated name by step ID', () => {
    assert.deepEqual(rebuiltInput(['a', 'b', 'c', 'd'], steps), { A: { n: 1 }, B: null, d: 'second A' });
  });

  it('has no input when no predecessor ran', () => {
    assert.equal(rebuiltInput(['c'], steps), undefined);
    assert.equal(rebuiltInput(['missing'], steps), undefined);
  });
});
