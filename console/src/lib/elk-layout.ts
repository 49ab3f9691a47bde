/**
 * Runs the ELK layout (layered, left to right) in a Web Worker, so a 1,000-step graph never blocks the page. The
 * worker is elkjs's own script, served as a separate asset. Most of a first layout's cost is the worker starting
 * (parsing and warming up ELK), so `warmElk` starts it early, while the page still fetches the graph. Where a worker
 * cannot start, the caller keeps the instant layer layout (graph.ts).
 */
import ELK from 'elkjs/lib/elk-api.js';
import elkWorkerUrl from 'elkjs/lib/elk-worker.min.js?url';
import { fromElkLayout, toElkGraph, type GraphView, type Positions } from './graph';

let elk: InstanceType<typeof ELK> | undefined;
const instance = () => (elk ??= new ELK({ workerUrl: elkWorkerUrl }));

/** Starts the worker and runs a tiny layout, so the first real one does not pay for the warm-up. */
export function warmElk(): void {
  instance()
    .layout({ id: 'warm-up', children: [{ id: 'a', width: 1, height: 1 }], edges: [] })
    .catch(() => undefined);
}

/** The name of the performance measure each layout leaves (what `npm run bench -- --console` reads). */
export const LAYOUT_MEASURE = 'flow:elk-layout';

export async function elkLayout(view: GraphView): Promise<Positions> {
  const start = performance.now();
  const positions = fromElkLayout(await instance().layout(toElkGraph(view)));
  performance.measure(LAYOUT_MEASURE, { start, detail: { steps: view.nodes.length } });
  return positions;
}
