/**
 * Large step data by reference (claim check): an output whose JSON is larger than the inline limit is stored in the
 * blob store and travels through Temporal as `{ "$ref": "blob:sha256:<hex>", "size": n }`; references are resolved
 * back into data before a processor runs. Processors never see references; the interpreter never opens them.
 */
import { NonRetryableError, RetryableError } from './errors';

export const DATA_REF_PREFIX = 'blob:sha256:';
/** The failure type of a reference whose blob is missing or corrupt (non-retryable). */
export const DATA_UNAVAILABLE = 'DataUnavailable';
export const DEFAULT_INLINE_DATA_MAX_BYTES = 64 * 1024;

/** A reference to data in the blob store. */
export interface DataRef {
  $ref: `${typeof DATA_REF_PREFIX}${string}`;
  size: number;
}

/** Which run a blob belongs to (retention deletes it some days after the run closed). */
export interface BlobOwner {
  workflowId: string;
  runId: string;
}

/** Where large data lives: Postgres or a shared filesystem (activities/data/). */
export interface BlobStore {
  /** Stores the bytes under their SHA-256 (idempotent) for `owner`; answers the hash. @throws on a store failure. */
  put(bytes: Buffer, contentType: string, owner: BlobOwner): Promise<string>;
  /** Records that `owner` holds an already stored blob too. */
  claim(hash: string, owner: BlobOwner): Promise<void>;
  /** The bytes of `hash`, checked against it. @throws BlobUnavailableError when missing or corrupt. */
  get(hash: string): Promise<{ bytes: Buffer; contentType: string }>;
}

/** A blob that is not there, or whose bytes do not match their hash. */
export class BlobUnavailableError extends Error {
  override name = 'BlobUnavailableError';
}

/** How a worker (or the API) moves large data: the store and the inline limit. */
export interface DataPlane {
  store: BlobStore;
  /** JSON larger than this travels by reference. */
  inlineMaxBytes: number;
}

export function isDataRef(value: unknown): value is DataRef {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    typeof (value as { $ref?: unknown }).$ref === 'string' &&
    (value as { $ref: string }).$ref.startsWith(DATA_REF_PREFIX) &&
    typeof (value as { size?: unknown }).size === 'number' &&
    Object.keys(value).length === 2
  );
}

export const refHash = (ref: DataRef) => ref.$ref.slice(DATA_REF_PREFIX.length);

/**
 * `value` itself when its JSON fits inline, otherwise a reference to it in the store.
 * @throws RetryableError (type BlobStoreUnavailable) when the store fails: another attempt may succeed.
 */
export async function offload(value: unknown, plane: DataPlane, owner: BlobOwner): Promise<unknown> {
  if (value === undefined) return value;
  const text = JSON.stringify(value);
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= plane.inlineMaxBytes) return value;
  let hash: string;
  try {
    hash = await plane.store.put(bytes, 'application/json', owner);
  } catch (error) {
    throw new RetryableError(
      `could not store ${bytes.length} bytes of step data: ${(error as Error).message}`,
      {
        type: 'BlobStoreUnavailable',
        cause: error,
      },
    );
  }
  return { $ref: `${DATA_REF_PREFIX}${hash}`, size: bytes.length } satisfies DataRef;
}

/** The data a reference points to. @throws NonRetryableError (DataUnavailable) naming the reference. */
export async function loadRef(ref: DataRef, store: BlobStore): Promise<unknown> {
  try {
    const { bytes } = await store.get(refHash(ref));
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch (error) {
    if (error instanceof BlobUnavailableError || error instanceof SyntaxError)
      throw new NonRetryableError(`${ref.$ref} cannot be read: ${error.message}`, {
        type: DATA_UNAVAILABLE,
        details: { ref: ref.$ref },
      });
    throw error;
  }
}

/**
 * `value` with every reference in it (at any depth) replaced by its data. Runs before every step: a value without
 * references comes back as the same object, not a copy.
 */
export async function resolveRefs(value: unknown, store: BlobStore): Promise<unknown> {
  if (isDataRef(value)) return loadRef(value, store);
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value);
  const resolved = await Promise.all(entries.map(([, item]) => resolveRefs(item, store)));
  if (resolved.every((item, index) => item === entries[index]![1])) return value;
  if (Array.isArray(value)) return resolved;
  return Object.fromEntries(entries.map(([key], index) => [key, resolved[index]]));
}
