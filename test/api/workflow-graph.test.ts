import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApi, type TestApi } from '../support/api';
import { assertError } from '../support/assertions';
import { createProcessor, createStep, createWorkflow, unique } from '../support/fixtures';

interface Step {
  id: string;
  name: string;
  version: string;
  nextStepIds: string[];
}

describe('workflow graph', () => {
  let api: TestApi;
  let processorId: string;

  before(async () => {
    api = await startTestApi();
    processorId = (await createProcessor(api)).id as string;
  });
  after(() => api.close());

  const step = (name: string, nextStepIds: string[] = []) =>
    createStep(api, processorId, { name: `${name}-${unique()}`, nextStepIds }) as Promise<Step>;

  /** Replaces a step's next steps; the step keeps its other fields. */
  const setNext = (s: Step, nextStepIds: string[]) =>
    api.request('PUT', `/api/Step/${s.id}`, { version: s.version, name: s.name, processorId, nextStepIds });

  /** Creates steps a → b → c → a (the last edge added by PUT while no workflow contains them). */
  async function ring(): Promise<[Step, Step, Step]> {
    const c = await step('C');
    const b = await step('B', [c.id]);
    const a = await step('A', [b.id]);
    const closed = await setNext(c, [a.id]);
    assert.equal(closed.status, 204, JSON.stringify(closed.body));
    return [a, b, c];
  }

  const postWorkflow = (stepIds: string[]) =>
    api.request('POST', '/api/Workflow', { version: '1.0', name: `workflow-${unique()}`, stepIds });

  it('a diamond is accepted, whatever the order of its steps', async () => {
    const d = await step('D');
    const [b, c] = [await step('B', [d.id]), await step('C', [d.id])];
    const a = await step('A', [b.id, c.id]);
    const workflow = await createWorkflow(api, [a.id, b.id, c.id, d.id]);
    assert.deepEqual(workflow.stepIds, [a.id, b.id, c.id, d.id]);
    const reversed = await createWorkflow(api, [d.id, c.id, b.id, a.id]);
    assert.deepEqual(reversed.stepIds, [d.id, c.id, b.id, a.id]);
  });

  it('a cycle A→B→C→A answers 400 naming the cycle step by step', async () => {
    const [a, b, c] = await ring();
    const response = await postWorkflow([a.id, b.id, c.id]);
    assertError(response, 400, 'ValidationFailed', [
      {
        field: 'stepIds',
        rule: 'cycle',
        message: `cycle: "${a.name}" → "${b.name}" → "${c.name}" → "${a.name}"`,
      },
    ]);
    assert.deepEqual(response.body.details[0].stepIds, [a.id, b.id, c.id, a.id]);
    assert.ok(response.body.message.includes(`"${a.name}" → "${b.name}" → "${c.name}" → "${a.name}"`));

    // The cycle is named from the workflow's first step on it.
    const reordered = await postWorkflow([c.id, b.id, a.id]);
    assertError(reordered, 400, 'ValidationFailed', [
      {
        field: 'stepIds',
        rule: 'cycle',
        message: `cycle: "${c.name}" → "${a.name}" → "${b.name}" → "${c.name}"`,
      },
    ]);
  });

  it('a next step outside the workflow answers 400 danglingNextStep', async () => {
    const outside = await step('outside');
    const inside = await step('inside', [outside.id]);
    const response = await postWorkflow([inside.id]);
    assertError(response, 400, 'ValidationFailed', [
      {
        field: 'stepIds',
        rule: 'danglingNextStep',
        message: `step "${inside.name}" (id ${inside.id}) lists next step id "${outside.id}", which is not part of the workflow`,
      },
    ]);
    assert.equal(response.body.details[0].stepId, inside.id);
    assert.equal(response.body.details[0].nextStepId, outside.id);
  });

  it('several problems are reported at once: dangling next steps and every cycle', async () => {
    const [a, b, c] = await ring();
    const [x, y] = [await step('X'), await step('Y')];
    assert.equal((await setNext(x, [y.id])).status, 204);
    assert.equal((await setNext(y, [x.id])).status, 204);
    const outside = await step('outside');
    const leaf = await step('leaf', [outside.id, a.id]);
    const response = await postWorkflow([leaf.id, a.id, b.id, c.id, x.id, y.id]);
    assertError(response, 400, 'ValidationFailed', [
      { field: 'stepIds', rule: 'danglingNextStep' },
      {
        field: 'stepIds',
        rule: 'cycle',
        message: `cycle: "${a.name}" → "${b.name}" → "${c.name}" → "${a.name}"`,
      },
      { field: 'stepIds', rule: 'cycle', message: `cycle: "${x.name}" → "${y.name}" → "${x.name}"` },
    ]);
    assert.equal(response.body.details[0].nextStepId, outside.id);
  });

  it('a Workflow PUT that would contain a cycle answers 400 and changes nothing', async () => {
    const [a, b, c] = await ring();
    const d = await step('D');
    const workflow = await createWorkflow(api, [d.id]);
    const put = await api.request('PUT', `/api/Workflow/${workflow.id}`, {
      version: workflow.version,
      name: workflow.name,
      stepIds: [d.id, a.id, b.id, c.id],
    });
    assertError(put, 400, 'ValidationFailed', [{ field: 'stepIds', rule: 'cycle' }]);
    assert.deepEqual((await api.request('GET', `/api/Workflow/${workflow.id}`)).body, workflow);
  });

  describe('a Step PUT inside a workflow', () => {
    it('that would close a cycle answers 409 WorkflowGraphConflict naming the workflow', async () => {
      const c = await step('C');
      const b = await step('B', [c.id]);
      const a = await step('A', [b.id]);
      const workflow = await createWorkflow(api, [a.id, b.id, c.id]);
      const response = await setNext(c, [a.id]);
      assertError(response, 409, 'WorkflowGraphConflict', [
        {
          field: 'nextStepIds',
          rule: 'cycle',
          message: `workflow "${workflow.name}" (${workflow.id}) would become invalid: cycle: "${a.name}" → "${b.name}" → "${c.name}" → "${a.name}"`,
        },
      ]);
      assert.equal(response.body.details[0].workflowId, workflow.id);
      assert.deepEqual((await api.request('GET', `/api/Step/${c.id}`)).body.nextStepIds, []);
    });

    it('names every workflow it would break, and only those', async () => {
      const [b, c] = [await step('B'), await step('C')];
      const a = await step('A', [b.id]);
      const withC = await createWorkflow(api, [a.id, b.id, c.id]);
      const withoutC = await createWorkflow(api, [a.id, b.id]);
      const response = await setNext(b, [c.id]);
      assertError(response, 409, 'WorkflowGraphConflict', [
        { field: 'nextStepIds', rule: 'danglingNextStep' },
      ]);
      assert.equal(response.body.details[0].workflowId, withoutC.id);
      assert.match(response.body.details[0].message, new RegExp(`^workflow "${withoutC.name}"`));

      // Once the workflow that cannot hold the edge is gone, the change is accepted.
      assert.equal((await api.request('DELETE', `/api/Workflow/${withoutC.id}`)).status, 204);
      assert.equal((await setNext(b, [c.id])).status, 204);
      assert.deepEqual((await api.request('GET', `/api/Workflow/${withC.id}`)).body.stepIds, [
        a.id,
        b.id,
        c.id,
      ]);
    });

    it('that keeps the graph acyclic is accepted', async () => {
      const [b, c] = [await step('B'), await step('C')];
      const a = await step('A', [b.id]);
      await createWorkflow(api, [a.id, b.id, c.id]);
      assert.equal((await setNext(a, [b.id, c.id])).status, 204);
      assert.equal((await setNext(b, [c.id])).status, 204);
      assert.deepEqual((await api.request('GET', `/api/Step/${b.id}`)).body.nextStepIds, [c.id]);
    });
  });

  it('a step listing itself answers 400', async () => {
    const s = await step('self');
    const response = await setNext(s, [s.id]);
    assertError(response, 400, 'ValidationFailed', [
      { field: 'nextStepIds[0]', rule: 'acyclic', message: 'a step cannot list itself as a next step' },
    ]);
    const other = await step('other');
    assertError(await setNext(s, [other.id, s.id.toUpperCase()]), 400, 'ValidationFailed', [
      { field: 'nextStepIds[1]', rule: 'acyclic' },
    ]);
    assert.deepEqual((await api.request('GET', `/api/Step/${s.id}`)).body.nextStepIds, []);
  });

  it('steps outside any workflow may form a cycle; a workflow holding it is refused', async () => {
    const [a, b, c] = await ring();
    assert.deepEqual((await api.request('GET', `/api/Step/${c.id}`)).body.nextStepIds, [a.id]);
    assertError(await postWorkflow([a.id, b.id, c.id]), 400, 'ValidationFailed', [
      { field: 'stepIds', rule: 'cycle' },
    ]);
  });

  it('a long chain is validated without trouble', async () => {
    const steps: Step[] = [await step('s0')];
    for (let i = 1; i < 60; i++) steps.push(await step(`s${i}`, [steps[i - 1]!.id]));
    const ids = steps.map((s) => s.id).reverse();
    const workflow = await createWorkflow(api, ids);
    assert.deepEqual(workflow.stepIds, ids);
    const closed = await setNext(steps[0]!, [steps[59]!.id]);
    assertError(closed, 409, 'WorkflowGraphConflict', [{ field: 'nextStepIds', rule: 'cycle' }]);
  });
});
