import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { atLeast, canEdit, canOperate } from './roles';

describe('roles', () => {
  it('orders viewer < operator < editor < admin, as the API does', () => {
    assert.equal(atLeast('admin', 'editor'), true);
    assert.equal(atLeast('editor', 'operator'), true);
    assert.equal(atLeast('operator', 'editor'), false);
    assert.equal(atLeast('operator', 'viewer'), true);
    assert.equal(atLeast('viewer', 'operator'), false);
  });
  it('lets operators and up control runs, editors and up change definitions; an unknown role nothing', () => {
    const roles = ['viewer', 'operator', 'editor', 'admin', 'root', undefined];
    assert.deepEqual(roles.map(canOperate), [false, true, true, true, false, false]);
    assert.deepEqual(roles.map(canEdit), [false, false, true, true, false, false]);
  });
});
