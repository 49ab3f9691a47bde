import { queryPrepared } from '../../prisma/client';
import { ConflictError, type ProblemDetail } from '../errors';
import { ENTITY_TABLES, type Db, type EntityName, type ReferenceCheck } from './definition';

/** The subset of `ids` that exist in `target` (the one-target case of {@link existingByTarget}). */
export async function existingIds(db: Db, target: EntityName, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  return (await existingByTarget(db, new Map([[target, new Set(ids)]]))).get(target)!;
}

/**
 * Returns, per target entity, the subset of its `ids` that exist: one prepared statement for every target together
 * (a step's processor and its next steps are one round trip, not two). Prepared, because every create and replace
 * checks its references and Prisma's ORM compiles each `findMany` anew (see api/crud-reads.ts).
 */
async function existingByTarget(
  db: Db,
  lookups: ReadonlyMap<EntityName, ReadonlySet<string>>,
): Promise<Map<EntityName, Set<string>>> {
  const targets = [...lookups.keys()].sort();
  const found = new Map<EntityName, Set<string>>(targets.map((target) => [target, new Set()]));
  if (targets.length === 0) return found;
  const tables = targets.map((target) => ENTITY_TABLES[target]);
  const rows = await queryPrepared<{ target: number; id: string }>(
    db,
    `references-exist-${tables.join('+')}`,
    tables
      .map(
        (table, index) =>
          `SELECT ${index} AS target, id::text AS id FROM "${table}" WHERE id = ANY($${index + 1}::uuid[])`,
      )
      .join(' UNION ALL '),
    targets.map((target) => [...lookups.get(target)!]),
  );
  for (const row of rows) found.get(targets[row.target]!)!.add(row.id);
  return found;
}

/**
 * Checks that every referenced ID exists (in one of its targets), in one statement.
 *
 * @throws ConflictError (409 ReferentialIntegrity) naming every missing reference.
 */
export async function assertReferencesExist(db: Db, checks: readonly ReferenceCheck[]): Promise<void> {
  const lookups = new Map<EntityName, Set<string>>();
  for (const check of checks)
    if (check.ids.length > 0)
      for (const target of check.targets) {
        const ids = lookups.get(target) ?? new Set<string>();
        for (const id of check.ids) ids.add(id);
        lookups.set(target, ids);
      }
  const existing = await existingByTarget(db, lookups);
  const details: ProblemDetail[] = [];
  for (const check of checks)
    check.ids.forEach((id, index) => {
      if (check.targets.some((target) => existing.get(target)?.has(id))) return;
      const field =
        check.ids.length === 1 && !check.field.endsWith('Ids') ? check.field : `${check.field}[${index}]`;
      details.push({
        field,
        rule: 'exists',
        message: `${check.targets.join(' or ')} ${id} does not exist`,
        missingId: id,
      });
    });
  if (details.length > 0)
    throw new ConflictError(
      'ReferentialIntegrity',
      `Referenced entities do not exist: ${details.map((d) => d.field).join(', ')}`,
      details,
    );
}
