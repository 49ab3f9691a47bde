import { randomUUID } from 'node:crypto';
import { Prisma, queryPrepared } from '../prisma/client';
import { fieldName, prismaRow } from './crud-reads';
import type { AnyEntityDefinition, Db } from './entities/definition';

/** `processorId` → `processor_id`: the inverse of crud-reads' column → field mapping. */
const columnName = (field: string) => field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

const quoted = (names: readonly string[]) => names.map((name) => `"${name}"`).join(', ');

/** Statement text → its prepared statement's name (one name per text, as node-postgres requires). */
const statementNames = new Map<string, string>();
function statementName(text: string): string {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `crud-write-${statementNames.size + 1}`;
    statementNames.set(text, name);
  }
  return name;
}

/** A value of Prisma `data` as JSON for `json_populate_record`: `Prisma.DbNull` is SQL NULL. */
function sqlValue(field: string, value: unknown): unknown {
  if (value === Prisma.DbNull) return null;
  if (value === Prisma.JsonNull || value === Prisma.AnyNull)
    throw new Error(`crud-writes: ${field} holds Prisma.JsonNull or AnyNull, which it does not store`);
  return value;
}

/** Prisma `data` split into the row's columns (as JSON for `json_populate_record`) and the ID list's join rows. */
function splitData(
  def: AnyEntityDefinition,
  data: Record<string, unknown>,
): { columns: Record<string, unknown>; links?: Array<Record<string, unknown>> } {
  const columns: Record<string, unknown> = {};
  let links: Array<Record<string, unknown>> | undefined;
  for (const [field, value] of Object.entries(data)) {
    if (value === undefined) continue;
    if (def.idListSql && field === def.idListSql.relation) {
      // `{ create }` of a create, `{ deleteMany: {}, create }` of a full replace: the list as a whole.
      links = (value as { create?: Array<Record<string, unknown>> }).create ?? [];
      continue;
    }
    // Any other field is a column (JSON values may have any shape): a relation write `idListSql` does not name
    // would fail on its unknown column, which test/api/sql-writes.test.ts would show for every entity.
    columns[columnName(field)] = sqlValue(field, value);
  }
  return { columns, links };
}

/** Inserts the ID list's join rows of entity `id`; returns them as Prisma's `include` reads them, in order. */
async function insertLinks(
  def: AnyEntityDefinition,
  db: Db,
  id: string,
  links: Array<Record<string, unknown>>,
): Promise<Array<Record<string, unknown>>> {
  const list = def.idListSql!;
  const ownerField = fieldName(list.owner);
  const joinRows = links.map((link) => ({ ...link, [ownerField]: id }));
  if (joinRows.length > 0) {
    const linkColumns = [...new Set(joinRows.flatMap((link) => Object.keys(link)))].sort().map(columnName);
    const sql =
      `INSERT INTO "${list.table}" (${quoted(linkColumns)}) ` +
      `SELECT ${linkColumns.map((c) => `r."${c}"`).join(', ')} ` +
      `FROM json_populate_recordset(NULL::"${list.table}", $1::json) AS r`;
    const values = joinRows.map((link) =>
      Object.fromEntries(Object.entries(link).map(([field, value]) => [columnName(field), value])),
    );
    await queryPrepared(db, statementName(sql), sql, [JSON.stringify(values)]);
  }
  return joinRows.sort((a, b) => (a.position as number) - (b.position as number));
}

/**
 * Inserts an entity from its Prisma `data` (`createData`): the row, then its ID list's join rows (`{ create: [...] }`
 * of the relation named by `idListSql`), in two prepared statements on the write's transaction. Returns the row as
 * Prisma's `create` with the entity's `include` returns it (what `toDto` reads).
 *
 * Why not Prisma's `create`: it compiles the nested create and its include on every call (about 3.5 ms of CPU against
 * 0.2 ms for these statements; bench/README.md, "API speed"). Postgres converts the values to the columns' types
 * (`json_populate_record`), so nothing here knows a column's type; test/api/sql-writes.test.ts holds the two paths
 * equal for every entity. Only constants of the entity definitions go into the SQL text; values are parameters.
 */
export async function insertEntity(
  def: AnyEntityDefinition,
  db: Db,
  data: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const id = randomUUID();
  const { columns, links } = splitData(def, data);
  const values = { ...columns, id };
  const names = Object.keys(values);
  const sql =
    `INSERT INTO "${def.table}" (${quoted(names)}, "created_at", "updated_at") ` +
    `SELECT ${names.map((c) => `r."${c}"`).join(', ')}, now(), now() ` +
    `FROM json_populate_record(NULL::"${def.table}", $1::json) AS r RETURNING *`;
  const [inserted] = await queryPrepared<Record<string, unknown>>(db, statementName(sql), sql, [
    JSON.stringify(values),
  ]);
  const row = prismaRow(inserted!);
  if (def.idListSql) row[def.idListSql.relation] = await insertLinks(def, db, id, links ?? []);
  return row;
}

/**
 * Replaces entity `id` from its Prisma `data` (`updateData`): the row's columns, and its ID list as a whole (the join
 * rows deleted, the new ones inserted), as Prisma's nested `update` does, in prepared statements on the write's
 * transaction. `createdAt` and `createdBy` never change; `updatedAt` is the transaction's time.
 */
export async function updateEntity(
  def: AnyEntityDefinition,
  db: Db,
  id: string,
  data: Record<string, unknown>,
): Promise<void> {
  const { columns, links } = splitData(def, data);
  const names = Object.keys(columns);
  const sql =
    `UPDATE "${def.table}" AS t SET ${names.map((c) => `"${c}" = r."${c}"`).join(', ')}, "updated_at" = now() ` +
    `FROM json_populate_record(NULL::"${def.table}", $2::json) AS r WHERE t."id" = $1::uuid`;
  await queryPrepared(db, statementName(sql), sql, [id, JSON.stringify(columns)]);
  const list = def.idListSql;
  if (!list || !links) return;
  const deleteSql = `DELETE FROM "${list.table}" WHERE "${list.owner}" = $1::uuid`;
  await queryPrepared(db, statementName(deleteSql), deleteSql, [id]);
  await insertLinks(def, db, id, links);
}
