/**
 * Flows as code: a flow's bundle (export), the bundle JSON Schema, and Plan and Apply of edited YAML, through the
 * same routes `flowctl export|plan|apply` use.
 */
import { useQuery } from '@tanstack/react-query';
import { stringify } from 'yaml';
import { api, unwrap } from './client';
import type { operations } from './schema';

export type BundleResult = operations['Bundle.plan']['responses'][200]['content']['application/json'];
export type BundleChange = NonNullable<BundleResult['changes']>[number];

/** A bundle as YAML, one document per entity (as `flowctl export` writes it). */
export const bundleToYaml = (documents: readonly unknown[]): string =>
  documents.map((doc) => stringify(doc, { lineWidth: 0 })).join('---\n');

/** The flow `name@version` and everything it references, as YAML. */
export function useBundleExport(flow: string | undefined) {
  return useQuery({
    queryKey: ['bundle', flow],
    enabled: flow !== undefined,
    queryFn: async () =>
      bundleToYaml(
        unwrap(await api.GET('/api/Bundle/export', { params: { query: { flow: flow! } } })).documents ?? [],
      ),
    staleTime: Infinity,
  });
}

/** The bundle JSON Schema (public), for the editor's markers, completion and hover. */
export function useBundleSchema() {
  return useQuery({
    queryKey: ['schemas', 'bundle'],
    queryFn: async () => {
      const response = await fetch('/schemas/bundle.json', { credentials: 'same-origin' });
      if (!response.ok) throw new Error(`The bundle schema could not be loaded (HTTP ${response.status}).`);
      return (await response.json()) as { $defs?: Record<string, unknown> };
    },
    staleTime: Infinity,
  });
}

/** The YAML as it is (openapi-fetch would send a body as JSON). */
const yamlBody = {
  bodySerializer: (body: unknown) => String(body),
  headers: { 'content-type': 'application/yaml' },
} as const;

/** What applying `text` would do (nothing is written). @throws ApiError with the API's problems */
export const planBundle = async (text: string): Promise<BundleResult> =>
  unwrap(await api.POST('/api/Bundle/plan', { body: text, ...yamlBody }));

/** Applies `text`, all or nothing. @throws ApiError with the API's problems */
export const applyBundle = async (text: string): Promise<BundleResult> =>
  unwrap(await api.POST('/api/Bundle/apply', { body: text, ...yamlBody }));

/** The ID of the flow `name@version` (for a link to its page). */
export async function flowIdOf(name: string, version: string): Promise<string> {
  const flow = unwrap(
    await api.GET('/api/OrchestratedFlow/composite/{version}/{name}', {
      params: { path: { name, version } },
    }),
  );
  return flow.id;
}
