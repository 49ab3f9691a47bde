import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { previewBundle } from './bundle-preview';

const GREETING = `# the greeting flow
kind: Step
name: Shout
version: '1.0'
processor: transform@1.0.0
next: [Wait@1.0]
---
kind: Step
name: Wait
version: '1.0'
processor: delay@1.0.0
entryCondition: Always
---
kind: Workflow
name: Greeting
version: '1.0'
steps: [Shout@1.0, Wait@1.0]
---
kind: OrchestratedFlow
name: GreetingFlow
version: '1.0'
workflow: Greeting@1.0
`;

describe('previewBundle', () => {
  it("draws the workflow's steps, edges from next, entry points and layers", () => {
    const { view, problems, documents } = previewBundle(GREETING);
    assert.deepEqual(problems, []);
    assert.equal(documents, 4);
    assert.deepEqual(view, {
      workflow: { id: 'Greeting@1.0', name: 'Greeting', version: '1.0' },
      nodes: [
        {
          id: 'Shout@1.0',
          name: 'Shout',
          version: '1.0',
          processor: 'transform@1.0.0',
          entryCondition: 'PreviousSuccess',
          entryPoint: true,
          layer: 0,
        },
        {
          id: 'Wait@1.0',
          name: 'Wait',
          version: '1.0',
          processor: 'delay@1.0.0',
          entryCondition: 'Always',
          entryPoint: false,
          layer: 1,
        },
      ],
      edges: [{ from: 'Shout@1.0', to: 'Wait@1.0' }],
    });
  });

  it('reads { documents: [...] } (what the export answers) as the same bundle', () => {
    const wrapped = previewBundle(
      JSON.stringify({
        documents: [
          { kind: 'Step', name: 'A', version: '1', processor: 'p@1', next: ['B@1'] },
          { kind: 'Step', name: 'B', version: '1', processor: 'p@1' },
          { kind: 'Workflow', name: 'W', version: '1', steps: ['A@1', 'B@1'] },
        ],
      }),
    );
    assert.deepEqual(wrapped.problems, []);
    assert.equal(wrapped.documents, 3);
    assert.deepEqual(
      wrapped.view?.nodes.map((n) => [n.name, n.layer, n.entryPoint]),
      [
        ['A', 0, true],
        ['B', 1, false],
      ],
    );
  });

  it('puts a step after its furthest predecessor', () => {
    const { view } = previewBundle(`
documents:
  - { kind: Step, name: A, version: '1', processor: p@1, next: [B@1, C@1] }
  - { kind: Step, name: B, version: '1', processor: p@1, next: [C@1] }
  - { kind: Step, name: C, version: '1', processor: p@1 }
  - { kind: Workflow, name: W, version: '1', steps: [A@1, B@1, C@1] }
`);
    assert.deepEqual(
      view?.nodes.map((n) => n.layer),
      [0, 1, 2],
    );
    assert.equal(view?.edges.length, 3);
  });

  it('names the line of a YAML syntax error and draws nothing', () => {
    const { view, problems } = previewBundle('kind: Step\nname: [Shout\nversion: 1\n');
    assert.equal(view, null);
    assert.ok(problems.length > 0);
    assert.equal(typeof problems[0]!.line, 'number');
    assert.match(problems[0]!.message, /^line \d+: /);
  });

  it('reports a next or workflow step the bundle does not hold, and leaves it out of the graph', () => {
    const edited = GREETING.replace('next: [Wait@1.0]', 'next: [Wait@1.0, Ghost@1.0]').replace(
      'steps: [Shout@1.0, Wait@1.0]',
      'steps: [Shout@1.0, Wait@1.0, Missing@2]',
    );
    const { view, problems } = previewBundle(edited);
    assert.deepEqual(
      view?.nodes.map((n) => n.name),
      ['Shout', 'Wait'],
    );
    assert.deepEqual(
      problems.map((p) => p.message),
      [
        'Workflow Greeting@1.0: steps[2] Missing@2 is not a Step in this bundle',
        'Step Shout@1.0: next[1] Ghost@1.0 is not a Step in this bundle nor in workflow Greeting@1.0',
      ],
    );
    assert.equal(problems[1]!.line, 2, 'the line of the Step document');
  });

  it('reports a step outside the workflow, a cycle, duplicates and nameless documents', () => {
    const { problems } = previewBundle(`
kind: Step
name: A
version: '1'
next: [B@1, Z@1]
---
kind: Step
name: B
version: '1'
next: [A@1]
---
kind: Step
name: Z
version: '1'
---
kind: Step
name: Z
version: '1'
---
kind: Step
---
- not a mapping
---
kind: Workflow
name: W
version: '1'
steps: [A@1, B@1, A@1]
`);
    assert.deepEqual(
      problems.map((p) => p.message),
      [
        'Step document 5 needs a name and a version',
        'document 6 is not a mapping of fields',
        'Step Z@1 is in the bundle twice',
        'Workflow W@1: steps[2] lists A@1 twice',
        'Step A@1: next[1] Z@1 is not a step of workflow W@1',
        'the steps form a cycle through next at A@1',
      ],
    );
  });

  it('draws the workflow the OrchestratedFlow names, and says when there is none to draw', () => {
    const two = `${GREETING}---\nkind: Workflow\nname: Other\nversion: '1'\nsteps: [Wait@1.0]\n`;
    assert.equal(
      previewBundle(two.replace('workflow: Greeting@1.0', 'workflow: Other@1')).view?.workflow.name,
      'Other',
    );
    assert.deepEqual(previewBundle('kind: Schema\nname: s\nversion: "1"\n').problems, [
      { message: 'the bundle has no Workflow document: nothing to draw' },
    ]);
    assert.deepEqual(previewBundle(''), { view: null, problems: [], documents: 0 });
  });
});
