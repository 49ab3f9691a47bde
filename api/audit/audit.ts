import type { Db } from '../entities/definition';
import type { Principal } from '../auth/principal';
import { queryPrepared } from '../../prisma/client';

/** Who did something and in which request: what every audit event of one request shares. */
export interface AuditActor {
  principal: string;
  role?: string;
  correlationId?: string;
  clientIp?: string;
}

/** One audited action: `Step.create`, `Orchestration.start`, `ApiKey.revoke`, … */
export interface AuditRecord {
  action: string;
  entityType?: string;
  entityId?: string;
  /** The HTTP status the action answers with (201, 204, 202, 401, 403, …). */
  outcome: number;
  /** Names of the changed fields, never their values. */
  changedFields?: readonly string[];
}

/** The audit actor of an authenticated request. */
export function auditActor(principal: Principal, correlationId: string, clientIp?: string): AuditActor {
  return {
    principal: principal.name,
    role: principal.role,
    correlationId,
    ...(clientIp ? { clientIp } : {}),
  };
}

const AUDIT_SQL = `INSERT INTO audit_event
  (principal, role, correlation_id, client_ip, action, entity_type, entity_id, outcome, changed_fields)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::text[])`;

/**
 * Appends an audit event. Call it with the transaction of the change it records, so the change and its event
 * commit together or not at all. Raw SQL: every write and start records one, and Prisma's ORM path compiles each
 * query anew (about a millisecond of CPU; see api/crud-reads.ts). Outside a transaction (starts, refusals, run
 * control) it is a prepared statement on Prisma's pool.
 */
export async function recordAudit(db: Db, actor: AuditActor, record: AuditRecord): Promise<void> {
  const values = [
    actor.principal,
    actor.role ?? null,
    actor.correlationId ?? null,
    actor.clientIp ?? null,
    record.action,
    record.entityType ?? null,
    record.entityId ?? null,
    record.outcome,
    [...(record.changedFields ?? [])],
  ];
  await queryPrepared(db, 'audit-insert', AUDIT_SQL, values);
}
