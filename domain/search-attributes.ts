import { defineSearchAttributeKey, SearchAttributeType, TypedSearchAttributes } from '@temporalio/common';
import type { RunTrigger } from './flow-types';

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

/**
 * The search attributes a run starts with, whoever starts it (the API, a schedule). A scheduled run has no
 * correlation ID yet: the interpreter draws one and upserts it.
 */
export function runSearchAttributes(run: {
  orchestratedFlowId: string;
  orchestratedFlowName: string;
  trigger: RunTrigger;
  correlationId?: string;
}): TypedSearchAttributes {
  return new TypedSearchAttributes([
    { key: FLOW_ID_ATTRIBUTE, value: run.orchestratedFlowId },
    { key: FLOW_NAME_ATTRIBUTE, value: run.orchestratedFlowName },
    { key: FLOW_TRIGGER_ATTRIBUTE, value: run.trigger },
    ...(run.correlationId ? [{ key: CORRELATION_ID_ATTRIBUTE, value: run.correlationId }] : []),
  ]);
}
