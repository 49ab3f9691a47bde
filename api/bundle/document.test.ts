import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkBundle, parseRef, readDocuments } from './document';
import { parseBundleText } from './yaml';

const HASH = 'b'.repeat(64);
const BUNDLE = `# yaml-language-server: $schema=https://flow-orchestrator.dev/schemas/bundle.json
kind: Step
name: Shout
version: "1.0"
processor: transform@1.0.0
next: [Wait@1.0]
configuration: { expression: "$uppercase(greeting)" }
---
kind: Step
name: Wait
version: "1.0"
processor: transform@1.0.0
retryPolicy:
  maximumAttempts: 0
---
kind: Workflow
name: Greeting
version: "1.0"
steps: [Shout@1.0, Wait@1.0]
`;

describe('bundle documents', () => {
  it('reads name@version references, the version after the last @', () => {
    assert.deepEqual(parseRef('mail@home@2.0'), { name: 'mail@home', version: '2.0' });
    assert.equal(parseRef('no-version'), undefined);
    assert.equal(parseRef('@1.0'), undefined);
    assert.equal(parseRef('name@'), undefined);
  });

  it('checks offline: REST rules per field, references outside the bundle listed as external', () => {
    const parsed = parseBundleText(BUNDLE);
    const { problems, external } = checkBundle(parsed.documents, { offline: true });
    assert.deepEqual(external, ['Processor transform@1.0.0']);
    assert.deepEqual(
      problems.map((p) => ({
        document: p.document,
        field: p.field,
        rule: p.rule,
        line: parsed.lineOf(p.document, p.field),
      })),
      [{ document: 1, field: 'retryPolicy.maximumAttempts', rule: 'min', line: 14 }],
    );
  });

  it('finds line numbers of documents, fields and list items', () => {
    const parsed = parseBundleText(BUNDLE);
    assert.equal(parsed.documents.length, 3);
    assert.equal(parsed.lineOf(0), 2);
    assert.equal(parsed.lineOf(0, 'next[0]'), 6);
    assert.equal(parsed.lineOf(2, 'steps[1]'), 19);
    assert.equal(parsed.lineOf(2, 'no.such.field'), 16, 'the document, when the field is not written');
  });

  it('reads a JSON { documents } file the same way', () => {
    const parsed = parseBundleText(
      JSON.stringify({ documents: [{ kind: 'Schema', name: 's', version: '1', definition: {} }] }),
    );
    assert.deepEqual(parsed.documents, [{ kind: 'Schema', name: 's', version: '1', definition: {} }]);
    assert.equal(parsed.lineOf(0), 1);
  });

  it('refuses unknown kinds, UUID fields, server fields and malformed references', () => {
    const { problems } = readDocuments([
      { kind: 'Task', name: 'x', version: '1' },
      { kind: 'Step', name: 'y', version: '1', processorId: 'c0ffee00-0000-4000-8000-000000000000', id: 'x' },
      { kind: 'Workflow', name: 'z', version: '1', steps: ['a@1', 'a@1', 'b'] },
      'not a mapping',
    ]);
    assert.deepEqual(
      problems.map((p) => [p.document, p.field, p.rule]),
      [
        [0, 'kind', 'oneOf'],
        [1, 'processorId', 'unknownField'],
        [1, 'id', 'unknownField'],
        [2, 'steps[2]', 'reference'],
        [3, 'document', 'object'],
      ],
    );
    assert.match(problems[1]!.message, /use "processor"/);
  });

  it('finds cycles through next and workflows that are not a DAG, before any database', () => {
    const step = (name: string, next: string[]) => ({
      kind: 'Step',
      name,
      version: '1',
      processor: 'p@1',
      next,
    });
    const cyclic = checkBundle([step('a', ['b@1']), step('b', ['a@1'])], { offline: true });
    assert.deepEqual(
      cyclic.problems.map((p) => [p.document, p.field, p.rule, p.message]),
      [[0, 'next', 'acyclic', 'the steps form a cycle through next: a@1 → b@1 → a@1']],
    );
    const dangling = checkBundle(
      [step('a', ['b@1']), step('b', []), { kind: 'Workflow', name: 'w', version: '1', steps: ['a@1'] }],
      { offline: true },
    );
    assert.deepEqual(
      dangling.problems.map((p) => [p.document, p.field, p.rule]),
      [[2, 'steps', 'danglingNextStep']],
    );
  });

  it('checks a 10,000-step chain in one workflow (no recursion limit, no quadratic scans)', () => {
    const n = 10_000;
    const name = (i: number) => `s${i}`;
    const chain = Array.from({ length: n }, (_, i) => ({
      kind: 'Step',
      name: name(i),
      version: '1',
      processor: 'p@1',
      next: [`${name((i + 1) % n)}@1`],
    }));
    const cyclic = checkBundle(chain, { offline: true });
    assert.deepEqual(
      cyclic.problems.map((p) => [p.document, p.rule]),
      [[0, 'acyclic']],
    );
    assert.ok(cyclic.problems[0]?.message.endsWith(`${name(n - 1)}@1 → ${name(0)}@1`));
    chain[n - 1]!.next = [];
    const steps = chain.map((s) => `${s.name}@1`);
    const begin = Date.now();
    const checked = checkBundle([...chain, { kind: 'Workflow', name: 'w', version: '1', steps }], {
      offline: true,
    });
    assert.deepEqual(checked.problems, []);
    assert.equal(checked.checked?.length, n + 1);
    assert.ok(Date.now() - begin < 20_000, `${Date.now() - begin} ms`);
    const twice = checkBundle(
      [...chain, { kind: 'Workflow', name: 'w', version: '1', steps: [...steps, 's5@1'] }],
      {
        offline: true,
      },
    );
    assert.deepEqual(
      twice.problems.map((p) => [p.field, p.message]),
      [[`steps[${n}]`, 'lists s5@1 twice']],
    );
  });

  it('resolves stored candidates and names a missing one on the server', () => {
    const docs = [
      {
        kind: 'Processor',
        name: 'p',
        version: '1',
        inputSchema: 's@1',
        outputSchema: 't@1',
        implementationHash: HASH,
      },
    ];
    const { problems } = checkBundle(docs, {
      stored: [{ kind: 'Schema', name: 's', version: '1', id: 'c0ffee00-0000-4000-8000-000000000001' }],
    });
    assert.deepEqual(
      problems.map((p) => [p.field, p.rule, p.message]),
      [['outputSchema', 'exists', 'no Schema t@1 in the bundle or stored']],
    );
  });
  it('reads a compensation’s processor as a name@version reference inside it', () => {
    const text = `kind: Step
name: Charge
version: "1.0"
processor: charge@1.0.0
forEach:
  items: $.orders
compensation:
  processor: refund@1.0.0
  configuration: { mode: full }
`;
    const parsed = parseBundleText(text);
    const read = readDocuments(parsed.documents);
    assert.deepEqual(read.problems, []);
    assert.deepEqual(read.documents[0]!.refs, {
      processor: 'charge@1.0.0',
      'compensation.processor': 'refund@1.0.0',
    });
    assert.deepEqual(read.documents[0]!.fields.compensation, { configuration: { mode: 'full' } });
    const { checked, problems, external } = checkBundle(parsed.documents, { offline: true });
    assert.deepEqual(problems, []);
    assert.deepEqual(external, ['Processor charge@1.0.0', 'Processor refund@1.0.0']);
    const input = checked![0]!.input;
    assert.deepEqual(input.forEach, { items: '$.orders', maxParallel: 10, failurePolicy: 'failFast' });
    assert.deepEqual(input.compensation, {
      processorId: '00000000-0000-4000-8000-000000000003',
      configuration: { mode: 'full' },
    });
    assert.equal(parsed.lineOf(0, 'compensation.processor'), 8);
  });

  it('names compensation and for-each problems by the bundle’s fields', () => {
    const step = (more: Record<string, unknown>) => ({
      kind: 'Step',
      name: 's',
      version: '1',
      processor: 'p@1',
      ...more,
    });
    const { problems } = checkBundle(
      [
        step({ compensation: { processorId: 'c0ffee00-0000-4000-8000-000000000000' } }),
        step({ name: 't', compensation: { processor: 'not a reference' } }),
        step({ name: 'u', compensation: { configuration: {} }, forEach: { items: '$.a +' } }),
        step({ name: 'v', compensation: 'refund@1' }),
      ],
      { offline: true },
    );
    assert.deepEqual(
      problems.map((p) => [p.document, p.field, p.rule]),
      [
        [0, 'compensation.processorId', 'unknownField'],
        [0, 'compensation.processor', 'required'],
        [1, 'compensation.processor', 'reference'],
        [2, 'forEach.items', 'jsonata'],
        [2, 'compensation.processor', 'required'],
        [3, 'compensation', 'type'],
      ],
    );
  });
});
