/**
 * What the start's own Temporal call costs, apart from HTTP and Postgres: `client.workflow.start` as a bare call
 * (what `npm run bench:api`'s raw server sends) against the same call with what `OrchestrationService.start` adds
 * (its ID policies, search attributes, memo and summary, on a connection with the API's retry interceptor and call
 * deadline). One process, one in-memory dev server, the payload codec on both, an input of the size bench:api's
 * flows send; the variants take turns in rounds. Prints latency and this process's CPU per call.
 *
 *   npx tsx bench/start-call.ts [--rounds 8] [--calls 60]
 */
import { parseArgs } from 'node:util';
import { Client, Connection, type WorkflowStartOptions } from '@temporalio/client';
import { z } from 'zod';
import { callTemporal } from '../api/orchestration/temporal-errors';
import { runStartMetadata } from '../api/orchestration/service';
import { deadlineAwareRetry } from '../api/temporal-connection';
import type { FlowSnapshot } from '../domain/flow-types';
import { FLOW_WORKFLOW_TYPE } from '../domain/task-queue';
import { EncryptionCodec, KeyRing } from '../infra/payload-codec';
import { dataConverter } from '../infra/payload-keys';
import { findOrInstallTemporalCli } from '../infra/temporal-cli';
import { startTemporalDevServer } from '../infra/temporal-dev-server';
import { median, quantile } from './stats';

const optionsSchema = z.object({
  rounds: z.coerce.number().int().min(2).default(8),
  calls: z.coerce.number().int().min(1).default(60),
});

/** About the size of the snapshot a bench:api flow's start sends inline (3.7 KB of JSON). */
const INPUT_PADDING = 'x'.repeat(3_700);
/** No worker polls it: the runs stay open, and nothing but the start is measured. */
const TASK_QUEUE = `bench-start-call-${process.pid}`;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rounds: { type: 'string' }, calls: { type: 'string' } } });
  const options = optionsSchema.parse(values);
  const server = await startTemporalDevServer({ cliPath: await findOrInstallTemporalCli(), headless: true });
  const connections: Connection[] = [];
  try {
    const converter = dataConverter(new EncryptionCodec(KeyRing.parse(KeyRing.generateText())));
    const bareConnection = await Connection.connect({ address: server.address });
    connections.push(bareConnection);
    const apiConnection = await Connection.connect({
      address: server.address,
      interceptors: [deadlineAwareRetry],
    });
    connections.push(apiConnection);
    const bare = new Client({ connection: bareConnection, dataConverter: converter });
    const api = new Client({ connection: apiConnection, dataConverter: converter });
    // The names are all of the snapshot that the start's metadata reads.
    const snapshot = {
      orchestratedFlow: { id: 'flow', version: '1.0.0', name: 'bench flow' },
      workflow: { id: 'workflow', version: '1.0.0', name: 'bench workflow' },
    } as FlowSnapshot;

    let started = 0;
    const base = (): WorkflowStartOptions => {
      const id = `start-call-${process.pid}-${++started}`;
      return { taskQueue: TASK_QUEUE, workflowId: id, args: [{ id, padding: INPUT_PADDING }] };
    };
    const variants: Record<string, () => Promise<unknown>> = {
      'bare start': () => bare.workflow.start(FLOW_WORKFLOW_TYPE, base()),
      "the API's start": () => {
        const call = base();
        return callTemporal(apiConnection, () =>
          api.workflow.start(FLOW_WORKFLOW_TYPE, {
            ...call,
            workflowIdConflictPolicy: 'FAIL',
            workflowIdReusePolicy: 'ALLOW_DUPLICATE',
            ...runStartMetadata(call.workflowId, snapshot, {
              trigger: 'manual',
              correlationId: call.workflowId,
            }),
          }),
        );
      },
    };

    const latencies = new Map<string, number[]>();
    const cpuMicros = new Map<string, number>();
    // Round 0 warms both up (connections, JIT) and is not counted.
    for (let round = 0; round < options.rounds; round++) {
      const order = round % 2 === 0 ? Object.keys(variants) : Object.keys(variants).reverse();
      for (const name of order)
        for (let call = 0; call < options.calls; call++) {
          const cpuBefore = process.cpuUsage();
          const begin = performance.now();
          await variants[name]!();
          const ms = performance.now() - begin;
          const cpu = process.cpuUsage(cpuBefore);
          if (round === 0) continue;
          if (!latencies.has(name)) latencies.set(name, []);
          latencies.get(name)!.push(ms);
          cpuMicros.set(name, (cpuMicros.get(name) ?? 0) + cpu.user + cpu.system);
        }
    }

    console.log(`| call | p50 ms | p25 ms | p95 ms | CPU µs per call, this process |`);
    console.log(`| --- | --- | --- | --- | --- |`);
    for (const [name, ms] of latencies)
      console.log(
        `| ${name} | ${median(ms).toFixed(2)} | ${quantile(ms, 0.25).toFixed(2)} | ` +
          `${quantile(ms, 0.95).toFixed(2)} | ${Math.round(cpuMicros.get(name)! / ms.length)} |`,
      );
  } finally {
    await Promise.allSettled(connections.map((connection) => connection.close()));
    await server.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
