/**
 * Encrypted payloads, end to end: a secret in a run's input and in a step's output never reaches Temporal's store in
 * plain text (the dev server's SQLite file is scanned byte by byte) nor any log line, while the API still shows it
 * decoded; and a key rotation in the middle of a run leaves the run completing and readable.
 */
import { testDataPlane } from '../support/codec';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import pino, { type DestinationStream } from 'pino';
import { delayProcessor, transformProcessor } from '../../activities/processors';
import { startApi } from '../../api/server';
import { lazyTemporalConnection } from '../../api/temporal-connection';
import type { RunSummary } from '../../domain/flow-types';
import { manualRunWorkflowId } from '../../domain/task-queue';
import { loadTestConfig } from '../../infra/config';
import { EncryptionCodec, KeyRing } from '../../infra/payload-codec';
import { startTemporalDevServer, type TemporalDevServer } from '../../infra/temporal-dev-server';
import { createOrchestratorWorker } from '../../workers/orchestrator-worker';
import { startProcessorWorker } from '../../workers/processor-worker';
import { apiClient, startTestApi, TEST_RATE_LIMITS } from '../support/api';
import { assertError, sleep } from '../support/assertions';
import {
  createFlow,
  runFlow,
  startRun,
  startTestEngine,
  stepNamed,
  waitForRun,
  type TestEngine,
} from '../support/engine';
import { unique } from '../support/fixtures';

/** Every file the dev server keeps its SQLite database in (the file and its journal / WAL). */
async function storeBytes(dir: string): Promise<Buffer> {
  const files = await readdir(dir);
  return Buffer.concat(await Promise.all(files.map((file) => readFile(path.join(dir, file)))));
}

describe('encrypted payloads in Temporal', () => {
  describe("canary: secrets never reach Temporal's database or a log line in plain text", () => {
    let dir: string;
    let server: TemporalDevServer;
    let engine: TestEngine;
    const processor = { ...transformProcessor, name: `transform-${unique()}` };
    // Every line the API, the orchestrator and the processor worker log, at the most detailed level.
    const logLines: string[] = [];
    const capturedLogger = pino({ level: 'trace' }, {
      write: (line: string) => void logLines.push(line),
    } as unknown as DestinationStream);

    before(async () => {
      const env = loadTestConfig();
      dir = await mkdtemp(path.join(tmpdir(), 'flow-canary-'));
      await chmod(dir, 0o777);
      server = await startTemporalDevServer({
        cliPath: env.TEMPORAL_CLI,
        headless: true,
        dbFile: path.join(dir, 'temporal.sqlite'),
      });
      engine = await startTestEngine([processor], {
        temporalAddress: server.address,
        logger: capturedLogger,
      });
    });
    after(async () => {
      await engine?.close();
      await server?.stop();
      await rm(dir, { recursive: true, force: true });
    });

    it('keeps input, outputs and results encrypted in the store, and readable through the API', async () => {
      const inputSecret = `CANARY-IN-${randomUUID()}`;
      const outputSecret = `CANARY-OUT-${randomUUID()}`;
      const flow = await createFlow(engine.api, {
        Reveal: {
          processor: processor.name,
          configuration: { expression: `{ "seen": secret, "made": "${outputSecret}" }` },
        },
      });
      const run = await runFlow(engine.api, flow.flowId, { secret: inputSecret });
      assert.equal(run.status, 'Completed', JSON.stringify(run));
      assert.deepEqual(
        stepNamed(run, 'Reveal').output,
        { seen: inputSecret, made: outputSecret },
        'the API decodes',
      );

      // A client without the codec sees what Temporal stores.
      const raw = await new Client({ connection: engine.client.connection }).workflow
        .getHandle(manualRunWorkflowId(flow.flowId), run.runId)
        .fetchHistory();
      assert.ok((raw.events ?? []).length > 0);
      const rawText = Buffer.from(JSON.stringify(raw)).toString('latin1');
      for (const secret of [inputSecret, outputSecret])
        assert.ok(!rawText.includes(secret), `${secret} is readable in the fetched history`);

      // Nor in any log line, though every process logged the run (its request, its workflow, its step).
      const logged = logLines.join('');
      for (const text of ['"route":"/api/Orchestration/start', flow.stepIds.Reveal!, run.runId])
        assert.ok(logged.includes(text), `the logs mention ${text}`);
      for (const secret of [inputSecret, outputSecret])
        assert.ok(!logged.includes(secret), `${secret} is in a log line`);

      // Stop the server so SQLite has written everything, then scan every byte it keeps.
      await engine.stopWorkers();
      await server.stop();
      const bytes = await storeBytes(dir);
      assert.ok(
        bytes.includes(flow.flowId),
        'the scan sees what is stored in plain text (IDs, search attributes)',
      );
      for (const secret of [inputSecret, outputSecret])
        assert.ok(!bytes.includes(secret), `${secret} is in plain text in Temporal's database`);
    });
  });

  describe('a processor worker without the key', () => {
    const ringA = KeyRing.generateText('a');
    const ringAB = `${ringA},${KeyRing.generateText('b')}`;
    const processor = { ...transformProcessor, name: `transform-${unique()}` };
    let engine: TestEngine;
    let stale: Awaited<ReturnType<typeof startProcessorWorker>> | undefined;
    let staleRun: Promise<void> | undefined;

    before(async () => {
      // The API and the orchestrator encrypt under b; the processor's worker only has a.
      engine = await startTestEngine([], { codec: new EncryptionCodec(KeyRing.parse(ringAB, 'b')) });
      const codecA = new EncryptionCodec(KeyRing.parse(ringA));
      const env = loadTestConfig();
      stale = await startProcessorWorker({
        definition: processor,
        connection: engine.connection,
        namespace: env.TEMPORAL_NAMESPACE,
        prisma: engine.api.prisma,
        logger: pino({ level: 'silent' }),
        codec: codecA,
        data: testDataPlane(engine.api.prisma, codecA),
      });
      staleRun = stale.run();
    });
    after(async () => {
      await stale?.shutdown();
      await staleRun;
      await engine?.close();
    });

    it('fails the step at once, non-retryably, naming the missing key', async () => {
      const flow = await createFlow(engine.api, {
        Unreadable: {
          processor: processor.name,
          configuration: { expression: 'secret' },
          retryPolicy: { maximumAttempts: 5, initialIntervalMs: 50 },
        },
      });
      const run = await runFlow(engine.api, flow.flowId, { secret: 'under b' });
      assert.equal(run.status, 'Failed', JSON.stringify(run));
      const step = stepNamed(run, 'Unreadable');
      assert.equal(step.status, 'Failed');
      assert.equal(step.attempts, 1, 'not retried: no attempt of this worker can read it');
      assert.equal(step.error?.type, 'PayloadUnreadable');
      assert.match(step.error?.message ?? '', /key "b" is not in PAYLOAD_KEYS \(this process has a\)/);
    });
  });

  describe('key rotation in the middle of a run', () => {
    const ringA = KeyRing.generateText('a');
    const ringAB = `${ringA},${KeyRing.generateText('b')}`;
    const codecA = new EncryptionCodec(KeyRing.parse(ringA));
    const codecB = new EncryptionCodec(KeyRing.parse(ringAB, 'b'));
    const processor = { ...delayProcessor, name: `delay-${unique()}` };

    it('completes a run started under key A after every process moved to key B, and reads it', async () => {
      const env = loadTestConfig();
      const taskQueue = `rotation-${randomUUID()}`;
      const apiA = await startTestApi({ orchestratorTaskQueue: taskQueue, codec: codecA });
      const logger = pino({ level: 'silent' });
      const connection = await NativeConnection.connect({ address: env.TEMPORAL_ADDRESS });
      const startWorkers = async (codec: EncryptionCodec) => {
        const orchestrator = await createOrchestratorWorker({
          connection,
          namespace: env.TEMPORAL_NAMESPACE,
          prisma: apiA.prisma,
          logger,
          taskQueue,
          codec,
        });
        const steps = await startProcessorWorker({
          definition: processor,
          connection,
          namespace: env.TEMPORAL_NAMESPACE,
          prisma: apiA.prisma,
          logger,
          codec,
          data: testDataPlane(apiA.prisma, codec),
          shutdownGraceTimeMs: 10_000,
        });
        const running = [orchestrator.run(), steps.run()];
        return async () => {
          orchestrator.shutdown();
          await Promise.all([steps.shutdown(), ...running]);
        };
      };
      const temporal = lazyTemporalConnection(env.TEMPORAL_ADDRESS);
      let apiB: Awaited<ReturnType<typeof startApi>> | undefined;
      let stopWorkers = await startWorkers(codecA);
      try {
        const flow = await createFlow(apiA, {
          First: { processor: processor.name, next: ['Second'], configuration: { durationMs: 10 } },
          Second: { processor: processor.name, configuration: { durationMs: 3_000 } },
        });
        const started = await startRun(apiA, flow.flowId, { order: 'written under a' });
        for (let i = 0; i < 200; i++) {
          const status = await apiA.request<RunSummary>('GET', `/api/Orchestration/status/${flow.flowId}`);
          if (status.body.steps?.find((s) => s.name === 'Second')?.status === 'Running') break;
          await sleep(100);
        }
        // Rotate: every process restarts with both keys, B active. Second finishes under B.
        await stopWorkers();
        stopWorkers = await startWorkers(codecB);
        apiB = await startApi({
          prisma: apiA.prisma,
          temporal,
          logger,
          port: 0,
          orchestratorTaskQueue: taskQueue,
          codec: codecB,
          security: { rateLimits: TEST_RATE_LIMITS },
        });
        const reader = apiClient(apiB.url, await apiA.keyOf('viewer'));
        const run = await waitForRun(reader, flow.flowId);
        assert.equal(run.runId, started.runId);
        assert.equal(run.status, 'Completed', JSON.stringify(run));
        assert.deepEqual(stepNamed(run, 'First').output, { order: 'written under a' });
        assert.deepEqual(stepNamed(run, 'Second').output, { order: 'written under a' });
        // A process left without key B cannot read the result, and says why (no secret in the answer).
        const stale = await apiA.as('viewer').request('GET', `/api/Orchestration/status/${flow.flowId}`);
        assertError(stale, 500, 'PayloadUnreadable');
        assert.match(stale.body.message, /key "b" is not in PAYLOAD_KEYS \(this process has a\)/);

        const plain = await Connection.connect({ address: env.TEMPORAL_ADDRESS });
        const history = await new Client({ connection: plain }).workflow
          .getHandle(started.workflowId, started.runId)
          .fetchHistory()
          .finally(() => plain.close());
        // Each payload names its key in its metadata: both keys wrote to this run.
        const keyIds = new Set(
          JSON.stringify(history).match(/"encryption-key-id":("[^"]*"|\{[^}]*\})/g) ?? [],
        );
        assert.ok(keyIds.size >= 2, `payloads under both keys: ${[...keyIds].join(' ')}`);
      } finally {
        await stopWorkers();
        await apiB?.close();
        await temporal.close();
        await connection.close();
        await apiA.close();
      }
    });
  });
});
