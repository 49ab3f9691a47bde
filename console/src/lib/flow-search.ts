/** The flows list's search: by name (and version), case- and accent-insensitive, every word must match. Pure. */

const fold = (text: string) => text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();

export function matchesSearch(flow: { name: string; version: string }, query: string): boolean {
  const words = fold(query).split(/\s+/).filter(Boolean);
  if (words.length === 0) return true;
  const haystack = fold(`${flow.name} ${flow.version}`);
  return words.every((word) => haystack.includes(word));
}

/** The flows matching `query`, by name then version. */
export function searchFlows<T extends { name: string; version: string }>(
  flows: readonly T[],
  query: string,
): T[] {
  return flows
    .filter((flow) => matchesSearch(flow, query))
    .sort(
      (a, b) =>
        a.name.localeCompare(b.name) || a.version.localeCompare(b.version, undefined, { numeric: true }),
    );
}
