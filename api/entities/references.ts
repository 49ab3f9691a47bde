import { queryPrepared } from '../../prisma/client';
import { ConflictError, type ProblemDetail } from '../errors';
import { ENTITY_TABLES, type Db, type EntityName, type ReferenceCheck } from './definition';

/**
 * Returns, per target entity, the subset of `ids` that exist. One prepared statement: every create and replace checks
 * its references, and Prisma's ORM compiles each `findMany` anew (see api/crud-reads.ts).
 */
export async function existingIds(db: Db, target: EntityName, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const table = ENTITY_TABLES[target];
  const rows = await queryPrepared<{ id: string }>(
    db,
    `existing-ids-${table}`,
    `SELECT id::text AS id FROM "${table}" WHERE id = ANY($1::uuid[])`,
    [[...new Set(ids)]],
  );
  return new Set(rows.map((row) => row.id));
}

/**
 * Checks that every referenced ID exists (in one of its targets).
 *
 * @throws ConflictError (409 ReferentialIntegrity) naming every missing reference.
 */
export async function assertReferencesExist(db: Db, checks: readonly ReferenceCheck[]): Promise<void> {
  const details: ProblemDetail[] = [];
  for (const check of checks) {
    const found = new Set<string>();
    for (const target of check.targets)
      for (const id of await existingIds(db, target, check.ids)) found.add(id);
    check.ids.forEach((id, index) => {
      if (found.has(id)) return;
      const field =
        check.ids.length === 1 && !check.field.endsWith('Ids') ? check.field : `${check.field}[${index}]`;
      details.push({
        field,
        rule: 'exists',
        message: `${check.targets.join(' or ')} ${id} does not exist`,
        missingId: id,
      });
    });
  }
  if (details.length > 0)
    throw new ConflictError(
      'ReferentialIntegrity',
      `Referenced entities do not exist: ${details.map((d) => d.field).join(', ')}`,
      details,
    );
}
