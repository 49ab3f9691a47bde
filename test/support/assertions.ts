import assert from 'node:assert/strict';
import type { JsonResponse } from './api';

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** The field and rule of one problem detail; `message` is checked too when given. */
export interface ExpectedDetail {
  field: string;
  rule: string;
  message?: string | RegExp;
}

/**
 * Asserts an error response: the status, the `error` code, a non-empty message, no stack trace, and (when given)
 * exactly these details, in order, by field and rule.
 */
export function assertError(
  response: JsonResponse,
  status: number,
  error: string,
  details?: readonly ExpectedDetail[],
): void {
  const shown = JSON.stringify(response.body);
  assert.equal(response.status, status, `expected ${status} ${error}, got ${response.status}: ${shown}`);
  const body = response.body as {
    error?: unknown;
    message?: unknown;
    details?: Array<Record<string, unknown>>;
  };
  assert.equal(body.error, error, shown);
  assert.equal(typeof body.message, 'string', shown);
  assert.ok((body.message as string).length > 0, shown);
  assertNoStack(response.body);
  if (details === undefined) return;
  assert.ok(Array.isArray(body.details), `no details in ${shown}`);
  assert.deepEqual(
    body.details.map((d) => ({ field: d.field, rule: d.rule })),
    details.map((d) => ({ field: d.field, rule: d.rule })),
    shown,
  );
  details.forEach((expected, index) => {
    const actual = body.details![index]!;
    assert.equal(typeof actual.message, 'string', shown);
    if (typeof expected.message === 'string') assert.equal(actual.message, expected.message, shown);
    else if (expected.message) assert.match(actual.message as string, expected.message, shown);
  });
}

/** Asserts that nothing in a response body looks like a stack trace or an internal error. */
export function assertNoStack(body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body ?? null);
  assert.doesNotMatch(
    text,
    /\bat .+\(.*:\d+:\d+\)|\.ts:\d+|node_modules|"stack"/,
    `stack trace leaked: ${text}`,
  );
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
