import { ConflictError, type ProblemDetail } from '../errors';
import type { Db, EntityName, ReferenceCheck } from './definition';

type IdFinder = (db: Db, ids: string[]) => Promise<Array<{ id: string }>>;

const byIds = { select: { id: true } } as const;

const FINDERS: Record<EntityName, IdFinder> = {
  Schema: (db, ids) => db.schema.findMany({ where: { id: { in: ids } }, ...byIds }),
  Processor: (db, ids) => db.processor.findMany({ where: { id: { in: ids } }, ...byIds }),
  Step: (db, ids) => db.step.findMany({ where: { id: { in: ids } }, ...byIds }),
  Workflow: (db, ids) => db.workflow.findMany({ where: { id: { in: ids } }, ...byIds }),
  OrchestratedFlow: (db, ids) => db.orchestratedFlow.findMany({ where: { id: { in: ids } }, ...byIds }),
  Assignment: (db, ids) => db.assignment.findMany({ where: { id: { in: ids } }, ...byIds }),
  Address: (db, ids) => db.address.findMany({ where: { id: { in: ids } }, ...byIds }),
  Delivery: (db, ids) => db.delivery.findMany({ where: { id: { in: ids } }, ...byIds }),
};

/** Returns, per target entity, the subset of `ids` that exist. */
export async function existingIds(db: Db, target: EntityName, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await FINDERS[target](db, [...new Set(ids)]);
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
