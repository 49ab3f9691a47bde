/**
 * The write path's choice: a write that needs Temporal while Temporal is down fails with 503 and the database is
 * unchanged. Writes that do not touch a schedule still work. The background reconciler keeps retrying.
 */
import { testCodec } from '../support/codec';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { startScheduleReconciler } from '../../api/schedules/reconciler';
import { lazyTemporalConnection } from '../../api/temporal-connection';
import { findFreePort } from '../../infra/ports';
import { startTestApi, type TestApi } from '../support/api';
import { createProcessor, createStep, createWorkflow } from '../support/fixtures';
import { createScheduledFlow, flowBody } from './helpers';

const UNAVAILABLE = {
  error: 'ServiceUnavailable',
  message: 'Temporal is unavailable: the Temporal server cannot be reached',
};

describe('schedule writes while Temporal is down', () => {
  let api: TestApi;
  let deadAddress: string;
  let workflowId: string;
  before(async () => {
    deadAddress = `127.0.0.1:${await findFreePort()}`;
    api = await startTestApi({ temporalAddress: deadAddress });
    const processor = await createProcessor(api);
    workflowId = (await createWorkflow(api, [(await createStep(api, processor.id)).id])).id;
  });
  after(() => api.close());

  /** Every stored flow, exactly as the API shows them. */
  const allFlows = async () => (await api.request('GET', '/api/OrchestratedFlow?limit=1000')).body;

  it('a create with a cron expression answers 503 and stores nothing', async () => {
    const before = await allFlows();
    const body = flowBody(workflowId, { cronExpression: '0 9 * * *', isScheduleEnabled: true });
    const response = await api.request('POST', '/api/OrchestratedFlow', body);
    assert.equal(response.status, 503, JSON.stringify(response.body));
    assert.deepEqual(response.body, UNAVAILABLE);
    assert.deepEqual(await allFlows(), before);
    const lookup = await api.request('GET', `/api/OrchestratedFlow/composite/1.0/${body.name}`);
    assert.equal(lookup.status, 404);
  });

  it('writes that leave the schedule alone still work: no cron, or only the description changes', async () => {
    const flow = await createScheduledFlow(api, workflowId);
    const { id, createdAt: _c, updatedAt: _u, createdBy: _cb, updatedBy: _ub, ...body } = flow;
    const put = await api.request('PUT', `/api/OrchestratedFlow/${id}`, {
      ...body,
      description: 'still fine',
    });
    assert.equal(put.status, 204, JSON.stringify(put.body));
    assert.equal((await api.request('GET', `/api/OrchestratedFlow/${id}`)).body.description, 'still fine');
  });

  it('a replace, delete, pause or resume that needs Temporal answers 503 and changes nothing', async () => {
    const flow = await createScheduledFlow(api, workflowId);
    const { id, createdAt: _c, updatedAt: _u, createdBy: _cb, updatedBy: _ub, ...body } = flow;
    const addCron = await api.request('PUT', `/api/OrchestratedFlow/${id}`, {
      ...body,
      cronExpression: '@daily',
    });
    assert.equal(addCron.status, 503, JSON.stringify(addCron.body));
    assert.deepEqual(addCron.body, UNAVAILABLE);
    assert.deepEqual((await api.request('GET', `/api/OrchestratedFlow/${id}`)).body, flow);

    // A flow scheduled while Temporal was up (stored directly: the API cannot create one now).
    await api.prisma.orchestratedFlow.update({ where: { id }, data: { cronExpression: '@daily' } });
    const scheduled = (await api.request('GET', `/api/OrchestratedFlow/${id}`)).body;
    const attempts: Array<[string, string, unknown?]> = [
      ['PUT', `/api/OrchestratedFlow/${id}`, { ...body, cronExpression: '@daily', isScheduleEnabled: true }],
      ['PUT', `/api/OrchestratedFlow/${id}`, { ...body, cronExpression: '@hourly' }],
      ['PUT', `/api/OrchestratedFlow/${id}`, { ...body, cronExpression: null }],
      ['DELETE', `/api/OrchestratedFlow/${id}`],
      ['POST', `/api/OrchestratedFlow/${id}/schedule/pause`],
      ['POST', `/api/OrchestratedFlow/${id}/schedule/resume`],
      ['GET', `/api/OrchestratedFlow/${id}/schedule`],
      ['POST', `/api/OrchestratedFlow/${id}/schedule/trigger`],
      [
        'POST',
        `/api/OrchestratedFlow/${id}/schedule/backfill`,
        { start: '2025-01-01T00:00:00Z', end: '2025-01-02T00:00:00Z' },
      ],
    ];
    for (const [method, path, requestBody] of attempts) {
      const response = await api.request(method, path, requestBody);
      assert.equal(response.status, 503, `${method} ${path}: ${JSON.stringify(response.body)}`);
      assert.deepEqual(response.body, UNAVAILABLE, `${method} ${path}`);
      assert.deepEqual(
        (await api.request('GET', `/api/OrchestratedFlow/${id}`)).body,
        scheduled,
        `${method} ${path}`,
      );
    }
  });

  it('the background reconciler logs the outage and keeps retrying', async () => {
    const connection = lazyTemporalConnection(deadAddress);
    const lines: Array<Record<string, any>> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const reconciler = startScheduleReconciler({
      prisma: api.prisma,
      connection,
      namespace: 'default',
      logger,
      retryDelayMs: 10,
      codec: testCodec(),
    });
    try {
      // Not `eventually` from support/engine: importing it installs Temporal's native runtime, which keeps a
      // process that never starts a worker alive.
      const warnings = () => lines.filter((l) => l.msg === 'could not reconcile flow schedules; will retry');
      for (const deadline = Date.now() + 60_000; warnings().length < 2; await sleep(100))
        assert.ok(Date.now() < deadline, 'the reconciler did not retry within 60 s');
      const warning = lines.find((l) => l.msg === 'could not reconcile flow schedules; will retry')!;
      assert.equal(warning.level, 40);
      assert.equal(warning.retryInMs, 10);
      assert.equal(warning.err.message, UNAVAILABLE.message);
      assert.equal(
        lines.some((l) => l.msg === 'flow schedules reconciled'),
        false,
      );
    } finally {
      await reconciler.stop();
      await connection.close();
    }
  });
});
