/**
 * A definition in pages (issue 14 §2): a 10,000-step snapshot does not fit one Temporal payload, so a long run loads
 * it page by page — a head (everything but the steps, with each processor once) and steps in workflow order, naming
 * their processors by index. Pure: the orchestrator's activity pages, the interpreter puts the pages together.
 */
import type { FlowSnapshot, SnapshotProcessor, SnapshotStep } from './flow-types';

/** A page's JSON stays under this (Temporal refuses payloads over 2 MB; markers hold the page). */
export const PAGE_BYTES = 512 * 1024;
/** A step as a page carries it: its processors as indexes into {@link SnapshotHead.processors}. */
export type PagedStep = Omit<SnapshotStep, 'processor' | 'compensation'> & {
  processor: number | null;
  compensation?: { processor: number | null; configuration: Record<string, unknown> | null };
};

/** Everything of a snapshot but its steps: on the first page. */
export type SnapshotHead = Omit<FlowSnapshot, 'steps'> & { processors: SnapshotProcessor[] };

export interface SnapshotPage {
  /** The definition's blob (SHA-256 of its JSON): later pages and later segments load by it. */
  ref: string;
  page: number;
  pages: number;
  /** Page 0 only. */
  head?: SnapshotHead;
  steps: PagedStep[];
}

export interface Paged {
  head: SnapshotHead;
  pages: PagedStep[][];
}

/** Splits a snapshot into a head (with its processors, each once) and pages of steps in workflow order. */
export function pageSnapshot(snapshot: FlowSnapshot, pageBytes = PAGE_BYTES): Paged {
  const { steps, ...rest } = snapshot;
  const processors: SnapshotProcessor[] = [];
  const indexOf = new Map<string, number>();
  const index = (processor: SnapshotProcessor | null): number | null => {
    if (!processor) return null;
    let found = indexOf.get(processor.id);
    if (found === undefined) {
      found = processors.push(processor) - 1;
      indexOf.set(processor.id, found);
    }
    return found;
  };
  const pages: PagedStep[][] = [[]];
  let bytes = 0;
  for (const id of snapshot.stepIds) {
    const step = Object.hasOwn(steps, id) ? steps[id] : undefined;
    if (!step) continue;
    const { processor, compensation, ...plain } = step;
    const paged: PagedStep = {
      ...plain,
      processor: index(processor),
      ...(compensation
        ? {
            compensation: {
              processor: index(compensation.processor),
              configuration: compensation.configuration,
            },
          }
        : {}),
    };
    const size = JSON.stringify(paged).length + 1; // and its comma
    const current = pages[pages.length - 1]!;
    if (current.length > 0 && bytes + size > pageBytes) {
      pages.push([paged]);
      bytes = size;
    } else {
      current.push(paged);
      bytes += size;
    }
  }
  return { head: { ...rest, processors }, pages };
}

/** The snapshot again, from its head and every page (what the interpreter does with the pages it loads). */
export function unpageSnapshot(head: SnapshotHead, pages: readonly PagedStep[][]): FlowSnapshot {
  const { processors, ...rest } = head;
  const processor = (index: number | null) => (index === null ? null : (processors[index] ?? null));
  const steps: Record<string, SnapshotStep> = {};
  for (const page of pages)
    for (const { processor: p, compensation, ...plain } of page)
      steps[plain.id] = {
        ...plain,
        processor: processor(p),
        ...(compensation
          ? {
              compensation: {
                processor: processor(compensation.processor),
                configuration: compensation.configuration,
              },
            }
          : {}),
      };
  return { ...rest, steps };
}
