/**
 * Plan and apply of bundles: every document matched to its stored entity by composite key, references resolved
 * over the bundle and the store, the REST routes' validation, and all writes in one transaction (all or nothing),
 * with audit events per entity and schedules synced as the REST writes do.
 */
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { PrismaClient } from '../../prisma/client';
import { recordAudits, type AuditActor } from '../audit/audit';
import type { Principal } from '../auth/principal';
import type { AnyEntityDefinition, Db, WriteChange } from '../entities/definition';
import { lockStepGraph } from '../entities/workflow-graph';
import { ValidationError } from '../errors';
import type { SecretMasker } from '../masking';
import { translateDatabaseError } from '../prisma-errors';
import {
  BUNDLE_KINDS,
  checkBundle,
  documentKey,
  documentLabel,
  readDocuments,
  REFERENCE_FIELDS,
  parseRef,
  type BundleDocument,
  type BundleKind,
  type BundleProblem,
  type Candidate,
  type CheckedDocument,
} from './document';

export type ChangeAction = 'create' | 'update' | 'unchanged';

/** What applying a bundle does (or did) to one entity. */
export interface PlannedChange {
  kind: BundleKind;
  name: string;
  version: string;
  connectionString?: string;
  action: ChangeAction;
  /** For an update: the bundle fields that change (names only: values may be secret). */
  fields?: string[];
  /** The stored entity's ID (after apply, also of created ones). */
  id?: string;
}

export interface BundleResult {
  changes: PlannedChange[];
  summary: Record<ChangeAction, number>;
}

/** Serialises bundle applies: a second apply of the same bundle waits, then finds everything unchanged. */
const BUNDLE_LOCK = 4665428215243849842n;
const TRANSACTION_TIMEOUT_MS = 120_000;
/** Fields every write sets, which are not what the bundle changes. */
const IGNORED_FIELDS = new Set(['id', 'createdAt', 'updatedAt', 'createdBy', 'updatedBy', 'taskQueue']);

interface Prepared {
  item: CheckedDocument;
  def: AnyEntityDefinition;
  id: string;
  /** The stored row (with the definition's includes), when the entity exists. */
  before?: unknown;
  action: ChangeAction;
  fields: string[];
}

const normalize = (value: unknown) => (value === undefined ? null : value);

/** Thrown to end a plan's transaction without committing it. */
class RollBack extends Error {}

export class BundleService {
  private readonly definitions: ReadonlyMap<string, AnyEntityDefinition>;

  constructor(
    private readonly prisma: PrismaClient,
    definitions: readonly AnyEntityDefinition[],
    private readonly masker: SecretMasker,
  ) {
    this.definitions = new Map(definitions.map((def) => [def.name, def]));
  }

  /**
   * What `apply` would do: the same transaction, every check the writes make (graph rules included), rolled back
   * at the end; schedules and audit are left alone.
   * @throws ValidationError (400), ConflictError (409) as `apply` would.
   */
  async plan(raw: unknown, principal: Principal): Promise<BundleResult> {
    let planned: BundleResult | undefined;
    try {
      await this.transaction(async (tx) => {
        const prepared = await this.prepare(tx, documentsOf(raw));
        await this.write(tx, prepared, principal.name);
        planned = result(prepared);
        throw new RollBack();
      });
    } catch (error) {
      if (!(error instanceof RollBack) || !planned) throw error;
    }
    return planned!;
  }

  /**
   * Applies the bundle in one transaction: all or nothing. @throws ValidationError (400), ConflictError (409).
   */
  async apply(raw: unknown, principal: Principal, audit: AuditActor): Promise<BundleResult> {
    const documents = documentsOf(raw);
    const synced: Array<{ def: AnyEntityDefinition; change: WriteChange<unknown> }> = [];
    try {
      return await this.transaction(async (tx) => {
        const prepared = await this.prepare(tx, documents);
        const changed = await this.write(tx, prepared, principal.name);
        for (const { p, after } of changed) {
          if (!p.def.afterWrite) continue;
          const change: WriteChange<unknown> = { id: p.id, after, ...(p.before ? { before: p.before } : {}) };
          await p.def.afterWrite(tx, change);
          synced.push({ def: p.def, change });
        }
        await recordAudits(tx, audit, [
          ...changed.map(({ p }) => ({
            action: `${p.def.name}.${p.action === 'create' ? 'create' : 'replace'}`,
            entityType: p.def.name,
            entityId: p.id,
            outcome: p.action === 'create' ? 201 : 204,
            changedFields: p.fields,
          })),
          {
            action: 'Bundle.apply',
            outcome: 200,
            changedFields: changed.map(({ p }) => documentLabel(p.item.doc)),
          },
        ]);
        return result(prepared);
      });
    } catch (error) {
      // Schedules synced before the failure are put back as they were (the database rolled back).
      for (const { def, change } of synced.reverse())
        await def
          .afterWrite?.(this.prisma, { id: change.id, before: change.after, after: change.before })
          .catch(() => undefined);
      throw error;
    }
  }

  /** One transaction, bundle applies serialised, the step graph locked as the REST graph writes lock it. */
  private async transaction<T>(work: (tx: Db) => Promise<T>): Promise<T> {
    try {
      return await this.prisma.$transaction(
        async (tx) => {
          await tx.$executeRaw`SELECT pg_advisory_xact_lock(${BUNDLE_LOCK})`;
          await lockStepGraph(tx);
          return work(tx);
        },
        { timeout: TRANSACTION_TIMEOUT_MS, maxWait: 30_000 },
      );
    } catch (error) {
      if (error instanceof RollBack) throw error;
      throw translateDatabaseError(error) ?? error;
    }
  }

  /** Matches, resolves and checks every document; decides create / update / unchanged. */
  private async prepare(db: Db, raw: unknown[]): Promise<Prepared[]> {
    const { documents } = readDocuments(raw);
    const stored = await this.loadStored(db, documents);
    const assigned = new Map<number, string>();
    const idOf = (doc: BundleDocument) => {
      const row = stored.rows.get(documentKey(doc)) as { id: string } | undefined;
      if (row) return row.id;
      if (!assigned.has(doc.index)) assigned.set(doc.index, randomUUID());
      return assigned.get(doc.index)!;
    };
    const { checked, problems } = checkBundle(raw, { stored: stored.candidates, idOf });
    if (!checked) throw bundleError(problems);
    return checked.map((item) => {
      const def = this.definitions.get(item.doc.kind)!;
      const before = stored.rows.get(documentKey(item.doc));
      const id = idOf(item.doc);
      if (!before) return { item, def, id, action: 'create', fields: Object.keys(item.doc.fields) };
      if (def.restoreMasked)
        item.input = def.restoreMasked(item.input, before, this.masker) as typeof item.input;
      const current = def.toDto(before) as Record<string, unknown>;
      const rename = new Map(REFERENCE_FIELDS[item.doc.kind].map((r) => [r.restField, r.field]));
      const fields = Object.keys(item.input)
        .filter((field) => !IGNORED_FIELDS.has(field))
        .filter((field) => !isDeepStrictEqual(normalize(item.input[field]), normalize(current[field])))
        .map((field) => rename.get(field) ?? field);
      return { item, def, id, before, action: fields.length > 0 ? 'update' : 'unchanged', fields };
    });
  }

  /** The stored entities the bundle's documents are, and every stored entity its references may name. */
  private async loadStored(db: Db, documents: BundleDocument[]) {
    const rows = new Map<string, unknown>();
    const candidates: Candidate[] = [];
    for (const kind of BUNDLE_KINDS) {
      const def = this.definitions.get(kind)!;
      const wanted = new Map<string, { name: string; version: string }>();
      for (const doc of documents)
        if (doc.kind === kind && doc.name && doc.version)
          wanted.set(`${doc.name}@${doc.version}`, { name: doc.name, version: doc.version });
      for (const doc of documents)
        for (const reference of REFERENCE_FIELDS[doc.kind]) {
          if (!reference.targets.includes(kind)) continue;
          const value = doc.refs[reference.field];
          for (const text of Array.isArray(value) ? value : value ? [value] : []) {
            const ref = parseRef(text);
            if (ref) wanted.set(text, ref);
          }
        }
      if (wanted.size === 0) continue;
      const found = (await def.model(db).findMany({
        where: { OR: [...wanted.values()] },
        include: def.include,
      })) as Array<{ id: string; name: string; version: string; connectionString?: string }>;
      for (const row of found) {
        const candidate: Candidate = {
          kind,
          name: row.name,
          version: row.version,
          ...(row.connectionString !== undefined ? { connectionString: row.connectionString } : {}),
          id: row.id,
        };
        candidates.push(candidate);
        rows.set(documentKey(candidate), row);
      }
    }
    return { rows, candidates };
  }

  /** Writes the changed entities (REST checks included); answers them with their rows as written. */
  private async write(tx: Db, prepared: Prepared[], actor: string) {
    const changed = prepared.filter((p) => p.action !== 'unchanged');
    const updatedSteps: Prepared[] = [];
    for (const kind of BUNDLE_KINDS) {
      const items = changed.filter((p) => p.item.doc.kind === kind);
      if (kind === 'Step') {
        await this.writeSteps(tx, items, actor);
        updatedSteps.push(...items.filter((p) => p.action === 'update'));
      } else
        for (const p of items) {
          await p.def.validate?.(tx, p.item.input, p.action === 'update' ? p.id : undefined);
          if (p.action === 'create')
            await p.def
              .model(tx)
              .create({ data: { ...(await p.def.createData(p.item.input, actor, tx)), id: p.id } });
          else
            await p.def
              .model(tx)
              .update({ where: { id: p.id }, data: await p.def.updateData(p.item.input, actor, tx) });
          await p.def.afterUpdate?.(tx, p.id);
        }
    }
    // Once the whole graph is as the bundle says: every workflow that holds a changed step must still be a DAG.
    for (const p of updatedSteps) await p.def.afterUpdate?.(tx, p.id);
    // The rows as written, for the entities whose writes reach outside the database (schedules).
    return Promise.all(
      changed.map(async (p) => ({
        p,
        after: p.def.afterWrite
          ? await p.def.model(tx).findUnique({ where: { id: p.id }, include: p.def.include })
          : undefined,
      })),
    );
  }

  /**
   * Steps point at steps: all of them are written first without their `next` edges (bulk), then the edges, so the
   * order of documents never matters and a 1,000-step flow is a handful of statements.
   */
  private async writeSteps(tx: Db, items: Prepared[], actor: string): Promise<void> {
    if (items.length === 0) return;
    const withoutEdges = async (p: Prepared, data: object | Promise<object>) => {
      const { next: _edges, ...columns } = (await data) as Record<string, unknown>;
      return columns;
    };
    for (const p of items) await p.def.validate?.(tx, p.item.input, p.action === 'update' ? p.id : undefined);
    const creates = items.filter((p) => p.action === 'create');
    if (creates.length > 0)
      await tx.step.createMany({
        data: (await Promise.all(
          creates.map(async (p) => ({
            ...(await withoutEdges(p, p.def.createData(p.item.input, actor, tx))),
            id: p.id,
          })),
        )) as never,
      });
    const updates = items.filter((p) => p.action === 'update');
    for (const p of updates)
      await tx.step.update({
        where: { id: p.id },
        data: await withoutEdges(p, p.def.updateData(p.item.input, actor, tx)),
      });
    if (updates.length > 0)
      await tx.stepNext.deleteMany({ where: { stepId: { in: updates.map((p) => p.id) } } });
    const edges = items.flatMap((p) =>
      (p.item.input.nextStepIds as string[]).map((nextStepId, position) => ({
        stepId: p.id,
        nextStepId,
        position,
      })),
    );
    if (edges.length > 0) await tx.stepNext.createMany({ data: edges });
  }
}

function documentsOf(raw: unknown): unknown[] {
  const documents = Array.isArray(raw)
    ? raw
    : typeof raw === 'object' && raw !== null && Array.isArray((raw as { documents?: unknown }).documents)
      ? (raw as { documents: unknown[] }).documents
      : undefined;
  if (!documents)
    throw new ValidationError('A bundle is a list of documents', [
      {
        field: 'documents',
        rule: 'required',
        message: 'must be a list of documents ({ "documents": [ … ] })',
      },
    ]);
  if (documents.length === 0)
    throw new ValidationError('The bundle holds no document', [
      { field: 'documents', rule: 'NotEmptyCollection', message: 'must hold at least one document' },
    ]);
  return documents;
}

function bundleError(problems: BundleProblem[]): ValidationError {
  const shown = problems
    .slice(0, 5)
    .map(
      (p) =>
        `document ${p.document + 1}${p.kind ? ` (${p.kind} ${p.ref ?? ''})` : ''}: ${p.field} ${p.message}`,
    );
  return new ValidationError(
    `Invalid bundle: ${shown.join('; ')}${problems.length > 5 ? `; and ${problems.length - 5} more` : ''}`,
    problems,
  );
}

function result(prepared: Prepared[]): BundleResult {
  const changes = prepared.map(({ item: { doc }, id, action, fields }): PlannedChange => ({
    kind: doc.kind,
    name: doc.name,
    version: doc.version,
    ...(doc.connectionString !== undefined ? { connectionString: doc.connectionString } : {}),
    action,
    ...(action === 'update' ? { fields } : {}),
    ...(action === 'create' ? {} : { id }),
  }));
  const summary = { create: 0, update: 0, unchanged: 0 };
  for (const change of changes) summary[change.action]++;
  return { changes, summary };
}
