import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom Temporal search attributes carried by every flow run. Registered on the dev server with
 * `--search-attribute` and idempotently at startup against other clusters. Safe in workflows.
 */
export const SEARCH_ATTRIBUTES = {
  OrchestratedFlowId: 'Keyword',
  OrchestratedFlowName: 'Keyword',
  FlowTrigger: 'Keyword',
  CorrelationId: 'Keyword',
} as const;

export type SearchAttributeName = keyof typeof SEARCH_ATTRIBUTES;

/** Typed keys for setting and reading the attributes above. */
export const FLOW_ID_ATTRIBUTE = defineSearchAttributeKey('OrchestratedFlowId', SearchAttributeType.KEYWORD);
export const FLOW_NAME_ATTRIBUTE = defineSearchAttributeKey(
  'OrchestratedFlowName',
  SearchAttributeType.KEYWORD,
);
export const FLOW_TRIGGER_ATTRIBUTE = defineSearchAttributeKey('FlowTrigger', SearchAttributeType.KEYWORD);
export const CORRELATION_ID_ATTRIBUTE = defineSearchAttributeKey(
  'CorrelationId',
  SearchAttributeType.KEYWORD,
);
