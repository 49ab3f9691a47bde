import type { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { SEARCH_ATTRIBUTES } from '../domain/search-attributes';

const INDEXED_TYPES: Record<string, temporal.api.enums.v1.IndexedValueType> = {
  Keyword: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  Text: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
  Int: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT,
  Datetime: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
};

/**
 * Registers our custom search attributes in `namespace` unless they exist (idempotent; safe from several processes
 * at once). Returns the names it added. The dev server gets them at launch; real clusters get them here.
 *
 * @throws Error when the server refuses (e.g. Temporal Cloud, where attributes are managed in the console).
 */
export async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<string[]> {
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = Object.entries(SEARCH_ATTRIBUTES).filter(
    ([name]) => !(customAttributes && name in customAttributes),
  );
  if (missing.length === 0) return [];
  try {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map(([name, type]) => [name, INDEXED_TYPES[type]!])),
    });
  } catch (error) {
    // Another process may have added them meanwhile; only fail if they are still missing.
    const again = await connection.operatorService.listSearchAttributes({ namespace });
    if (missing.some(([name]) => !(again.customAttributes && name in again.customAttributes))) throw error;
  }
  return missing.map(([name]) => name);
}
