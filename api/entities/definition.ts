import type { z } from 'zod';
import type { Prisma, PrismaClient } from '../../prisma/client';
import type { SecretMasker } from '../masking';

/** A Prisma client or the client of an interactive transaction. */
export type Db = PrismaClient | Prisma.TransactionClient;

export type EntityName =
  'Schema' | 'Processor' | 'Step' | 'Workflow' | 'OrchestratedFlow' | 'Assignment' | 'Address' | 'Delivery';

/** Each entity's table (Prisma's @@map): its definition's `table`, and what reference checks query. */
export const ENTITY_TABLES: Record<EntityName, string> = {
  Schema: 'schema',
  Processor: 'processor',
  Step: 'step',
  Workflow: 'workflow',
  OrchestratedFlow: 'orchestrated_flow',
  Assignment: 'assignment',
  Address: 'address',
  Delivery: 'delivery',
};

/**
 * The subset of a Prisma model delegate the generic CRUD uses; every model's delegate satisfies it.
 */
export interface ModelDelegate {
  findMany(args: object): Promise<unknown[]>;
  findFirst(args: object): Promise<unknown>;
  findUnique(args: object): Promise<unknown>;
  count(args: object): Promise<number>;
  create(args: object): Promise<unknown>;
  update(args: object): Promise<unknown>;
  deleteMany(args: object): Promise<{ count: number }>;
}

/** An entity that refers to the one being deleted, named so a person can find it. */
export interface Referrer {
  entity: EntityName;
  id: string;
  name: string;
  version: string;
  field: string;
}

/** IDs in a body that must name existing entities of one of `targets`. */
export interface ReferenceCheck {
  field: string;
  ids: readonly string[];
  targets: readonly EntityName[];
}

/** One write of an entity, as {@link EntityDefinition.afterWrite} sees it. */
export interface WriteChange<Row> {
  id: string;
  before?: Row;
  after?: Row;
}

/**
 * An entity's ordered ID list (what its `include` loads) as SQL, so hot reads fetch the row and the list in one
 * statement (api/crud-reads.ts): the relation's name on the row, its join table, the join table's column that names
 * the owner, and the columns each list entry carries (its Prisma field → column).
 */
export interface IdListSql {
  relation: string;
  table: string;
  owner: string;
  columns: Readonly<Record<string, string>>;
}

/** A specialized lookup route: `GET /api/{Entity}/{segment}/{param}`. */
export interface Lookup {
  segment: string;
  param: string;
  summary: string;
  where(id: string): object;
}

/**
 * Everything the generic CRUD routes, service and OpenAPI document need to know about one entity. Written once
 * per entity; the CRUD itself is written once for all of them.
 */
export interface EntityDefinition<Input = unknown, Row = unknown, Dto = unknown> {
  name: EntityName;
  /** The SQL table (Prisma's @@map), for the row lock Prisma has no API for. */
  table: string;
  summary: string;
  /** The request body schema (strict: unknown fields are rejected, server-owned ones stripped first). */
  input: z.ZodType<Input, unknown>;
  /** The response schema, for the OpenAPI document. */
  output: z.ZodType<Dto, unknown>;
  /** Read-only response fields besides the server-owned base fields (accepted in a body and ignored). */
  derivedFields?: readonly string[];
  /** Address and Delivery: the composite key includes the connection string. */
  keyHasConnectionString?: boolean;
  model(db: Db): ModelDelegate;
  include?: object;
  /** `include` as SQL, for the reads in one statement (api/crud-reads.ts); set exactly when `include` is. */
  idListSql?: IdListSql;
  toDto(row: Row): Dto;
  /** Prisma `data` of a create; may read the database (inside the write transaction). */
  createData(input: Input, actor: string, db: Db): object | Promise<object>;
  /** Prisma `data` of a full replace; join rows are replaced as a whole. */
  updateData(input: Input, actor: string, db: Db): object | Promise<object>;
  /** The IDs in `input` that must exist (a missing one is 409 ReferentialIntegrity). */
  references(input: Input): ReferenceCheck[];
  /** Entities that refer to `id` (deleting it is then 409). */
  referrers(db: Db, id: string): Promise<Referrer[]>;
  /** Checks that need the database, run inside the write transaction; throw an ApiError to refuse. */
  validate?(db: Db, input: Input, id: string | undefined): Promise<void>;
  /** Checks run after an update inside the same transaction (e.g. graphs that contain the entity). */
  afterUpdate?(db: Db, id: string): Promise<void>;
  /**
   * Work outside the database that must agree with every write (e.g. a flow's Temporal Schedule). Runs last inside the
   * write's transaction, once the row is written: `before` is the row as it was (absent on create), `after` as
   * written (absent on delete). Throw to refuse the write: it rolls back.
   */
  afterWrite?(db: Db, change: WriteChange<Row>): Promise<void>;
  lookups?: readonly Lookup[];
  /** The DTO as non-admins see it: secret values masked (Address, Delivery). */
  maskSecrets?(dto: Dto, masker: SecretMasker): Dto;
  /**
   * A replace that sends back a masked value (`***`, as a non-admin read it) keeps the stored secret instead of
   * storing the mask.
   */
  restoreMasked?(input: Input, before: Row, masker: SecretMasker): Input;
}

/** Erases the type parameters so definitions of different entities can share one list. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a heterogeneous registry of definitions
export type AnyEntityDefinition = EntityDefinition<any, any, any>;
