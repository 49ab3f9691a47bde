/**
 * Step data as the run's status carries it: inline JSON, or for large data a reference `{ $ref, size,
 * contentType, href }` whose href downloads the bytes. Pure.
 */

export interface DataReference {
  $ref: string;
  size?: number;
  contentType?: string;
  href: string;
}

export function isDataReference(value: unknown): value is DataReference {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { $ref?: unknown }).$ref === 'string' &&
    typeof (value as { href?: unknown }).href === 'string'
  );
}

/** Inline data longer than this (as pretty JSON) is offered as a download instead of shown. */
export const INLINE_TEXT_MAX = 20_000;

export type DataView =
  | { kind: 'none' }
  | { kind: 'inline'; text: string }
  | { kind: 'large'; text: string; bytes: number }
  | { kind: 'reference'; href: string; bytes?: number; contentType?: string };

/** How to show a step's data: nothing, inline, a download of large inline data, or the reference's link. */
export function viewData(value: unknown): DataView {
  if (value === undefined) return { kind: 'none' };
  if (isDataReference(value))
    return {
      kind: 'reference',
      href: value.href,
      ...(typeof value.size === 'number' && { bytes: value.size }),
      ...(value.contentType && { contentType: value.contentType }),
    };
  const text = JSON.stringify(value, null, 2) ?? 'null';
  if (text.length <= INLINE_TEXT_MAX) return { kind: 'inline', text };
  return { kind: 'large', text, bytes: new TextEncoder().encode(text).length };
}

/** A step of a run as far as its successors' input goes. */
export interface RanStep {
  stepId: string;
  name: string;
  status: string;
  output?: unknown;
}

/**
 * The input a step received, rebuilt from its predecessors' states the way the engine built it
 * (domain/flow-run.ts `stepInput`): one predecessor → its output (null if it failed); several → an object keyed by
 * the names of those that ran (a repeated name keyed by step ID), a failed one → null. Undefined when none ran (the
 * step then never ran either). `predecessorIds` in workflow order.
 */
export function rebuiltInput(predecessorIds: readonly string[], steps: readonly RanStep[]): unknown {
  const byId = new Map(steps.map((step) => [step.stepId, step]));
  const ran = predecessorIds
    .map((id) => byId.get(id))
    .filter((step): step is RanStep => step?.status === 'Succeeded' || step?.status === 'Failed');
  if (ran.length === 0) return undefined;
  const valueOf = (step: RanStep) => (step.status === 'Succeeded' ? (step.output ?? null) : null);
  if (predecessorIds.length === 1) return valueOf(ran[0]!);
  const names = new Set<string>();
  return Object.fromEntries(
    ran.map((step) => {
      const key = names.has(step.name) ? step.stepId : step.name;
      names.add(step.name);
      return [key, valueOf(step)];
    }),
  );
}
