/**
 * The interpreter's activities for long runs (local activities on the orchestrator, issue 14 §2). A run continues as
 * new before its history grows too large; each segment needs the definition again, and a 10,000-step definition does
 * not fit one payload. So the definition lives in the blob store by the hash of its JSON, and a segment loads it in
 * pages (domain/snapshot-pages.ts). The steps a segment no longer
 * needs go to the blob store too, as the segment's archive: the status route merges archives back in.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { FlowSnapshot, StepState } from '../domain/flow-types';
import { pageSnapshot, type Paged, type SnapshotPage } from '../domain/snapshot-pages';
import type { PrismaClient } from '../prisma/client';
import { FLOW_NOT_FOUND, loadFlowSnapshot } from './snapshot';
import type { BlobOwner, DataPlane } from './sdk';

/** Failure type when the orchestrator has no blob store to keep a long run's definition and archives in. */
export const NO_BLOB_STORE = 'NoBlobStore';

export type SnapshotPageRequest = { page: number; owner: BlobOwner } & (
  { orchestratedFlowId: string; ref?: undefined } | { ref: string; orchestratedFlowId?: undefined }
);

export function createSegmentActivities(deps: { prisma: PrismaClient; data?: DataPlane }) {
  // The few definitions running now, by blob hash: every page of every segment of a run reads the same one.
  const cache = new Map<string, Paged>();
  const remember = (ref: string, paged: Paged): Paged => {
    cache.delete(ref);
    cache.set(ref, paged);
    while (cache.size > 8) cache.delete(cache.keys().next().value!);
    return paged;
  };
  const store = () => {
    if (!deps.data)
      throw ApplicationFailure.nonRetryable(
        'a long run needs the blob store to keep its definition and archives; configure BLOB_STORE',
        NO_BLOB_STORE,
      );
    return deps.data.store;
  };

  const load = async (request: SnapshotPageRequest): Promise<{ ref: string; paged: Paged }> => {
    if (request.ref !== undefined) {
      const cached = cache.get(request.ref);
      if (cached) return { ref: request.ref, paged: remember(request.ref, cached) };
      const { bytes } = await store().get(request.ref);
      const snapshot = JSON.parse(bytes.toString('utf8')) as FlowSnapshot;
      return { ref: request.ref, paged: remember(request.ref, pageSnapshot(snapshot)) };
    }
    const snapshot = await loadFlowSnapshot(deps.prisma, request.orchestratedFlowId);
    if (!snapshot)
      throw ApplicationFailure.nonRetryable(
        `Orchestrated flow ${request.orchestratedFlowId} does not exist`,
        FLOW_NOT_FOUND,
      );
    const ref = await store().put(Buffer.from(JSON.stringify(snapshot)), 'application/json', request.owner);
    return { ref, paged: remember(ref, pageSnapshot(snapshot)) };
  };

  return {
    /**
     * One page of a run's definition: by flow ID the first time (the definition is stored by its hash then), by
     * that hash afterwards. Page 0 carries the head.
     * @throws ApplicationFailure FlowNotFound, NoBlobStore (non-retryable)
     */
    async loadSnapshotPage(request: SnapshotPageRequest): Promise<SnapshotPage> {
      const { ref, paged } = await load(request);
      const steps = paged.pages[request.page];
      if (!steps)
        throw ApplicationFailure.nonRetryable(
          `definition ${ref} has ${paged.pages.length} pages, not page ${request.page}`,
          'SnapshotPageMissing',
        );
      return {
        ref,
        page: request.page,
        pages: paged.pages.length,
        ...(request.page === 0 ? { head: paged.head } : {}),
        steps,
      };
    },

    /** Stores the states a segment hands over to its archive (JSON, workflow order); answers the blob's hash. */
    async saveRunArchive(request: { owner: BlobOwner; states: StepState[] }): Promise<string> {
      return store().put(Buffer.from(JSON.stringify(request.states)), 'application/json', request.owner);
    },
  };
}

export type SegmentActivities = ReturnType<typeof createSegmentActivities>;
