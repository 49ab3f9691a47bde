/**
 * Hosts processors the way production does — `startProcessorWorker` on a real Temporal dev server over a real,
 * fresh database — plus a worker for the tiny `callProcessor` test workflow, on task queues unique to the test.
 */
import { dataConverter } from '../../infra/payload-keys';
import { testCodec, testDataPlane } from '../support/codec';
import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { Client, Connection, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import pino from 'pino';
import type { EgressGuard, ProcessorDefinition } from '../../activities/sdk';
import type { StepInvocation } from '../../domain/flow-types';
import { loadTestConfig } from '../../infra/config';
import { createPrismaClient, type PrismaClient } from '../../prisma/client';
import { type ProcessorWorker, startProcessorWorker } from '../../workers/processor-worker';
import { createTestDatabase, type TestDatabase } from '../support/api';
export { invocation } from './invocation';
import { type CallProcessorInput, callProcessor } from '../fixtures/processor-workflow';

// The tests provoke activity failures on purpose: keep the worker's own WARN logs about them quiet.
Runtime.install({ logger: new DefaultLogger('ERROR') });

export type CallOptions = Omit<CallProcessorInput, 'activity' | 'taskQueue' | 'invocation'>;

export interface ProcessorHarness {
  database: TestDatabase;
  prisma: PrismaClient;
  client: Client;
  connection: NativeConnection;
  namespace: string;
  hosted: Map<string, ProcessorWorker>;
  /** The task queue of the `callProcessor` test workflow. */
  workflowQueue: string;
  /** Starts the `callProcessor` workflow for an activity on any task queue (e.g. a worker in another process). */
  startOn(
    taskQueue: string,
    activity: string,
    step: StepInvocation,
    options?: CallOptions,
  ): Promise<WorkflowHandle<typeof callProcessor>>;
  /** Starts the `callProcessor` workflow for a hosted processor. */
  start(
    name: string,
    step: StepInvocation,
    options?: CallOptions,
  ): Promise<WorkflowHandle<typeof callProcessor>>;
  /** Runs the `callProcessor` workflow to completion and returns the processor's output. */
  call(name: string, step: StepInvocation, options?: CallOptions): Promise<unknown>;
  close(): Promise<void>;
}

export interface ProcessorHarnessOptions {
  /** The egress guard of every hosted processor (default: internal destinations refused, e.g. the tests' servers). */
  egress?: EgressGuard;
}

export async function startProcessorHarness(
  definitions: ProcessorDefinition[],
  options: ProcessorHarnessOptions = {},
): Promise<ProcessorHarness> {
  const env = loadTestConfig();
  const database = await createTestDatabase();
  const prisma = createPrismaClient(database.url);
  const connection = await NativeConnection.connect({ address: env.TEMPORAL_ADDRESS });
  const clientConnection = await Connection.connect({ address: env.TEMPORAL_ADDRESS });
  const client = new Client({
    connection: clientConnection,
    namespace: env.TEMPORAL_NAMESPACE,
    dataConverter: dataConverter(testCodec()),
  });
  const logger = pino({ level: 'silent' });
  const suffix = randomUUID();
  const hosted = new Map<string, ProcessorWorker>();
  const runs: Promise<void>[] = [];
  const workflowQueue = `processor-test-workflows-${suffix}`;
  const workflowWorker = await Worker.create({
    connection,
    namespace: env.TEMPORAL_NAMESPACE,
    taskQueue: workflowQueue,
    workflowsPath: require.resolve('../fixtures/processor-workflow'),
    dataConverter: dataConverter(testCodec()),
  });
  runs.push(workflowWorker.run());
  for (const definition of definitions) {
    const worker = await startProcessorWorker({
      definition,
      codec: testCodec(),
      data: testDataPlane(prisma),
      connection,
      namespace: env.TEMPORAL_NAMESPACE,
      prisma,
      logger,
      taskQueue: `processor-test-${definition.name}-${suffix}`,
      shutdownGraceTimeMs: 1_000,
      egress: options.egress,
    });
    hosted.set(definition.name, worker);
    runs.push(worker.run());
  }

  const startOn: ProcessorHarness['startOn'] = (taskQueue, activity, step, options = {}) =>
    client.workflow.start(callProcessor, {
      taskQueue: workflowQueue,
      workflowId: `call-${activity}-${randomUUID()}`,
      args: [{ ...options, activity, taskQueue, invocation: step }],
    });
  const start: ProcessorHarness['start'] = (name, step, options) => {
    const worker = hosted.get(name);
    if (!worker) throw new Error(`processor ${name} is not hosted`);
    return startOn(worker.taskQueue, name, step, options);
  };
  return {
    database,
    prisma,
    client,
    connection,
    namespace: env.TEMPORAL_NAMESPACE,
    hosted,
    workflowQueue,
    startOn,
    start,
    call: async (name, step, options) => (await start(name, step, options)).result(),
    async close() {
      if (workflowWorker.getState() === 'RUNNING') workflowWorker.shutdown();
      await Promise.all([...hosted.values()].map((worker) => worker.shutdown()));
      await Promise.allSettled(runs);
      await clientConnection.close();
      await connection.close();
      await prisma.$disconnect();
      await database.drop();
    },
  };
}

/**
 * How many attempts the (single) activity of a closed workflow run took: Temporal records only the final attempt's
 * ActivityTaskStarted event, carrying its attempt number.
 */
export async function activityAttempts(handle: WorkflowHandle): Promise<number> {
  const history = await handle.fetchHistory();
  const started = (history.events ?? []).filter((event) => event.activityTaskStartedEventAttributes);
  if (started.length !== 1)
    throw new Error(`expected one ActivityTaskStarted event, found ${started.length}`);
  return started[0]?.activityTaskStartedEventAttributes?.attempt ?? 0;
}

/** The ApplicationFailure at the end of WorkflowFailedError → ActivityFailure → ApplicationFailure. */
export async function activityFailure(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await promise.then(
    () => assert.fail('expected the workflow to fail'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof WorkflowFailedError, String(error));
  assert.ok(error.cause instanceof ActivityFailure, String(error.cause));
  assert.ok(error.cause.cause instanceof ApplicationFailure, String(error.cause.cause));
  return error.cause.cause;
}
