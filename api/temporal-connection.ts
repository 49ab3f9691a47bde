import {
  Connection,
  defaultGrpcRetryOptions,
  makeGrpcRetryInterceptor,
  type ConnectionOptions,
} from '@temporalio/client';

import type { TemporalConnectionOptions } from '../infra/temporal-connection';

type Interceptor = NonNullable<ConnectionOptions['interceptors']>[number];

const backoff = defaultGrpcRetryOptions();

/**
 * The SDK's default gRPC retry (same codes, same backoff), except that it never schedules a retry past the call's
 * deadline. The default keeps a retry timer pending after the deadline, and when the connection is closed before
 * that timer fires the retry throws "Channel has been shut down" as an uncaught exception (e.g. a `/health` check
 * while Temporal is down, then shutdown).
 */
export const deadlineAwareRetry: Interceptor = (options, nextCall) => {
  const deadline = options.deadline === undefined ? Infinity : Number(options.deadline);
  let delayMs = 0;
  return makeGrpcRetryInterceptor({
    retryableDecider: (attempt, status) => {
      if (!backoff.retryableDecider(attempt, status)) return false;
      delayMs = backoff.delayFunction(attempt, status);
      return Date.now() + delayMs < deadline;
    },
    delayFunction: () => delayMs,
  })(options, nextCall);
};

/**
 * A lazily connecting Temporal client connection whose retries respect call deadlines. Takes an address, or the
 * full options (TLS, API key) from `infra/temporal-connection.ts`.
 */
export function lazyTemporalConnection(target: string | TemporalConnectionOptions): Connection {
  const options = typeof target === 'string' ? { address: target } : target;
  return Connection.lazy({ ...options, interceptors: [deadlineAwareRetry] });
}
