/** `GET /api/Workflow/{id}/graph`: JSON, Mermaid and SVG of a stored workflow; 404 and 400 explained. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { GraphView } from '../../domain/graph-view';
import { startTestApi, type TestApi } from '../support/api';
import { assertError } from '../support/assertions';
import { HASH, objectSchema, unique } from '../support/fixtures';

describe('workflow graph route', () => {
  let api: TestApi;
  let workflowId: string;
  const p = `gv-${unique()}`;

  before(async () => {
    api = await startTestApi();
    const step = (name: string, next: string[], more: object = {}) => ({
      kind: 'Step',
      name: `${p}-${name}`,
      version: '1',
      processor: `${p}-proc@1`,
      next: next.map((n) => `${p}-${n}@1`),
      ...more,
    });
    const applied = await api.request('POST', '/api/Bundle/apply', {
      documents: [
        { kind: 'Schema', name: `${p}-s`, version: '1', definition: objectSchema },
        {
          kind: 'Processor',
          name: `${p}-proc`,
          version: '1',
          inputSchema: `${p}-s@1`,
          outputSchema: `${p}-s@1`,
          implementationHash: HASH,
        },
        step('Fetch', ['Load', 'Recover']),
        step('Load', []),
        step('Recover', [], { entryCondition: 'PreviousFailure' }),
        {
          kind: 'Workflow',
          name: `${p}-W`,
          version: '1',
          steps: [`${p}-Fetch@1`, `${p}-Load@1`, `${p}-Recover@1`],
        },
      ],
    });
    assert.equal(applied.status, 200, JSON.stringify(applied.body));
    workflowId = (await api.request<{ id: string }>('GET', `/api/Workflow/composite/1/${p}-W`)).body.id;
  });
  after(() => api?.close());

  it('answers nodes in layers, edges and entry points as JSON (a viewer may read it)', async () => {
    const response = await api.as('viewer').request<GraphView>('GET', `/api/Workflow/${workflowId}/graph`);
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.deepEqual(
      response.body.nodes.map((n) => [n.name, n.layer, n.entryPoint, n.entryCondition, n.processor]),
      [
        [`${p}-Fetch`, 0, true, 'PreviousSuccess', `${p}-proc@1`],
        [`${p}-Load`, 1, false, 'PreviousSuccess', `${p}-proc@1`],
        [`${p}-Recover`, 1, false, 'PreviousFailure', `${p}-proc@1`],
      ],
    );
    const names = new Map(response.body.nodes.map((n) => [n.id, n.name]));
    assert.deepEqual(
      response.body.edges.map((e) => `${names.get(e.from)} → ${names.get(e.to)}`),
      [`${p}-Fetch → ${p}-Load`, `${p}-Fetch → ${p}-Recover`],
    );
    assert.deepEqual(response.body.workflow, { id: workflowId, name: `${p}-W`, version: '1' });
  });

  it('answers Mermaid as text and SVG as an image', async () => {
    const mermaid = await fetch(`${api.url}/api/Workflow/${workflowId}/graph?format=mermaid`, {
      headers: { authorization: `Bearer ${await api.keyOf('viewer')}` },
    });
    assert.equal(mermaid.status, 200);
    assert.match(mermaid.headers.get('content-type') ?? '', /^text\/plain/);
    assert.match(await mermaid.text(), /^flowchart LR\n[\s\S]* {2}s0 --> s2\n$/);
    const svg = await fetch(`${api.url}/api/Workflow/${workflowId}/graph?format=svg`, {
      headers: { authorization: `Bearer ${await api.keyOf('viewer')}` },
    });
    assert.equal(svg.status, 200);
    assert.match(svg.headers.get('content-type') ?? '', /^image\/svg\+xml/);
    const text = await svg.text();
    assert.match(text, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.equal(text.match(/<g data-step-name=/g)?.length, 3);
  });

  it('answers 404 for an unknown workflow and 400 naming a bad format', async () => {
    assertError(
      await api.request('GET', '/api/Workflow/0c0ffee0-0000-4000-8000-000000000000/graph'),
      404,
      'NotFound',
    );
    assertError(
      await api.request('GET', `/api/Workflow/${workflowId}/graph?format=png`),
      400,
      'ValidationFailed',
      [{ field: 'query.format', rule: 'oneOf' }],
    );
    assertError(await api.anonymous.request('GET', `/api/Workflow/${workflowId}/graph`), 401, 'Unauthorized');
  });
});
