import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fieldLabel, parseInput, validateInput, type InputSchema } from './input-validation';

const greeting: InputSchema = {
  stepName: 'Shout',
  schemaName: 'greeting-input@1.0',
  definition: {
    type: 'object',
    properties: {
      greeting: { type: 'string', minLength: 1 },
      count: { type: 'integer', minimum: 1 },
      tags: { type: 'array', items: { type: 'string' } },
    },
    required: ['greeting'],
    additionalProperties: false,
  },
};

describe('parseInput', () => {
  it('parses JSON, and reads empty text as no input', () => {
    assert.deepEqual(parseInput('{"a":1}'), { ok: true, value: { a: 1 } });
    assert.deepEqual(parseInput('  \n'), { ok: true, value: undefined });
  });
  it('names the line and column of a syntax error', () => {
    const parsed = parseInput('{\n  "a": 1,\n  oops\n}');
    assert.equal(parsed.ok, false);
    assert.match(!parsed.ok ? parsed.message : '', /line 3, column 3/);
  });
});

describe('validateInput', () => {
  it('accepts valid input', () => {
    assert.deepEqual(validateInput({ greeting: 'hi', count: 2, tags: ['a'] }, [greeting]), []);
  });

  it('reports every field problem, on the field', () => {
    const errors = validateInput({ count: 0, tags: ['a', 5], extra: true }, [greeting]);
    const byField = Object.fromEntries(errors.map((e) => [e.field, e.message]));
    assert.deepEqual(Object.keys(byField).sort(), ['/count', '/extra', '/greeting', '/tags/1']);
    assert.equal(byField['/greeting'], 'is required');
    assert.match(byField['/count']!, /1/);
    assert.match(byField['/tags/1']!, /string/);
    assert.equal(byField['/extra'], 'is not allowed');
    assert.ok(errors.every((e) => e.stepName === 'Shout' && e.schemaName === 'greeting-input@1.0'));
  });

  it('checks no input as null', () => {
    const errors = validateInput(undefined, [greeting]);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.field, '');
    assert.deepEqual(validateInput(undefined, [{ ...greeting, definition: {} }]), []);
  });

  it('checks against each entry step', () => {
    const other: InputSchema = {
      stepName: 'Count',
      schemaName: 'n@1',
      definition: { type: 'object', required: ['n'] },
    };
    const errors = validateInput({ greeting: 'hi' }, [greeting, other]);
    assert.deepEqual(
      errors.map((e) => [e.stepName, e.field, e.message]),
      [['Count', '/n', 'is required']],
    );
  });

  it('reports a failed anyOf once, not each branch', () => {
    const schema: InputSchema = {
      stepName: 'S',
      schemaName: 's@1',
      definition: { properties: { id: { anyOf: [{ type: 'string' }, { type: 'integer' }] } } },
    };
    const errors = validateInput({ id: true }, [schema]);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.field, '/id');
  });

  it('reads draft 2020-12 schemas', () => {
    const schema: InputSchema = {
      stepName: 'S',
      schemaName: 's@1',
      definition: {
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        type: 'array',
        prefixItems: [{ type: 'number' }],
      },
    };
    assert.deepEqual(validateInput([1], [schema]), []);
    assert.equal(validateInput(['x'], [schema])[0]?.field, '/0');
  });
});

describe('fieldLabel', () => {
  it('reads a pointer as a path', () => {
    assert.equal(fieldLabel(''), '(input)');
    assert.equal(fieldLabel('/greeting'), 'greeting');
    assert.equal(fieldLabel('/items/0/name'), 'items[0].name');
    assert.equal(fieldLabel('/a~1b'), 'a/b');
  });
});
