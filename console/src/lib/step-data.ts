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
