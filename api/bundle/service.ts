/**
 * Plan and apply of bundles: every document matched to its stored entity by composite key, references resolved
 * over the bundle and the store, the REST routes' validation, and all writes in one transaction (all or nothing),
 * with audit events per entity and schedules synced as the REST writes do.
 */
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { transaction, type PrismaClient } from '../../prisma/client';
import type { AuditActor } from '../audit/audit';
import { insertAuditEvents, insertEdges, insertSteps, type StepRow } from './bulk';
import type { Principal } from '../auth/principal';
import type { AnyEntityDefinition, Db, WriteChange } from '../entities/definition';
import { lockStepGraph } from '../entities/workflow-graph';
import { ConflictError, NotFoundError, ValidationError, type ProblemDetail } from '../errors';
import type { SecretMasker } from '../masking';
import { translateDatabaseError } from '../prisma-errors';
import {
  BUNDLE_KINDS,
  checkRead,
  documentKey,
  documentLabel,
  readDocuments,
  REFERENCE_FIELDS,
  parseRef,
  refPath,
  type BundleDocument,
  type BundleKind,
  type BundleProblem,
  type Candidate,
  type CheckedDocument,
} from './document';

export type ChangeAction = 'create' | 'update' | 'unchanged' | 'delete';

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

/**
 * Prune: stored entities the selector matches and the bundle does not hold are deleted. The selector is a name,
 * or a name prefix ending in `*` (`Greeting*`); it never matches what a bundle does not own by name.
 */
export interface PruneOptions {
  selector: string;
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

/** A stored entity a prune deletes. */
interface Pruned {
  def: AnyEntityDefinition;
  id: string;
  row: unknown;
  change: PlannedChange;
}

/**
 * A selector: a name, or a prefix ending in `*`.
 * @throws ValidationError (400) for anything else (an empty selector would prune everything).
 */
export function selectorMatcher(selector: string): { where: object; test(name: string): boolean } {
  const prefix = selector.endsWith('*') ? selector.slice(0, -1) : undefined;
  if (!selector || selector === '*' || (prefix ?? selector).includes('*'))
    throw new ValidationError('Invalid prune selector', [
      {
        field: 'query.selector',
        rule: 'selector',
        message: 'must be a name, or a name prefix ending in * (e.g. Greeting*); * alone is refused',
      },
    ]);
  return prefix === undefined
    ? { where: { name: selector }, test: (name) => name === selector }
    : { where: { name: { startsWith: prefix } }, test: (name) => name.startsWith(prefix) };
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
  async plan(raw: unknown, principal: Principal, prune?: PruneOptions): Promise<BundleResult> {
    let planned: BundleResult | undefined;
    try {
      await this.transaction(async (tx) => {
        const prepared = await this.prepare(tx, documentsOf(raw));
        await this.write(tx, prepared, principal.name);
        const pruned = prune ? await this.prune(tx, prepared, prune) : [];
        planned = result(prepared, pruned);
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
  async apply(
    raw: unknown,
    principal: Principal,
    audit: AuditActor,
    prune?: PruneOptions,
  ): Promise<BundleResult> {
    const documents = documentsOf(raw);
    const synced: Array<{ def: AnyEntityDefinition; change: WriteChange<unknown> }> = [];
    try {
      return await this.transaction(async (tx) => {
        const prepared = await this.prepare(tx, documents);
        const changed = await this.write(tx, prepared, principal.name);
        const pruned = prune ? await this.prune(tx, prepared, prune) : [];
        for (const { p, after } of changed) {
          if (!p.def.afterWrite) continue;
          const change: WriteChange<unknown> = { id: p.id, after, ...(p.before ? { before: p.before } : {}) };
          await p.def.afterWrite(tx, change);
          synced.push({ def: p.def, change });
        }
        for (const gone of pruned) {
          if (!gone.def.afterWrite) continue;
          const change: WriteChange<unknown> = { id: gone.id, before: gone.row };
          await gone.def.afterWrite(tx, change);
          synced.push({ def: gone.def, change });
        }
        await insertAuditEvents(tx, audit, [
          ...changed.map(({ p }) => ({
            action: `${p.def.name}.${p.action === 'create' ? 'create' : 'replace'}`,
            entityType: p.def.name,
            entityId: p.id,
            outcome: p.action === 'create' ? 201 : 204,
            changedFields: p.fields,
          })),
          ...pruned.map((gone) => ({
            action: `${gone.def.name}.delete`,
            entityType: gone.def.name,
            entityId: gone.id,
            outcome: 204,
          })),
          {
            action: 'Bundle.apply',
            outcome: 200,
            changedFields: [
              ...changed.map(({ p }) => documentLabel(p.item.doc)),
              ...pruned.map((gone) => `${gone.change.kind} ${gone.change.name}@${gone.change.version}`),
            ],
          },
        ]);
        return result(prepared, pruned, { applied: true });
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
      return await transaction(
        this.prisma,
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

  /**
   * The flow `ref` (name@version) and everything it references, as bundle documents in dependency order: applies
   * cleanly on an empty database, and exporting it again gives the same documents. Secrets are masked for
   * non-admins, as every read masks them.
   * @throws NotFoundError (404) when there is no such flow; ValidationError (400) for a malformed ref.
   */
  async export(ref: string, viewer: Principal): Promise<{ documents: Record<string, unknown>[] }> {
    const parsed = parseRef(ref);
    if (!parsed)
      throw new ValidationError('flow must be name@version', [
        { field: 'query.flow', rule: 'reference', message: 'must be name@version of an OrchestratedFlow' },
      ]);
    const db = this.prisma;
    const flow = await db.orchestratedFlow.findFirst({
      where: parsed,
      include: { assignments: { orderBy: { position: 'asc' } } },
    });
    if (!flow) throw new NotFoundError('OrchestratedFlow', ref);
    const workflow = await db.workflow.findUniqueOrThrow({
      where: { id: flow.workflowId },
      include: { steps: { orderBy: { position: 'asc' } } },
    });
    const stepIds = workflow.steps.map((s) => s.stepId);
    const assignments = await db.assignment.findMany({
      where: { id: { in: flow.assignments.map((a) => a.assignmentId) } },
      include: { entities: { orderBy: { position: 'asc' } } },
    });
    // Steps the assignments name are part of the workflow already; the rest come along too.
    const allStepIds = [...new Set([...stepIds, ...assignments.map((a) => a.stepId)])];
    const steps = await db.step.findMany({
      where: { id: { in: allStepIds } },
      include: { next: { orderBy: { position: 'asc' } } },
    });
    const processors = await db.processor.findMany({
      where: {
        id: {
          in: steps.flatMap((s) =>
            s.compensationProcessorId ? [s.processorId, s.compensationProcessorId] : [s.processorId],
          ),
        },
      },
    });
    const endpointIds = assignments.flatMap((a) => a.entities);
    const addresses = await db.address.findMany({
      where: { id: { in: endpointIds.flatMap((e) => (e.addressId ? [e.addressId] : [])) } },
    });
    const deliveries = await db.delivery.findMany({
      where: { id: { in: endpointIds.flatMap((e) => (e.deliveryId ? [e.deliveryId] : [])) } },
    });
    const schemaIds = [
      ...processors.flatMap((p) => [p.inputSchemaId, p.outputSchemaId]),
      ...[...addresses, ...deliveries].flatMap((e) => (e.schemaId ? [e.schemaId] : [])),
    ];
    const schemas = await db.schema.findMany({ where: { id: { in: schemaIds } } });

    const refs = new Map<string, string>();
    for (const row of [
      ...schemas,
      ...processors,
      ...steps,
      ...addresses,
      ...deliveries,
      ...assignments,
      workflow,
      flow,
    ])
      refs.set(row.id, `${row.name}@${row.version}`);
    const byRef = <T extends { name: string; version: string }>(rows: T[]) =>
      [...rows].sort((a, b) => `${a.name}@${a.version}`.localeCompare(`${b.name}@${b.version}`));
    const stepOrder = new Map(allStepIds.map((id, i) => [id, i]));
    const rows: Array<[BundleKind, { id: string }]> = [
      ...byRef(schemas).map((r) => ['Schema', r] as [BundleKind, { id: string }]),
      ...byRef(processors).map((r) => ['Processor', r] as [BundleKind, { id: string }]),
      ...byRef(addresses).map((r) => ['Address', r] as [BundleKind, { id: string }]),
      ...byRef(deliveries).map((r) => ['Delivery', r] as [BundleKind, { id: string }]),
      ...[...steps]
        .sort((a, b) => stepOrder.get(a.id)! - stepOrder.get(b.id)!)
        .map((r) => ['Step', r] as [BundleKind, { id: string }]),
      ['Workflow', workflow],
      ...byRef(assignments).map((r) => ['Assignment', r] as [BundleKind, { id: string }]),
      ['OrchestratedFlow', flow],
    ];
    return {
      documents: rows.map(([kind, row]) => {
        const def = this.definitions.get(kind)!;
        let dto = def.toDto(row) as Record<string, unknown>;
        if (def.maskSecrets && viewer.role !== 'admin')
          dto = def.maskSecrets(dto, this.masker) as Record<string, unknown>;
        const references = new Map(
          REFERENCE_FIELDS[kind].filter((r) => !r.parent).map((r) => [r.restField, r.field]),
        );
        const document: Record<string, unknown> = { kind, name: dto.name, version: dto.version };
        for (const [field, value] of Object.entries(dto)) {
          if (IGNORED_FIELDS.has(field) || field === 'name' || field === 'version') continue;
          if (value === null || value === '' || (Array.isArray(value) && value.length === 0)) continue;
          const reference = references.get(field);
          const nested = REFERENCE_FIELDS[kind].filter((r) => r.parent === field);
          if (nested.length > 0 && typeof value === 'object' && !Array.isArray(value)) {
            // `compensation: { processorId, configuration }` → `{ processor: name@version, configuration }`.
            const holder: Record<string, unknown> = {};
            for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
              if (inner === null) continue;
              const inside = nested.find((r) => r.restField === key);
              holder[inside ? inside.field : key] = inside ? refs.get(inner as string) : inner;
            }
            document[field] = holder;
          } else if (!reference) document[field] = value;
          else
            document[reference] = Array.isArray(value)
              ? value.map((id: string) => refs.get(id))
              : refs.get(value as string);
        }
        return document;
      }),
    };
  }

  /**
   * Deletes the stored entities `prune.selector` matches that the bundle does not hold, dependents first. Refuses
   * (409, naming them) when anything outside that set still refers to one of them.
   */
  private async prune(tx: Db, prepared: Prepared[], prune: PruneOptions): Promise<Pruned[]> {
    const match = selectorMatcher(prune.selector);
    const kept = new Set(prepared.map((p) => p.id));
    const doomed: Pruned[] = [];
    for (const kind of BUNDLE_KINDS) {
      const def = this.definitions.get(kind)!;
      const rows = (await def.model(tx).findMany({ where: match.where, include: def.include })) as Array<{
        id: string;
        name: string;
        version: string;
        connectionString?: string;
      }>;
      for (const row of rows)
        if (!kept.has(row.id) && match.test(row.name))
          doomed.push({
            def,
            id: row.id,
            row,
            change: {
              kind,
              name: row.name,
              version: row.version,
              ...(row.connectionString !== undefined ? { connectionString: row.connectionString } : {}),
              action: 'delete',
              id: row.id,
            },
          });
    }
    const ids = new Set(doomed.map((d) => d.id));
    const blocking: ProblemDetail[] = [];
    for (const gone of doomed)
      for (const referrer of await gone.def.referrers(tx, gone.id))
        if (!ids.has(referrer.id))
          blocking.push({
            field: 'selector',
            rule: 'notReferenced',
            message:
              `${gone.change.kind} ${gone.change.name}@${gone.change.version} would be pruned, but ${referrer.entity} ` +
              `"${referrer.name}@${referrer.version}" (${referrer.id}) still refers to it through ${referrer.field}`,
            referrer,
          });
    if (blocking.length > 0)
      throw new ConflictError(
        'ReferentialIntegrity',
        `Prune refused: ${blocking.length} reference(s) from outside the selection`,
        blocking,
      );
    // Dependents first; the edges between doomed steps go before the steps (their foreign keys restrict deletes).
    const doomedSteps = doomed.filter((d) => d.def.name === 'Step').map((d) => d.id);
    for (const kind of [...BUNDLE_KINDS].reverse()) {
      const ofKind = doomed.filter((d) => d.def.name === kind).map((d) => d.id);
      if (ofKind.length === 0) continue;
      if (kind === 'Step') await tx.stepNext.deleteMany({ where: { stepId: { in: doomedSteps } } });
      await this.definitions
        .get(kind)!
        .model(tx)
        .deleteMany({ where: { id: { in: ofKind } } });
    }
    return doomed;
  }

  /** Matches, resolves and checks every document; decides create / update / unchanged. */
  private async prepare(db: Db, raw: unknown[]): Promise<Prepared[]> {
    const read = readDocuments(raw);
    const { documents } = read;
    const stored = await this.loadStored(db, documents);
    const assigned = new Map<number, string>();
    const idOf = (doc: BundleDocument) => {
      const row = stored.rows.get(documentKey(doc)) as { id: string } | undefined;
      if (row) return row.id;
      if (!assigned.has(doc.index)) assigned.set(doc.index, randomUUID());
      return assigned.get(doc.index)!;
    };
    const { checked, problems } = checkRead(read, { stored: stored.candidates, idOf });
    if (!checked) throw bundleError(problems);
    return checked.map((item) => {
      const def = this.definitions.get(item.doc.kind)!;
      const before = stored.rows.get(documentKey(item.doc));
      const id = idOf(item.doc);
      if (!before) return { item, def, id, action: 'create', fields: Object.keys(item.doc.fields) };
      if (def.restoreMasked)
        item.input = def.restoreMasked(item.input, before, this.masker) as typeof item.input;
      const current = def.toDto(before) as Record<string, unknown>;
      const rename = new Map(
        REFERENCE_FIELDS[item.doc.kind].filter((r) => !r.parent).map((r) => [r.restField, r.field]),
      );
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
          const value = doc.refs[refPath(reference)];
          for (const text of Array.isArray(value) ? value : value ? [value] : []) {
            const ref = parseRef(text);
            if (ref) wanted.set(text, ref);
          }
        }
      if (wanted.size === 0) continue;
      // By name (one indexed IN list, not thousands of ORs), then the exact name@version here.
      const found = (await def.model(db).findMany({
        where: { name: { in: [...new Set([...wanted.values()].map((w) => w.name))] } },
        include: def.include,
      })) as Array<{ id: string; name: string; version: string; connectionString?: string }>;
      for (const row of found) {
        if (!wanted.has(`${row.name}@${row.version}`)) continue;
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
      } else if (kind === 'Workflow') await this.writeWorkflows(tx, items, actor);
      else
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
    // One query at a time: a transaction is one connection.
    const written: Array<{ p: Prepared; after: unknown }> = [];
    for (const p of changed)
      written.push({
        p,
        after: p.def.afterWrite
          ? await p.def.model(tx).findUnique({ where: { id: p.id }, include: p.def.include })
          : undefined,
      });
    return written;
  }

  /** Workflows, checked as the REST writes check them; their step lists (up to 1,000 rows each) in bulk. */
  private async writeWorkflows(tx: Db, items: Prepared[], actor: string): Promise<void> {
    for (const p of items) {
      await p.def.validate?.(tx, p.item.input, p.action === 'update' ? p.id : undefined);
      const data = (await Promise.resolve(
        p.action === 'create'
          ? p.def.createData(p.item.input, actor, tx)
          : p.def.updateData(p.item.input, actor, tx),
      )) as Record<string, unknown>;
      const { steps: _members, ...columns } = data;
      if (p.action === 'create') await tx.workflow.create({ data: { ...columns, id: p.id } as never });
      else {
        await tx.workflow.update({ where: { id: p.id }, data: columns as never });
        await tx.workflowStep.deleteMany({ where: { workflowId: p.id } });
      }
      await insertEdges(
        tx,
        'workflow_step',
        (p.item.input.stepIds as string[]).map((target, position) => ({ owner: p.id, target, position })),
      );
    }
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
    await insertSteps(
      tx,
      await Promise.all(
        creates.map(
          async (p) =>
            ({ ...(await withoutEdges(p, p.def.createData(p.item.input, actor, tx))), id: p.id }) as StepRow,
        ),
      ),
    );
    const updates = items.filter((p) => p.action === 'update');
    for (const p of updates)
      await tx.step.update({
        where: { id: p.id },
        data: await withoutEdges(p, p.def.updateData(p.item.input, actor, tx)),
      });
    if (updates.length > 0)
      await tx.stepNext.deleteMany({ where: { stepId: { in: updates.map((p) => p.id) } } });
    await insertEdges(
      tx,
      'step_next',
      items.flatMap((p) =>
        (p.item.input.nextStepIds as string[]).map((target, position) => ({ owner: p.id, target, position })),
      ),
    );
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

/**
 * The answer of a plan or an apply. A created entity's ID is answered by apply only: a plan's IDs for new entities
 * were rolled back with it, and the apply makes new ones.
 */
function result(
  prepared: Prepared[],
  pruned: Pruned[] = [],
  options: { applied?: boolean } = {},
): BundleResult {
  const changes = prepared.map(({ item: { doc }, id, action, fields }): PlannedChange => ({
    kind: doc.kind,
    name: doc.name,
    version: doc.version,
    ...(doc.connectionString !== undefined ? { connectionString: doc.connectionString } : {}),
    action,
    ...(action === 'update' ? { fields } : {}),
    ...(action === 'create' && !options.applied ? {} : { id }),
  }));
  changes.push(...pruned.map((gone) => gone.change));
  const summary = { create: 0, update: 0, unchanged: 0, delete: 0 };
  for (const change of changes) summary[change.action]++;
  return { changes, summary };
}
