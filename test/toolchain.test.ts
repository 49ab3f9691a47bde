/**
 * Smoke test of the local toolchain: the Temporal CLI is found (or installed), dev servers start on free ports with
 * our search attributes, a worker round-trips a workflow, and stop() leaves no process or open port behind.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { SEARCH_ATTRIBUTES } from '../domain/search-attributes';
import { isPortOpen } from '../infra/ports';
import { TemporalCliNotFoundError, findOrInstallTemporalCli } from '../infra/temporal-cli';
import { type TemporalDevServer, startTemporalDevServer } from '../infra/temporal-dev-server';
import * as activities from './fixtures/smoke-activities';
import { smokeWorkflow } from './fixtures/smoke-workflow';

Runtime.install({ logger: new DefaultLogger('WARN') });

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function portOf(hostPort: string): number {
  return Number(new URL(hostPort.includes('://') ? hostPort : `tcp://${hostPort}`).port);
}

describe('toolchain', () => {
  let cliPath: string;
  let server: TemporalDevServer | undefined;

  before(async () => {
    cliPath = await findOrInstallTemporalCli({ log: (msg) => console.error(msg) });
    server = await startTemporalDevServer({ cliPath, headless: true });
  });

  after(async () => {
    await server?.stop();
  });

  test('findOrInstallTemporalCli returns an absolute path to the CLI', () => {
    assert.ok(path.isAbsolute(cliPath), cliPath);
    assert.ok(existsSync(cliPath), cliPath);
  });

  test('an explicitPath that does not exist is an error naming it', async () => {
    const missing = path.join(os.tmpdir(), `no-such-temporal-${randomUUID()}`);
    await assert.rejects(findOrInstallTemporalCli({ explicitPath: missing }), (error: unknown) => {
      assert.ok(error instanceof TemporalCliNotFoundError);
      assert.ok(error.message.includes(missing), error.message);
      return true;
    });
  });

  test('a worker round-trips a workflow through the dev server', async () => {
    assert.ok(server);
    const taskQueue = `smoke-${randomUUID()}`;
    const nativeConnection = await NativeConnection.connect({ address: server.address });
    const connection = await Connection.connect({ address: server.address });
    try {
      const worker = await Worker.create({
        connection: nativeConnection,
        namespace: server.namespace,
        taskQueue,
        workflowsPath: require.resolve('./fixtures/smoke-workflow'),
        activities,
      });
      const client = new Client({ connection, namespace: server.namespace });
      const result = await worker.runUntil(
        client.workflow.execute(smokeWorkflow, {
          taskQueue,
          workflowId: `smoke-${randomUUID()}`,
          args: ['Temporal'],
        }),
      );
      assert.equal(result, 'Hello, Temporal!');
    } finally {
      await connection.close();
      await nativeConnection.close();
    }
  });

  test('the dev server registers every search attribute', async () => {
    assert.ok(server);
    const connection = await Connection.connect({ address: server.address });
    try {
      const { customAttributes } = await connection.operatorService.listSearchAttributes({
        namespace: server.namespace,
      });
      for (const name of Object.keys(SEARCH_ATTRIBUTES)) {
        assert.ok(customAttributes && name in customAttributes, `search attribute ${name} is missing`);
      }
    } finally {
      await connection.close();
    }
  });

  test('a second server with UI, SQLite file and namespace starts beside the first and stops cleanly', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'temporal-smoke-'));
    const dbFile = path.join(dataDir, 'nested', 'temporal.db');
    const second = await startTemporalDevServer({ cliPath, dbFile, namespace: 'smoke' });
    try {
      assert.notEqual(second.address, server?.address);
      assert.equal(second.namespace, 'smoke');
      assert.ok(existsSync(dbFile), 'the SQLite file exists');
      assert.ok(second.uiUrl);
      assert.equal((await fetch(second.uiUrl)).status, 200);

      await second.stop();
      assert.equal(isAlive(second.pid), false, 'the server process is gone');
      assert.equal(await isPortOpen(portOf(second.address)), false, 'the frontend port is closed');
      assert.equal(await isPortOpen(portOf(second.uiUrl)), false, 'the UI port is closed');
      await second.stop(); // idempotent
    } finally {
      await second.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
