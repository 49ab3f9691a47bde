/** Links into the Temporal Web UI. Pure. */

/** The run's page in the Temporal Web UI: `{base}/namespaces/{ns}/workflows/{workflowId}/{runId}/history`. */
export function temporalRunUrl(base: string, namespace: string, workflowId: string, runId: string): string {
  const root = base.replace(/\/+$/, '');
  return `${root}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}/${encodeURIComponent(runId)}/history`;
}
