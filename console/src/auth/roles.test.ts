import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { atLeast, canOperate } from './roles';

describe('roles', () => {
  it('orders viewer < editor < operator < admin', () => {
    assert.equal(atLeast('admin', 'operator'), true);
    assert.equal(atLeast('operator', 'operator'), true);
    assert.equal(atLeast('editor', 'operator'), false);
    assert.equal(atLeast('editor', 'viewer'), true);
  });
  it('lets only operators and admins control runs', () => {
    assert.deepEqual(['viewer', 'editor', 'operator', 'admin', 'root', undefined].map(canOperate), [
      false,
      false,
      true,
      true,
      false,
      false,
    ]);
  });
});
