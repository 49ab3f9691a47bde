import { isDeepStrictEqual } from 'node:util';
import { queryPrepared, transaction, type PrismaClient } from '../prisma/client';
import { recordAudit, type AuditActor } from './audit/audit';
import type { Principal } from './auth/principal';
import type { SecretMasker } from './masking';
import { SqlReads } from './crud-reads';
import { insertEntity, updateEntity } from './crud-writes';
import type { AnyEntityDefinition, Db } from './entities/definition';
import { SERVER_OWNED_FIELDS } from './entities/base';
import { assertReferencesExist } from './entities/references';
import { ConflictError, NotFoundError, ValidationError } from './errors';
import { translateDatabaseError } from './prisma-errors';
import { parseOrThrow, unstorableValues } from './validation';

export interface Page {
  limit: number;
  offset: number;
}

const ORDER = [{ createdAt: 'asc' }, { id: 'asc' }] as const;

/** Fields every write sets, which are not what the caller changed. */
const BOOKKEEPING_FIELDS = new Set(['updatedAt', 'updatedBy']);

/** The names of the DTO fields that differ (never their values: they may be secret). */
function changedFields(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  return Object.keys(after).filter(
    (field) => !BOOKKEEPING_FIELDS.has(field) && !isDeepStrictEqual(before[field], after[field]),
  );
}

/**
 * Generic CRUD over any entity definition. Writes run in one transaction: parse, reference checks, entity rules,
 * write, post-write checks, then `afterWrite` (work outside the database, e.g. a Temporal Schedule); any failure
 * rolls the whole write back, so nothing is half-written.
 */
export class CrudService {
  private readonly reads: SqlReads;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly masker: SecretMasker,
  ) {
    this.reads = new SqlReads(prisma);
  }

  async list(
    def: AnyEntityDefinition,
    page: Page,
    where: object,
    viewer: Principal,
  ): Promise<{ items: unknown[]; total: number }> {
    // The plain list is a hot read: one SQL statement (crud-reads.ts). Lookups filter with Prisma's `where`.
    if (Object.keys(where).length === 0) {
      const { rows, total } = await this.reads.page(def, page);
      return { items: rows.map((row) => this.dto(def, row, viewer)), total };
    }
    const model = def.model(this.prisma);
    const [rows, total] = await Promise.all([
      model.findMany({ where, include: def.include, orderBy: ORDER, take: page.limit, skip: page.offset }),
      model.count({ where }),
    ]);
    return { items: rows.map((row) => this.dto(def, row, viewer)), total };
  }

  /** @throws NotFoundError when no entity has `id`. */
  async get(def: AnyEntityDefinition, id: string, viewer: Principal): Promise<unknown> {
    const row = await this.reads.byId(def, id);
    if (!row) throw new NotFoundError(def.name, id);
    return this.dto(def, row, viewer);
  }

  /** @throws NotFoundError when no entity has the composite key. */
  async getByKey(
    def: AnyEntityDefinition,
    key: { version: string; name: string; connectionString?: string },
    viewer: Principal,
  ) {
    const row = await def.model(this.prisma).findFirst({ where: key, include: def.include });
    if (!row) {
      const shown = [key.version, key.name, key.connectionString]
        .filter((part) => part !== undefined)
        .join('_');
      throw new NotFoundError(def.name, `with composite key ${shown}`);
    }
    return this.dto(def, row, viewer);
  }

  /**
   * Creates the entity and its audit event (`<Entity>.create`) in one transaction; `createdBy` is the principal.
   * @throws ValidationError (400), ConflictError (409).
   */
  async create(
    def: AnyEntityDefinition,
    body: unknown,
    principal: Principal,
    audit: AuditActor,
  ): Promise<unknown> {
    const input = this.parseBody(def, body);
    return this.write(async (tx) => {
      await assertReferencesExist(tx, def.references(input));
      await def.validate?.(tx, input, undefined);
      const data = (await def.createData(input, principal.name, tx)) as Record<string, unknown>;
      const row = await insertEntity(def, tx, data);
      const id = (row as { id: string }).id;
      await def.afterWrite?.(tx, { id, after: row });
      await recordAudit(tx, audit, {
        action: `${def.name}.create`,
        entityType: def.name,
        entityId: id,
        outcome: 201,
        changedFields: Object.keys(input as object),
      });
      return this.dto(def, row, principal);
    });
  }

  /**
   * Full replace, audited (`<Entity>.replace`, with the names of the changed fields) in the same transaction.
   * @throws NotFoundError (404), ValidationError (400), ConflictError (409).
   */
  async update(
    def: AnyEntityDefinition,
    id: string,
    body: unknown,
    principal: Principal,
    audit: AuditActor,
  ): Promise<void> {
    const parsed: unknown = this.parseBody(def, body);
    await this.write(async (tx) => {
      // NO KEY UPDATE: waits for a concurrent delete, but not for inserts that refer to the row (which take KEY
      // SHARE), so a step update cannot deadlock with a workflow insert waiting for the graph lock it holds.
      await this.lockRow(def, tx, id, 'NO KEY UPDATE');
      const before = await this.read(def, tx, id);
      const input: unknown =
        def.restoreMasked && before ? def.restoreMasked(parsed, before, this.masker) : parsed;
      await assertReferencesExist(tx, def.references(input));
      await def.validate?.(tx, input, id);
      await updateEntity(
        def,
        tx,
        id,
        (await def.updateData(input, principal.name, tx)) as Record<string, unknown>,
      );
      await def.afterUpdate?.(tx, id);
      const after = await this.read(def, tx, id);
      if (def.afterWrite) await def.afterWrite(tx, { id, before, after });
      await recordAudit(tx, audit, {
        action: `${def.name}.replace`,
        entityType: def.name,
        entityId: id,
        outcome: 204,
        changedFields: changedFields(
          def.toDto(before) as Record<string, unknown>,
          def.toDto(after) as Record<string, unknown>,
        ),
      });
    });
  }

  /** Deletes the entity and records `<Entity>.delete` in the same transaction. @throws NotFoundError (404), ConflictError (409 naming every referrer). */
  async delete(def: AnyEntityDefinition, id: string, audit: AuditActor): Promise<void> {
    await this.write(async (tx) => {
      // Locked first, so no write that refers to the row can commit between the referrer check and the delete.
      await this.lockRow(def, tx, id, 'UPDATE');
      const before = def.afterWrite ? await this.read(def, tx, id) : undefined;
      const referrers = await def.referrers(tx, id);
      if (referrers.length > 0)
        throw new ConflictError(
          'ReferentialIntegrity',
          `${def.name} ${id} is referenced by ${referrers.map((r) => `${r.entity} "${r.name}"`).join(', ')}`,
          referrers.map((r) => ({
            field: 'id',
            rule: 'notReferenced',
            message: `referenced by ${r.entity} "${r.name}" (${r.id}) through ${r.field}`,
            referrer: r,
          })),
        );
      await def.model(tx).deleteMany({ where: { id } });
      await def.afterWrite?.(tx, { id, before });
      await recordAudit(tx, audit, {
        action: `${def.name}.delete`,
        entityType: def.name,
        entityId: id,
        outcome: 204,
      });
    });
  }

  /** The entity as `viewer` may see it: secrets masked for everyone but admins. */
  private dto(def: AnyEntityDefinition, row: unknown, viewer: Principal): unknown {
    const dto: unknown = def.toDto(row);
    return def.maskSecrets && viewer.role !== 'admin' ? def.maskSecrets(dto, this.masker) : dto;
  }

  private parseBody(def: AnyEntityDefinition, body: unknown): unknown {
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw new ValidationError('The request body must be a JSON object', [
        { field: 'body', rule: 'object', message: 'must be a JSON object (Content-Type: application/json)' },
      ]);
    const stripped: Record<string, unknown> = { ...(body as Record<string, unknown>) };
    for (const field of [...SERVER_OWNED_FIELDS, ...(def.derivedFields ?? [])]) delete stripped[field];
    const unstorable = unstorableValues(stripped);
    // Too deep to validate safely: answer with that alone rather than recurse into it.
    if (unstorable.some((detail) => detail.rule === 'maxDepth'))
      throw new ValidationError(`Invalid ${def.name}: the body nests too deeply`, unstorable);
    return parseOrThrow(def.input, stripped, def.name, undefined, unstorable);
  }

  /**
   * Locks the entity's row until the transaction ends. `UPDATE` (for a delete) also blocks the foreign-key check of
   * any concurrent insert that refers to the row, so a delete and a write referring to the entity are serialised: the
   * delete either sees the new referrer (409 naming it) or the referring write fails its foreign key (409). Without
   * the lock the delete itself hits the ON DELETE RESTRICT constraint, an error this Prisma runtime cannot decode
   * (a 500). `NO KEY UPDATE` (for a replace) only serialises against deletes and other replaces.
   *
   * @throws NotFoundError when the row does not exist (or was deleted by a transaction this one waited for).
   */
  private async lockRow(
    def: AnyEntityDefinition,
    tx: Db,
    id: string,
    mode: 'UPDATE' | 'NO KEY UPDATE',
  ): Promise<void> {
    const rows = await queryPrepared(
      tx,
      `crud-lock-${mode === 'UPDATE' ? 'update' : 'no-key-update'}-${def.name}`,
      `SELECT id::text FROM "${def.table}" WHERE id = $1::uuid FOR ${mode}`,
      [id],
    );
    if (rows.length === 0) throw new NotFoundError(def.name, id);
  }

  /** The row (with its includes) inside a write, for {@link AnyEntityDefinition.afterWrite}. */
  private async read(def: AnyEntityDefinition, tx: Db, id: string): Promise<unknown> {
    return this.reads.byId(def, id, tx);
  }

  private async write<T>(work: (tx: Db) => Promise<T>): Promise<T> {
    try {
      return await transaction(this.prisma, work, { timeout: 15_000, maxWait: 5_000 });
    } catch (error) {
      throw translateDatabaseError(error) ?? error;
    }
  }
}
