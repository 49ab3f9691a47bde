/**
 * Custom Temporal search attributes carried by every flow run. Registered on the dev server with
 * `--search-attribute` and idempotently at startup against other clusters. Pure constants: safe in workflows.
 */
export const SEARCH_ATTRIBUTES = {
  OrchestratedFlowId: 'Keyword',
  OrchestratedFlowName: 'Keyword',
  FlowTrigger: 'Keyword',
  CorrelationId: 'Keyword',
} as const;

export type SearchAttributeName = keyof typeof SEARCH_ATTRIBUTES;
