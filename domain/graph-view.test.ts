import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildGraphView, toMermaid, toSvg, type GraphViewStep } from './graph-view';

const step = (id: string, next: string[], more: Partial<GraphViewStep> = {}): GraphViewStep => ({
  id,
  name: id,
  version: '1',
  processor: 'transform@1.0.0',
  entryCondition: 'PreviousSuccess',
  nextStepIds: next,
  ...more,
});

// fetch → a, b; a → join; b → c → join; b → recover (PreviousFailure): 4 layers, at most 2 steps in one
const steps = new Map(
  [
    step('fetch', ['a', 'b']),
    step('a', ['join']),
    step('b', ['c', 'recover']),
    step('c', ['join']),
    step('join', []),
    step('recover', [], { entryCondition: 'PreviousFailure', name: 'Re<cover> & "co"' }),
  ].map((s) => [s.id, s]),
);
const view = buildGraphView({ id: 'w', name: 'W', version: '1' }, [...steps.keys()], steps);

describe('graph view', () => {
  it('puts each step one layer after its furthest predecessor; marks entry points', () => {
    assert.deepEqual(Object.fromEntries(view.nodes.map((n) => [n.id, [n.layer, n.entryPoint]])), {
      fetch: [0, true],
      a: [1, false],
      b: [1, false],
      c: [2, false],
      join: [3, false],
      recover: [2, false],
    });
    assert.equal(view.edges.length, 6);
  });

  it('writes Mermaid: entry points as stadiums, conditions other than PreviousSuccess shown', () => {
    const text = toMermaid(view);
    assert.match(text, /^flowchart LR\n {2}s0\(\["fetch<br\/>transform@1\.0\.0"\]\)$/m);
    assert.match(text, /s5\["Re<cover> & #quot;co#quot;<br\/>transform@1\.0\.0 \[PreviousFailure\]"\]/);
    assert.match(text, /^ {2}s0 --> s1$/m);
  });

  it('draws an SVG with one group per step, its text escaped', () => {
    const svg = toSvg(view);
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="1012" height="156"/);
    assert.equal(svg.match(/<g data-step-name=/g)?.length, 6);
    assert.equal(svg.match(/marker-end="url\(#arrow\)"/g)?.length, 6, 'one arrow per edge');
    assert.match(svg, /Re&lt;cover&gt; &amp; &quot;co&quot;/);
    assert.doesNotMatch(svg, /Re<cover>/);
  });
});
