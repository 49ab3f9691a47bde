/**
 * What a start loads in one query (api/orchestration/start-definition.ts) is the snapshot the run's own loader builds
 * (activities/snapshot.ts) — hash included — for a flow with every kind of part; an edit anywhere in the definition is
 * seen by the next start, and a flow that does not exist is null.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadFlowSnapshot } from '../../activities/snapshot';
import { StartDefinitions } from '../../api/orchestration/start-definition';
import { startTestApi, type TestApi } from '../support/api';
import {
  createAddress,
  createAssignment,
  createDelivery,
  createFlow,
  createProcessor,
  createStep,
  createWorkflow,
} from '../support/fixtures';

describe('the definition a start loads', () => {
  let api: TestApi;
  let definitions: StartDefinitions;
  let flowId: string;
  let ids: { first: string; address: string };

  before(async () => {
    api = await startTestApi();
    definitions = new StartDefinitions(api.prisma);
    const editor = api.as('editor');
    const processor = await createProcessor(editor, {
      retryPolicy: { maximumAttempts: 4 },
      timeouts: { startToCloseMs: 5000 },
    });
    const compensator = await createProcessor(editor);
    const last = await createStep(editor, processor.id, { entryCondition: 'Always' });
    const middle = await createStep(editor, processor.id, {
      nextStepIds: [last.id],
      forEach: { items: 'items', maxParallel: 4 },
      compensation: { processorId: compensator.id, configuration: { undo: true } },
    });
    const first = await createStep(editor, processor.id, {
      nextStepIds: [middle.id, last.id],
      configuration: { expression: '$', nested: { list: [1, 'two', null] } },
      retryPolicy: { maximumAttempts: 2 },
    });
    const workflow = await createWorkflow(editor, [first.id, middle.id, last.id]);
    const address = await createAddress(editor, { configuration: { region: 'eu', apiKey: 'secret' } });
    const delivery = await createDelivery(editor);
    const one = await createAssignment(editor, first.id, [delivery.id, address.id]);
    const two = await createAssignment(editor, last.id, [address.id]);
    const three = await createAssignment(editor, first.id, [address.id]);
    const flow = await createFlow(editor, workflow.id, {
      assignmentIds: [two.id, one.id, three.id],
      maxConcurrentSteps: 3,
    });
    flowId = flow.id;
    ids = { first: first.id, address: address.id };
  });

  after(() => api.close());

  it('is the snapshot the run would load, hash included', async () => {
    const loaded = await definitions.load(flowId);
    const expected = await loadFlowSnapshot(api.prisma, flowId);
    assert.ok(expected);
    assert.deepEqual(loaded?.snapshot, expected);
    assert.deepEqual(loaded.problems, []);
    assert.equal(loaded.jsonLength, JSON.stringify(expected).length);
    // The same definition again: the same validated entry.
    assert.equal((await definitions.load(flowId))?.snapshot, loaded.snapshot);
  });

  it('sees an edit of any part at the next load', async () => {
    const before = (await definitions.load(flowId))!.snapshot;
    const editor = api.as('editor');
    const address = (await editor.request('GET', `/api/Address/${ids.address}`)).body as Record<
      string,
      unknown
    >;
    const put = await editor.request('PUT', `/api/Address/${ids.address}`, {
      ...address,
      configuration: { region: 'us', apiKey: 'secret' },
    });
    assert.equal(put.status, 204, JSON.stringify(put.body));
    const after = (await definitions.load(flowId))!.snapshot;
    assert.notEqual(after.hash, before.hash);
    assert.deepEqual(after, await loadFlowSnapshot(api.prisma, flowId));
    const addresses = after.steps[ids.first]!.assignments.filter((a) => a.kind === 'Address');
    assert.deepEqual(
      addresses.map((a) => a.configuration.region),
      ['us', 'us'],
    );
  });

  it('is null for a flow that does not exist', async () => {
    assert.equal(await definitions.load('00000000-0000-4000-8000-000000000000'), null);
  });
});
