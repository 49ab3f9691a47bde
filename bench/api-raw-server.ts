/**
 * The raw side of `npm run bench:api`: node's http server and a `pg` pool answering the routes the benchmark drives
 * with the same SQL work the API must do (the step and its next-step list; a page of 100 and the total; a step, its
 * edges and an audit event in one transaction), and a bare `client.workflow.start` with the same encrypted data
 * converter. No routing library, validation, authentication, logging or metrics: the floor the API is compared to.
 *
 * Run by bench/api.ts as a child process; prints `listening <port>` once it answers.
 * Environment: DATABASE_URL, TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, PAYLOAD_KEYS, START_ARGS_FILE (the start's input).
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { Pool } from 'pg';
import { FLOW_WORKFLOW_TYPE, ORCHESTRATOR_TASK_QUEUE } from '../domain/task-queue';
import { EncryptionCodec, KeyRing } from '../infra/payload-codec';
import { dataConverter } from '../infra/payload-keys';

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} must be set`);
  return value;
};

const STEP_COLUMNS = `s.id, s.version, s.name, s.description, s.processor_id, s.entry_condition, s.configuration,
  s.retry_policy, s.timeouts, s.for_each, s.compensation_processor_id, s.compensation_configuration, s.created_at,
  s.updated_at, s.created_by, s.updated_by,
  array(SELECT n.next_step_id FROM step_next n WHERE n.step_id = s.id ORDER BY n.position) AS next`;

interface StepRow {
  id: string;
  version: string;
  name: string;
  description: string;
  processor_id: string;
  entry_condition: string;
  configuration: unknown;
  retry_policy: unknown;
  timeouts: unknown;
  for_each: unknown;
  compensation_processor_id: string | null;
  compensation_configuration: unknown;
  created_at: Date;
  updated_at: Date;
  created_by: string;
  updated_by: string;
  next: string[];
}

const dto = (r: StepRow) => ({
  id: r.id,
  version: r.version,
  name: r.name,
  description: r.description,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
  createdBy: r.created_by,
  updatedBy: r.updated_by,
  processorId: r.processor_id,
  nextStepIds: r.next,
  entryCondition: r.entry_condition,
  configuration: r.configuration ?? null,
  retryPolicy: r.retry_policy ?? null,
  timeouts: r.timeouts ?? null,
  forEach: r.for_each ?? null,
  compensation: r.compensation_processor_id
    ? { processorId: r.compensation_processor_id, configuration: r.compensation_configuration ?? null }
    : null,
});

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>) : {};
}

async function main(): Promise<void> {
  const pool = new Pool({ connectionString: env('DATABASE_URL'), max: 10 });
  const connection = await Connection.connect({ address: env('TEMPORAL_ADDRESS') });
  const client = new Client({
    connection,
    namespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
    dataConverter: dataConverter(new EncryptionCodec(KeyRing.parse(env('PAYLOAD_KEYS')))),
  });
  const startArgs = JSON.parse(readFileSync(env('START_ARGS_FILE'), 'utf8')) as Record<string, unknown>;
  let started = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://raw');
    const parts = url.pathname.split('/').filter(Boolean);
    if (req.method === 'GET' && parts[0] === 'step' && parts.length === 2) {
      const { rows } = await pool.query<StepRow>(`SELECT ${STEP_COLUMNS} FROM step s WHERE s.id = $1`, [
        parts[1],
      ]);
      if (!rows[0]) return send(res, 404, { error: 'NotFound' });
      return send(res, 200, dto(rows[0]));
    }
    if (req.method === 'GET' && parts[0] === 'step' && parts.length === 1) {
      const limit = Number(url.searchParams.get('limit') ?? 100);
      const offset = Number(url.searchParams.get('offset') ?? 0);
      const [page, total] = await Promise.all([
        pool.query<StepRow>(
          `SELECT ${STEP_COLUMNS} FROM step s ORDER BY s.created_at, s.id LIMIT $1 OFFSET $2`,
          [limit, offset],
        ),
        pool.query<{ count: string }>('SELECT count(*) FROM step'),
      ]);
      return send(res, 200, page.rows.map(dto), { 'x-total-count': total.rows[0]!.count });
    }
    if (req.method === 'POST' && parts[0] === 'step' && parts.length === 1) {
      const body = await readJson(req);
      const next = (body.nextStepIds as string[] | undefined) ?? [];
      const db = await pool.connect();
      try {
        await db.query('BEGIN');
        const { rows } = await db.query<StepRow>(
          `INSERT INTO step (id, version, name, description, processor_id, entry_condition, configuration,
             created_by, updated_by, updated_at)
           VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, $6, 'raw', 'raw', now())
           RETURNING *, ARRAY[]::uuid[] AS next`,
          [
            body.version,
            body.name,
            body.description ?? '',
            body.processorId,
            body.entryCondition ?? 'PreviousSuccess',
            body.configuration === undefined ? null : JSON.stringify(body.configuration),
          ],
        );
        const row = rows[0]!;
        if (next.length > 0)
          await db.query(
            `INSERT INTO step_next (step_id, position, next_step_id)
             SELECT $1, p - 1, n FROM unnest($2::uuid[]) WITH ORDINALITY AS t(n, p)`,
            [row.id, next],
          );
        await db.query(
          `INSERT INTO audit_event (principal, role, action, entity_type, entity_id, outcome, changed_fields)
           VALUES ('raw', 'editor', 'Step.create', 'Step', $1, 201, $2)`,
          [row.id, Object.keys(body)],
        );
        await db.query('COMMIT');
        row.next = next;
        return send(res, 201, dto(row), { location: `/step/${row.id}` });
      } catch (error) {
        await db.query('ROLLBACK');
        throw error;
      } finally {
        db.release();
      }
    }
    if (req.method === 'POST' && parts[0] === 'start' && parts.length === 2) {
      const body = await readJson(req);
      const workflowId = `raw-start-${process.pid}-${++started}`;
      const run = await client.workflow.start(FLOW_WORKFLOW_TYPE, {
        taskQueue: ORCHESTRATOR_TASK_QUEUE,
        workflowId,
        args: [{ ...startArgs, orchestratedFlowId: parts[1], input: body.input, correlationId: workflowId }],
      });
      return send(res, 202, { workflowId, runId: run.firstExecutionRunId });
    }
    send(res, 404, { error: 'NotFound' });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      console.error(error);
      if (!res.headersSent) send(res, 500, { error: 'InternalError' });
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => {
    console.log(`listening ${(server.address() as AddressInfo).port}`);
  });
  const stop = () => {
    server.close();
    server.closeAllConnections();
    void Promise.all([pool.end(), connection.close()]).finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
