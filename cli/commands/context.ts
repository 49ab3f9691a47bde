import { parseRef } from '../../api/bundle/document';
import { CliError, EXIT, type FlowApi } from '../client';
import type { Out } from '../output';

/** What every command gets: the API (resolved on first use) and the output. */
export interface Context {
  api(): Promise<FlowApi>;
  out: Out;
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface Named {
  id: string;
  name: string;
  version: string;
}

/** An entity by `name@version` or ID. @throws CliError (exit 1) when there is none, (exit 4) for a malformed ref. */
export async function findEntity(api: FlowApi, kind: string, ref: string): Promise<Named> {
  if (UUID.test(ref)) return (await api.request<Named>('GET', `/api/${kind}/${ref}`)).body;
  const parsed = parseRef(ref);
  if (!parsed) throw new CliError(`"${ref}" is not name@version or an ID`, EXIT.usage);
  const answer = await api.request<Named>(
    'GET',
    `/api/${kind}/composite/${encodeURIComponent(parsed.version)}/${encodeURIComponent(parsed.name)}`,
    { accept: [404] },
  );
  if (answer.status === 404) throw new CliError(`no ${kind} ${ref}`, EXIT.failed);
  return answer.body;
}
