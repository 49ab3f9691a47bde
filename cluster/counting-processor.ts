/**
 * The production-shape test's processor (`npm run test:cluster`): works for `configuration.workMs` (heartbeating, so
 * a killed replica's step is retried after the heartbeat timeout), returns an output of `configuration.outputBytes`
 * (large outputs travel by reference through the blob store), and appends one line per successful attempt to a
 * ledger file of its process in `configuration.ledgerDir` — the processor-side count the test compares with
 * Temporal's history. The line is written last, after all the work, so a line means "this attempt returned a result";
 * whether Temporal recorded that result is what the history says. Everything the worker hashes is in this file.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { defineProcessor } from '../activities/sdk';

export interface CountingConfiguration {
  /** Where each worker process appends its `<pid>.jsonl` ledger. */
  ledgerDir: string;
  /** How long the step works (heartbeating every 250 ms). Default 0. */
  workMs?: number;
  /** Length of the `pad` string in the output. Default 0. */
  outputBytes?: number;
}

export interface CountingOutput {
  step: string;
  attempt: number;
  /** Size of the JSON input this step received (a join's includes every predecessor's output). */
  inputBytes: number;
  pad: string;
}

/** One successful attempt, as the ledger records it. */
export interface LedgerEntry {
  workflowId: string;
  runId: string;
  stepId: string;
  attempt: number;
  pid: number;
  at: string;
}

export const countingProcessor = defineProcessor<unknown, CountingOutput, CountingConfiguration>({
  name: 'cluster-count',
  version: '1.0.0',
  description: 'Test processor of npm run test:cluster: works, returns sized output, records each success.',
  module: __filename,
  inputSchema: {},
  outputSchema: { type: 'object', required: ['step', 'attempt', 'inputBytes', 'pad'] },
  configurationSchema: {
    type: 'object',
    required: ['ledgerDir'],
    properties: {
      ledgerDir: { type: 'string', minLength: 1 },
      workMs: { type: 'integer', minimum: 0, maximum: 60_000 },
      outputBytes: { type: 'integer', minimum: 0, maximum: 10_000_000 },
    },
    additionalProperties: false,
  },
  // Retried without limit: a run must survive every fault the test injects. A killed replica's attempt is retried
  // once its heartbeat is 5 s overdue.
  defaults: {
    retryPolicy: { initialIntervalMs: 500, backoffCoefficient: 2, maximumIntervalMs: 5_000 },
    timeouts: { startToCloseMs: 120_000, heartbeatMs: 5_000 },
  },
  async run({ input, configuration, run, heartbeat, signal }) {
    for (let left = configuration.workMs ?? 0; left > 0; left -= 250) {
      heartbeat();
      await sleep(Math.min(250, left), undefined, { signal });
    }
    const output = {
      step: run.stepName,
      attempt: run.attempt,
      inputBytes: JSON.stringify(input ?? null).length,
      pad: 'x'.repeat(configuration.outputBytes ?? 0),
    };
    const entry: LedgerEntry = {
      workflowId: run.workflowId,
      runId: run.runId,
      stepId: run.stepId,
      attempt: run.attempt,
      pid: process.pid,
      at: new Date().toISOString(),
    };
    mkdirSync(configuration.ledgerDir, { recursive: true });
    // One write(2) in append mode: once it returns the line is the kernel's, so a SIGKILL right after keeps it.
    appendFileSync(path.join(configuration.ledgerDir, `${process.pid}.jsonl`), `${JSON.stringify(entry)}\n`);
    return output;
  },
});
