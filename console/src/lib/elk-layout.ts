/**
 * Runs the ELK layout (layered, left to right) in a Web Worker, so a 1,000-step graph never blocks the page. The
 * worker is elkjs's own script, served as a separate asset; where a worker cannot start, the caller keeps the
 * instant layer layout (graph.ts).
 */
import ELK from 'elkjs/lib/elk-api.js';
import elkWorkerUrl from 'elkjs/lib/elk-worker.min.js?url';
import { fromElkLayout, toElkGraph, type GraphView, type Positions } from './graph';

let elk: InstanceType<typeof ELK> | undefined;

export async function elkLayout(view: GraphView): Promise<Positions> {
  elk ??= new ELK({ workerUrl: elkWorkerUrl });
  return fromElkLayout(await elk.layout(toElkGraph(view)));
}
