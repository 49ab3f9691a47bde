/**
 * Bulk inserts for bundle applies: one `INSERT … SELECT FROM unnest(…)` statement per table, each column passed as
 * one array parameter. Prisma's createMany sends every row's values as parameters of multi-row INSERTs; for a
 * 10,000-step bundle that was most of the apply (5 s of 10.7 s for the steps, 3 s for their audit events).
 */
import { Prisma } from '../../prisma/client';
import type { AuditActor, AuditRecord } from '../audit/audit';
import type { Db } from '../entities/definition';

/** A JSON column's parameter: SQL NULL for null, undefined and Prisma's DbNull (what the entity's columns use). */
const json = (value: unknown) =>
  value === null || value === undefined || value === Prisma.DbNull ? null : JSON.stringify(value);

export interface StepRow {
  id: string;
  version: string;
  name: string;
  description: string;
  processorId: string;
  entryCondition: string;
  configuration: unknown;
  retryPolicy: unknown;
  timeouts: unknown;
  forEach: unknown;
  compensationProcessorId: string | null;
  compensationConfiguration: unknown;
  createdBy: string;
  updatedBy: string;
}

export async function insertSteps(db: Db, rows: readonly StepRow[]): Promise<void> {
  if (rows.length === 0) return;
  const column = <K extends keyof StepRow>(key: K) => rows.map((row) => row[key]);
  await db.$executeRawUnsafe(
    `INSERT INTO "step" ("id", "version", "name", "description", "processor_id", "entry_condition", "configuration",
       "retry_policy", "timeouts", "for_each", "compensation_processor_id", "compensation_configuration",
       "created_by", "updated_by", "updated_at")
     SELECT u.id, u.version, u.name, u.description, u.processor_id, u.entry_condition::"EntryCondition",
       u.configuration, u.retry_policy, u.timeouts, u.for_each, u.compensation_processor_id,
       u.compensation_configuration, u.created_by, u.updated_by, now()
     FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::uuid[], $6::text[], $7::jsonb[], $8::jsonb[],
       $9::jsonb[], $10::jsonb[], $11::uuid[], $12::jsonb[], $13::text[], $14::text[])
       AS u(id, version, name, description, processor_id, entry_condition, configuration, retry_policy, timeouts,
         for_each, compensation_processor_id, compensation_configuration, created_by, updated_by)`,
    column('id'),
    column('version'),
    column('name'),
    column('description'),
    column('processorId'),
    column('entryCondition'),
    rows.map((row) => json(row.configuration)),
    rows.map((row) => json(row.retryPolicy)),
    rows.map((row) => json(row.timeouts)),
    rows.map((row) => json(row.forEach)),
    column('compensationProcessorId'),
    rows.map((row) => json(row.compensationConfiguration)),
    column('createdBy'),
    column('updatedBy'),
  );
}

/** Rows of an ordered join table: `owner` lists `target` at `position`. */
export async function insertEdges(
  db: Db,
  table: 'step_next' | 'workflow_step',
  rows: ReadonlyArray<{ owner: string; position: number; target: string }>,
): Promise<void> {
  if (rows.length === 0) return;
  const [owner, target] = table === 'step_next' ? ['step_id', 'next_step_id'] : ['workflow_id', 'step_id'];
  await db.$executeRawUnsafe(
    `INSERT INTO "${table}" ("${owner}", "position", "${target}")
     SELECT * FROM unnest($1::uuid[], $2::int[], $3::uuid[])`,
    rows.map((row) => row.owner),
    rows.map((row) => row.position),
    rows.map((row) => row.target),
  );
}

/** Audit events of one actor (see audit/audit.ts: append-only, in the transaction of the change). */
export async function insertAuditEvents(
  db: Db,
  actor: AuditActor,
  records: readonly AuditRecord[],
): Promise<void> {
  if (records.length === 0) return;
  await db.$executeRawUnsafe(
    `INSERT INTO "audit_event" ("principal", "role", "correlation_id", "client_ip", "action", "entity_type",
       "entity_id", "outcome", "changed_fields")
     SELECT $1, $2, $3, $4, u.action, u.entity_type, u.entity_id, u.outcome,
       ARRAY(SELECT jsonb_array_elements_text(u.changed_fields))
     FROM unnest($5::text[], $6::text[], $7::text[], $8::int[], $9::jsonb[])
       AS u(action, entity_type, entity_id, outcome, changed_fields)`,
    actor.principal,
    actor.role ?? null,
    actor.correlationId ?? null,
    actor.clientIp ?? null,
    records.map((r) => r.action),
    records.map((r) => r.entityType ?? null),
    records.map((r) => r.entityId ?? null),
    records.map((r) => r.outcome),
    records.map((r) => JSON.stringify(r.changedFields ?? [])),
  );
}
