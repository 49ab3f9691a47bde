/**
 * The interpreter's for-each activity (a local activity on the orchestrator): a for-each step's items, from a JSONata
 * expression over the step's input. References in the input are resolved first; items too large to travel inline
 * go back to the blob store and travel as references (the processor SDK resolves them).
 */
import { ApplicationFailure } from '@temporalio/common';
import jsonata from 'jsonata';
import { offload, resolveRefs, type BlobOwner, type DataPlane } from './sdk';

/** Failure type of an expression that does not compile or evaluate (non-retryable: the step fails). */
export const FOR_EACH_ITEMS_INVALID = 'ForEachItemsInvalid';

export interface ForEachItemsRequest {
  expression: string;
  input: unknown;
  /** The run the items' blobs belong to. */
  owner: BlobOwner;
}

/**
 * Evaluates a for-each expression: an array is the list of items; nothing (no match) is the empty list; any other
 * value is a list of one (JSONata answers a single match unwrapped).
 */
export async function evaluateItems(expression: string, input: unknown): Promise<unknown[]> {
  let result: unknown;
  try {
    result = (await jsonata(expression).evaluate(input)) as unknown;
  } catch (error) {
    const message = (error as { message?: unknown }).message;
    throw ApplicationFailure.nonRetryable(
      `forEach.items ${JSON.stringify(expression)} could not be evaluated: ${typeof message === 'string' ? message : String(error)}`,
      FOR_EACH_ITEMS_INVALID,
    );
  }
  if (result === undefined) return [];
  // JSONata marks its result sequences with extra properties: copy into a plain array.
  return Array.isArray(result) ? Array.from(result as unknown[]) : [result];
}

export function createForEachActivities(deps: { data?: DataPlane }) {
  return {
    /** A for-each step's items (see {@link evaluateItems}); large items as references. */
    async forEachItems(request: ForEachItemsRequest): Promise<unknown[]> {
      const data = deps.data;
      const input = data ? await resolveRefs(request.input, data.store) : request.input;
      const items = await evaluateItems(request.expression, input);
      return data ? Promise.all(items.map((item) => offload(item, data, request.owner))) : items;
    },
  };
}

export type ForEachActivities = ReturnType<typeof createForEachActivities>;
