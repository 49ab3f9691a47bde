import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError, detailLines } from './errors';

describe('ApiError', () => {
  it('reads the API error body', () => {
    const error = new ApiError(
      422,
      {
        error: 'InvalidDefinition',
        message: 'The flow cannot run',
        details: [{ field: 'steps[0]', rule: 'processor', message: 'has no worker' }],
        correlationId: 'c-1',
      },
      'c-header',
    );
    assert.equal(error.status, 422);
    assert.equal(error.code, 'InvalidDefinition');
    assert.equal(error.message, 'The flow cannot run');
    assert.equal(error.correlationId, 'c-1');
    assert.deepEqual(detailLines(error.details), ['steps[0]: has no worker (processor)']);
  });

  it('copes with a body that is not the API shape', () => {
    const error = new ApiError(502, '<html>Bad gateway</html>', 'c-2');
    assert.equal(error.code, 'HTTP 502');
    assert.equal(error.message, '<html>Bad gateway</html>');
    assert.equal(error.correlationId, 'c-2');
    assert.equal(new ApiError(500, undefined).message, 'The API answered 500.');
  });
});
