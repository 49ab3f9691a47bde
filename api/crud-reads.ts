import { queryPrepared, type PrismaClient } from '../prisma/client';
import type { AnyEntityDefinition, Db } from './entities/definition';

/**
 * The generic CRUD's hot reads (get by id, the plain list and its total) as one SQL statement each. Prisma stays the
 * data layer (schema, migrations, every write and every other read); these fixed statements run as named prepared
 * statements on the node-postgres pool under Prisma's driver adapter (`queryPrepared`), the connections Prisma uses.
 * Why not through Prisma: its query-compiler engine compiles every query into a plan in WebAssembly on every call, even
 * `$queryRaw` (it has no plan cache). Measured on these machines (bench/README.md, "API speed"): `findUnique` +
 * `include` about 1.2 ms of CPU, `$queryRawUnsafe` 0.2–0.3 ms, the same statement on the pool 0.06 ms. Clients made
 * elsewhere (no pool known) fall back to `$queryRawUnsafe`.
 *
 * The rows come back as Prisma's would (field names, `Date`s, parsed JSON, the ID list as its join rows), so each
 * entity's `toDto` stays the one mapping; test/api/sql-reads.test.ts holds the two paths equal for every entity.
 * Only constants of the entity definitions go into the SQL text; values are parameters.
 */
export class SqlReads {
  private readonly selects = new Map<string, string>();

  constructor(private readonly prisma: PrismaClient) {}

  /**
   * The row of `id` as Prisma would read it with the entity's `include`; undefined when there is none. `db`: a write's
   * transaction (prisma/client.ts `transaction`), to read inside it.
   */
  async byId(def: AnyEntityDefinition, id: string, db: Db = this.prisma): Promise<unknown> {
    const rows = await queryPrepared<Record<string, unknown>>(
      db,
      `crud-get-${def.name}`,
      `${this.select(def)} WHERE t.id = $1::uuid`,
      [id],
    );
    return rows[0] && prismaRow(rows[0]);
  }

  /** A page of rows in the CRUD's order (creation time, then ID), and the total. */
  async page(
    def: AnyEntityDefinition,
    page: { limit: number; offset: number },
  ): Promise<{ rows: unknown[]; total: number }> {
    const [rows, count] = await Promise.all([
      queryPrepared<Record<string, unknown>>(this.prisma, `crud-page-${def.name}`, this.pageSql(def), [
        page.limit,
        page.offset,
      ]),
      queryPrepared<{ total: number }>(
        this.prisma,
        `crud-count-${def.name}`,
        `SELECT count(*)::int AS total FROM "${def.table}"`,
        [],
      ),
    ]);
    return { rows: rows.map(prismaRow), total: count[0]?.total ?? 0 };
  }

  /** The page statement: `$1` rows from `$2` on, in creation order (the list-order index serves it). */
  pageSql(def: AnyEntityDefinition): string {
    return `${this.select(def)} ORDER BY t.created_at, t.id LIMIT $1 OFFSET $2`;
  }

  /** `SELECT` of the entity's row and, when it has one, its ID list as a JSON array of join rows in order. */
  private select(def: AnyEntityDefinition): string {
    let sql = this.selects.get(def.name);
    if (sql === undefined) {
      const list = def.idListSql;
      const entry = list
        ? Object.entries(list.columns)
            .map(([field, column]) => `'${field}', j."${column}"`)
            .join(', ')
        : '';
      sql = list
        ? `SELECT t.*, (SELECT coalesce(json_agg(json_build_object(${entry}) ORDER BY j.position), '[]'::json) ` +
          `FROM "${list.table}" j WHERE j."${list.owner}" = t.id) AS "${list.relation}" FROM "${def.table}" t`
        : `SELECT t.* FROM "${def.table}" t`;
      this.selects.set(def.name, sql);
    }
    return sql;
  }
}

const fieldNames = new Map<string, string>();

/** `processor_id` → `processorId`: every mapped column of the entity tables is its field's name in snake case. */
export function fieldName(column: string): string {
  let name = fieldNames.get(column);
  if (name === undefined) {
    name = column.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
    fieldNames.set(column, name);
  }
  return name;
}

export function prismaRow(row: Record<string, unknown>): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const column in row) result[fieldName(column)] = row[column];
  return result;
}
