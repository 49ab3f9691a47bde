import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { temporalRunUrl } from './temporal-link';

describe('temporalRunUrl', () => {
  it("links the run's history", () => {
    assert.equal(
      temporalRunUrl('http://127.0.0.1:8233/', 'default', 'flow-manual-1/x', 'r-1'),
      'http://127.0.0.1:8233/namespaces/default/workflows/flow-manual-1%2Fx/r-1/history',
    );
  });
});
