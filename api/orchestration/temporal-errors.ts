import { isGrpcServiceError, ServiceError, type Connection } from '@temporalio/client';
import { ServiceUnavailableError } from '../errors';

// gRPC status codes that mean "Temporal cannot be reached right now".
const UNAVAILABLE = 14;
const DEADLINE_EXCEEDED = 4;
/** gRPC status of a call about something Temporal does not have (e.g. an unknown run). */
export const NOT_FOUND = 5;

/** The gRPC status code of a Temporal call's error, wherever it sits in the cause chain. */
export function grpcCode(error: unknown, depth = 0): number | undefined {
  if (depth > 4 || !error || typeof error !== 'object') return undefined;
  if (isGrpcServiceError(error)) return error.code;
  if (error instanceof ServiceError || error instanceof Error) return grpcCode(error.cause, depth + 1);
  return undefined;
}

/** True when an error from the Temporal client means the server is unreachable (answer 503). */
export function isTemporalUnavailable(error: unknown): boolean {
  const code = grpcCode(error);
  if (code === UNAVAILABLE || code === DEADLINE_EXCEEDED) return true;
  const message = error instanceof Error ? error.message : '';
  return /Failed to connect|No connection established|ECONNREFUSED|connect ECONNREFUSED|Deadline exceeded/i.test(
    message,
  );
}

/**
 * How long one API operation may wait on Temporal. Without a deadline the client's gRPC retries keep an unreachable
 * server's caller waiting about 20 s before the 503; with one they stop at it (see `deadlineAwareRetry`). Long
 * enough that a busy but reachable server (a loaded dev server creating a schedule) is not mistaken for a down one.
 */
export const TEMPORAL_CALL_TIMEOUT_MS = 10_000;

/**
 * Runs Temporal calls under a deadline of `timeoutMs` (calls inside `work` that set their own deadline keep it); an
 * unreachable server becomes a 503 ServiceUnavailableError.
 */
export async function callTemporal<T>(
  connection: Pick<Connection, 'withDeadline'>,
  work: () => Promise<T>,
  timeoutMs = TEMPORAL_CALL_TIMEOUT_MS,
): Promise<T> {
  try {
    return await connection.withDeadline(Date.now() + timeoutMs, work);
  } catch (error) {
    if (isTemporalUnavailable(error))
      throw new ServiceUnavailableError('Temporal', 'the Temporal server cannot be reached');
    throw error;
  }
}
