import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { defineProcessor, ProcessorDefinitionError } from './define-processor';
import { computeImplementationHash } from './implementation-hash';
import { pointerToDotted } from './schema-violation';

const base = {
  name: 'ok',
  version: '1.0.0',
  description: 'test',
  module: __filename,
  inputSchema: {},
  outputSchema: {},
  run: () => null,
};

describe('defineProcessor', () => {
  test('fills in the default configuration schema (any object)', () => {
    const definition = defineProcessor(base);
    assert.deepEqual(definition.configurationSchema, { type: 'object' });
    assert.ok(Object.isFrozen(definition));
  });

  test('lists every problem of an invalid definition', () => {
    assert.throws(
      () =>
        defineProcessor({
          ...base,
          name: 'bad name',
          version: '',
          module: 'relative.ts',
          outputSchema: { type: 'no-such-type' },
        }),
      (error: unknown) => {
        assert.ok(error instanceof ProcessorDefinitionError);
        for (const part of [
          'name "bad name"',
          'version ""',
          'module must be an absolute path',
          'outputSchema',
        ])
          assert.ok(error.message.includes(part), `${part} missing from: ${error.message}`);
        return true;
      },
    );
  });
});

describe('computeImplementationHash', () => {
  test('is the SHA-256 of the module file', async () => {
    const expected = createHash('sha256').update(readFileSync(__filename)).digest('hex');
    assert.equal(await computeImplementationHash({ module: __filename }), expected);
    assert.match(expected, /^[0-9a-f]{64}$/);
  });
});

describe('pointerToDotted', () => {
  test('turns a JSON pointer into a dotted path', () => {
    assert.equal(pointerToDotted(''), '');
    assert.equal(pointerToDotted('/customer/email'), 'customer.email');
    assert.equal(pointerToDotted('/items/0/a~1b~0c'), 'items.0.a/b~c');
  });
});
