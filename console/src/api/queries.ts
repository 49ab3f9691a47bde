/**
 * Every read the console makes, as TanStack Query hooks over the typed client: one cache, no second source of truth.
 * A run is polled every second while it is open (and while it is on screen); lists refresh less often.
 */
import { useQueries, useQuery, type UseQueryResult } from '@tanstack/react-query';
import type { GraphView } from '../lib/graph';
import { splitProcessor } from '../lib/graph';
import type { InputSchema } from '../lib/input-validation';
import { isLiveRun, isOpenRun } from '../lib/status';
import { api, totalOf, unwrap } from './client';
import { isApiError } from './errors';
import type { components } from './schema';

export type OrchestratedFlow = components['schemas']['OrchestratedFlow'];
export type Workflow = components['schemas']['Workflow'];
export type Processor = components['schemas']['Processor'];
export type SchemaEntity = components['schemas']['Schema'];
export type FlowSchedule = components['schemas']['FlowSchedule'];
export type Run = components['schemas']['Run'];
export type RunStep = Run['steps'][number];
export type RunListItem = components['schemas']['RunListItem'];

const PAGE = 1000;

/** Every page of a list route (the API caps a page at 1,000). */
async function allPages<T>(
  fetchPage: (offset: number) => Promise<{ data?: T[]; error?: unknown; response: Response }>,
): Promise<T[]> {
  const items: T[] = [];
  for (;;) {
    const result = await fetchPage(items.length);
    const page = unwrap(result);
    items.push(...page);
    const total = totalOf(result.response);
    if (page.length < PAGE || (total !== undefined && items.length >= total)) return items;
  }
}

export const flowKeys = {
  all: ['flows'] as const,
  one: (id: string) => ['flow', id] as const,
  runs: (id: string) => ['runs', id] as const,
  lastRun: (id: string) => ['runs', id, 'last'] as const,
  run: (id: string, runId: string) => ['run', id, runId] as const,
  schedule: (id: string) => ['schedule', id] as const,
};

export function useFlows() {
  return useQuery({
    queryKey: flowKeys.all,
    queryFn: () =>
      allPages((offset) => api.GET('/api/OrchestratedFlow', { params: { query: { limit: PAGE, offset } } })),
    staleTime: 30_000,
  });
}

/** Workflow names by ID (the flows list shows each flow's workflow). */
export function useWorkflowNames() {
  return useQuery({
    queryKey: ['workflows', 'names'],
    queryFn: async () => {
      const workflows = await allPages((offset) =>
        api.GET('/api/Workflow', { params: { query: { limit: PAGE, offset } } }),
      );
      return new Map(workflows.map((w) => [w.id, `${w.name}@${w.version}`]));
    },
    staleTime: 60_000,
  });
}

export function useFlow(id: string) {
  return useQuery({
    queryKey: flowKeys.one(id),
    queryFn: async () => unwrap(await api.GET('/api/OrchestratedFlow/{id}', { params: { path: { id } } })),
  });
}

export function useGraph(workflowId: string | undefined) {
  return useQuery({
    queryKey: ['graph', workflowId],
    enabled: workflowId !== undefined,
    queryFn: async () =>
      unwrap(
        await api.GET('/api/Workflow/{id}/graph', {
          params: { path: { id: workflowId! }, query: { format: 'json' } },
        }),
      ) as GraphView,
    staleTime: 30_000,
  });
}

/** The flow's runs, newest first; refreshed every 2 s while one is open, else every 15 s. */
export function useRuns(flowId: string) {
  return useQuery({
    queryKey: flowKeys.runs(flowId),
    queryFn: async () =>
      unwrap(
        await api.GET('/api/Orchestration/runs/{orchestratedFlowId}', {
          params: { path: { orchestratedFlowId: flowId }, query: { limit: 100 } },
        }),
      ),
    refetchInterval: (query) => (query.state.data?.some((run) => isOpenRun(run.status)) ? 2000 : 15_000),
  });
}

/** A flow's latest run, for the flows list (`enabled` once its row has been on screen a moment). */
export function useLastRun(flowId: string, enabled: boolean) {
  return useQuery({
    queryKey: flowKeys.lastRun(flowId),
    enabled,
    queryFn: async () =>
      unwrap(
        await api.GET('/api/Orchestration/runs/{orchestratedFlowId}', {
          params: { path: { orchestratedFlowId: flowId }, query: { limit: 1 } },
        }),
      )[0] ?? null,
    staleTime: 30_000,
  });
}

/**
 * One run's status, polled every second while it is open (Running, Paused) or its compensations run; no polling once
 * it closed or when not shown.
 */
export function useRun(flowId: string, runId: string | undefined) {
  return useQuery({
    queryKey: flowKeys.run(flowId, runId ?? ''),
    enabled: runId !== undefined,
    queryFn: async () =>
      unwrap(
        await api.GET('/api/Orchestration/runs/{orchestratedFlowId}/{runId}', {
          params: { path: { orchestratedFlowId: flowId, runId: runId! } },
        }),
      ),
    refetchInterval: (query) =>
      query.state.data === undefined || isLiveRun(query.state.data) ? 1000 : false,
    // A run just started may not be visible yet: keep asking.
    retry: (count, error) => count < 5 && (!isApiError(error) || error.status === 404 || error.status >= 500),
    retryDelay: 500,
  });
}

/** The flow's schedule (only for flows with a cron expression); null when the API says there is none. */
export function useSchedule(flowId: string, enabled: boolean) {
  return useQuery({
    queryKey: flowKeys.schedule(flowId),
    enabled,
    queryFn: async (): Promise<FlowSchedule | null> => {
      try {
        return unwrap(
          await api.GET('/api/OrchestratedFlow/{id}/schedule', { params: { path: { id: flowId } } }),
        );
      } catch (error) {
        if (isApiError(error) && error.code === 'NoSchedule') return null;
        throw error;
      }
    },
    staleTime: 30_000,
  });
}

const processorQuery = (processor: string) => ({
  queryKey: ['processor', processor] as const,
  queryFn: async (): Promise<Processor> => {
    const ref = splitProcessor(processor);
    if (!ref) throw new Error(`not a processor reference: ${processor}`);
    return unwrap(await api.GET('/api/Processor/composite/{version}/{name}', { params: { path: ref } }));
  },
  staleTime: 5 * 60_000,
});

const schemaQuery = (id: string | undefined) => ({
  queryKey: ['schema', id] as const,
  enabled: id !== undefined,
  queryFn: async (): Promise<SchemaEntity> =>
    unwrap(await api.GET('/api/Schema/{id}', { params: { path: { id: id! } } })),
  staleTime: 5 * 60_000,
});

/** A processor by its `name@version` (the graph's nodes name it so). */
export const useProcessor = (processor: string | undefined) =>
  useQuery({ ...processorQuery(processor ?? ''), enabled: processor !== undefined });

/** The input schemas of the entry steps' processors, for checking a run's input before it is sent. */
export function useEntrySchemas(view: GraphView | undefined): {
  schemas: InputSchema[];
  isPending: boolean;
  error: unknown;
} {
  const entries = (view?.nodes ?? []).filter((node) => node.entryPoint);
  const processors = useQueries({ queries: entries.map((node) => processorQuery(node.processor)) });
  const schemas: Array<UseQueryResult<SchemaEntity>> = useQueries({
    queries: processors.map((p) => schemaQuery(p.data?.inputSchemaId)),
  });
  const all = [...processors, ...schemas];
  return {
    isPending: all.some((q) => q.isPending && q.fetchStatus !== 'idle'),
    error: all.find((q) => q.error)?.error,
    schemas: entries.flatMap((node, i) => {
      const schema = schemas[i]?.data;
      return schema
        ? [
            {
              stepName: node.name,
              schemaName: `${schema.name}@${schema.version}`,
              definition: schema.definition,
            },
          ]
        : [];
    }),
  };
}
