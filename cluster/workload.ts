/**
 * The load of the production-shape test, all through the REST API: flow shapes (chains, fan-out/join, data over the
 * by-reference threshold) built from the test processor, flows to run them, two scheduled flows, the starts and the
 * status polling. Every answer's status is recorded.
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** An answer of the API: its status and its JSON body (`{ text }` when the body is not a JSON object). */
export interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/** A string field of an answer's body. @throws Error naming the field and the body when it is not a string. */
export function field(answer: Answer, key: string): string {
  const value = answer.body[key];
  if (typeof value !== 'string')
    throw new Error(`no "${key}" in ${JSON.stringify(answer.body).slice(0, 300)}`);
  return value;
}

/** Every answer of the API by route, and each 5xx in full. */
export class ApiRecorder {
  readonly counts = new Map<string, Map<string, number>>();
  readonly serverErrors: Array<{ at: string; route: string; status: number; body: string }> = [];

  constructor(
    readonly baseUrl: string,
    private readonly key: string,
  ) {}

  /**
   * Calls the API; `route` names the route for the tally (e.g. `POST /api/Orchestration/start/{id}`). Resolves
   * undefined when no answer came (connection refused or reset, or 20 s without one) — counted as `no answer`.
   */
  async call(
    route: string,
    url: string,
    options: { body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<Answer | undefined> {
    const method = route.split(' ')[0]!;
    let outcome: string;
    try {
      const response = await fetch(`${this.baseUrl}${url}`, {
        method,
        headers: {
          authorization: `Bearer ${this.key}`,
          ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...options.headers,
        },
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: AbortSignal.timeout(20_000),
      });
      const text = await response.text();
      outcome = String(response.status);
      this.count(route, outcome);
      if (response.status >= 500)
        this.serverErrors.push({
          at: new Date().toISOString(),
          route,
          status: response.status,
          body: text.slice(0, 500),
        });
      let body: Record<string, unknown> = { text };
      try {
        const parsed: unknown = JSON.parse(text);
        if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed))
          body = parsed as Record<string, unknown>;
      } catch {
        // not JSON: keep the text
      }
      return { status: response.status, body };
    } catch {
      this.count(route, 'no answer');
      return undefined;
    }
  }

  private count(route: string, outcome: string): void {
    const byOutcome = this.counts.get(route) ?? new Map<string, number>();
    byOutcome.set(outcome, (byOutcome.get(outcome) ?? 0) + 1);
    this.counts.set(route, byOutcome);
  }
}

/** Calls until the answer has one of `ok` statuses; anything else is retried (an outage) until `timeoutMs`. */
export async function callUntil(
  api: ApiRecorder,
  route: string,
  url: string,
  ok: number[],
  options: { body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<Answer> {
  const deadline = Date.now() + (options.timeoutMs ?? 180_000);
  let last = 'no answer';
  while (Date.now() < deadline) {
    const answer = await api.call(route, url, options);
    if (answer && ok.includes(answer.status)) return answer;
    last = answer ? `${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}` : 'no answer';
    // A client error other than an outage's or a rate limit will not go away.
    if (answer && answer.status >= 400 && answer.status < 500 && ![404, 409, 429].includes(answer.status))
      break;
    await sleep(1_000);
  }
  throw new Error(`${route} (${url}): last answer ${last}`);
}

export interface ShapeStep {
  name: string;
  next: string[];
  workMs: number;
  outputBytes: number;
}

export interface Shape {
  name: string;
  steps: ShapeStep[];
  /** Size of the run input's `blob` (over 64 KiB: the API stores it and passes a reference). */
  inputBytes: number;
}

const step = (name: string, next: string[], workMs: number, outputBytes = 64): ShapeStep => ({
  name,
  next,
  workMs,
  outputBytes,
});

/** The flow shapes, run in turn. Steps over 64 KiB of output travel by reference (INLINE_DATA_MAX_BYTES). */
export const SHAPES: Shape[] = [
  {
    name: 'chain',
    inputBytes: 100,
    steps: [
      step('a', ['b'], 300),
      step('b', ['c'], 300),
      step('c', ['d'], 300),
      step('d', ['e'], 300),
      step('e', [], 300),
    ],
  },
  {
    name: 'fan-out',
    inputBytes: 100,
    steps: [
      step('split', ['p1', 'p2', 'p3', 'p4', 'p5', 'p6'], 200),
      ...['p1', 'p2', 'p3', 'p4', 'p5', 'p6'].map((name) => step(name, ['join'], 600)),
      step('join', [], 200),
    ],
  },
  {
    name: 'large-diamond',
    inputBytes: 100_000,
    steps: [
      step('a', ['b', 'c'], 300, 150_000),
      step('b', ['d'], 300, 120_000),
      step('c', ['d'], 300, 80_000),
      step('d', [], 300),
    ],
  },
  {
    name: 'large-fan',
    inputBytes: 100,
    steps: [
      step('source', ['x', 'y', 'z'], 300, 300_000),
      step('x', ['sink'], 400),
      step('y', ['sink'], 400),
      step('z', ['sink'], 400),
      step('sink', [], 200),
    ],
  },
  { name: 'single', inputBytes: 100, steps: [step('only', [], 1_500)] },
];

export interface FlowDefinition {
  flowId: string;
  shape: Shape;
  /** Step name → step ID. */
  stepIds: Map<string, string>;
}

/** Creates each shape's steps (successors first) and workflow; answers step IDs and the workflow ID per shape. */
export async function createShapes(
  api: ApiRecorder,
  options: { processorId: string; ledgerDir: string; tag: string },
): Promise<Map<string, { workflowId: string; stepIds: Map<string, string> }>> {
  const shapes = new Map<string, { workflowId: string; stepIds: Map<string, string> }>();
  for (const shape of SHAPES) {
    const stepIds = new Map<string, string>();
    // Successors first: a step's nextStepIds must exist when it is created.
    const pending = [...shape.steps];
    while (pending.length > 0) {
      const index = pending.findIndex((candidate) => candidate.next.every((name) => stepIds.has(name)));
      if (index < 0) throw new Error(`shape ${shape.name} has a cycle`);
      const [spec] = pending.splice(index, 1);
      const created = await callUntil(api, 'POST /api/Step', '/api/Step', [201], {
        body: {
          version: '1.0',
          name: `${options.tag}-${shape.name}-${spec!.name}`,
          processorId: options.processorId,
          nextStepIds: spec!.next.map((name) => stepIds.get(name)!),
          entryCondition: 'PreviousSuccess',
          configuration: {
            ledgerDir: options.ledgerDir,
            workMs: spec!.workMs,
            outputBytes: spec!.outputBytes,
          },
        },
      });
      stepIds.set(spec!.name, field(created, 'id'));
    }
    const workflow = await callUntil(api, 'POST /api/Workflow', '/api/Workflow', [201], {
      body: { version: '1.0', name: `${options.tag}-${shape.name}`, stepIds: [...stepIds.values()] },
    });
    shapes.set(shape.name, { workflowId: field(workflow, 'id'), stepIds });
  }
  return shapes;
}

/** Creates `count` flows over the shapes in turn. */
export async function createFlows(
  api: ApiRecorder,
  shapes: Map<string, { workflowId: string; stepIds: Map<string, string> }>,
  count: number,
  tag: string,
): Promise<FlowDefinition[]> {
  const flows: FlowDefinition[] = [];
  for (let i = 0; i < count; i++) {
    const shape = SHAPES[i % SHAPES.length]!;
    const { workflowId, stepIds } = shapes.get(shape.name)!;
    const flow = await callUntil(api, 'POST /api/OrchestratedFlow', '/api/OrchestratedFlow', [201], {
      body: { version: '1.0', name: `${tag}-flow-${String(i).padStart(3, '0')}`, workflowId },
    });
    flows.push({ flowId: field(flow, 'id'), shape, stepIds });
  }
  return flows;
}

export interface StartedRun {
  flow: FlowDefinition;
  workflowId: string;
  runId: string;
  /** The API's last view of the run. */
  apiStatus: string;
}

/**
 * Starts each flow once, one every `intervalMs`, each start retried through outages with the same Idempotency-Key
 * (a retried start answers the run the first one started).
 */
export async function startRuns(
  api: ApiRecorder,
  flows: FlowDefinition[],
  intervalMs: number,
  onStarted: (run: StartedRun) => void,
): Promise<void> {
  const starts: Array<Promise<void>> = [];
  for (const [index, flow] of flows.entries()) {
    starts.push(
      callUntil(api, 'POST /api/Orchestration/start/{id}', `/api/Orchestration/start/${flow.flowId}`, [202], {
        body: { input: { n: index, blob: 'i'.repeat(flow.shape.inputBytes) } },
        headers: { 'Idempotency-Key': `cluster-start-${flow.flowId}` },
        timeoutMs: 300_000,
      }).then((answer) =>
        onStarted({
          flow,
          workflowId: field(answer, 'workflowId'),
          runId: field(answer, 'runId'),
          apiStatus: 'Running',
        }),
      ),
    );
    await sleep(intervalMs);
  }
  await Promise.all(starts);
}

const CLOSED = ['Completed', 'Failed', 'Cancelled', 'Terminated', 'TimedOut'];

/**
 * Polls each open run's status through the API (a few at a time) until every run started is closed, `done()` says
 * no more will start, or `timeoutMs` passes. Answers the runs still open.
 */
export async function pollUntilClosed(
  api: ApiRecorder,
  runs: StartedRun[],
  done: () => boolean,
  timeoutMs: number,
): Promise<StartedRun[]> {
  const deadline = Date.now() + timeoutMs;
  const open = () => runs.filter((run) => !CLOSED.includes(run.apiStatus));
  let cursor = 0;
  while (Date.now() < deadline && (!done() || open().length > 0)) {
    // In turn over the open runs, 8 at a time, so a long run never hides the others.
    const candidates = open();
    cursor = cursor >= candidates.length ? 0 : cursor;
    const batch = candidates.slice(cursor, cursor + 8);
    cursor += batch.length;
    await Promise.all(
      batch.map(async (run) => {
        const answer = await api.call(
          'GET /api/Orchestration/status/{id}',
          `/api/Orchestration/status/${run.flow.flowId}`,
        );
        if (answer?.status === 200 && answer.body.runId === run.runId)
          run.apiStatus = field(answer, 'status');
      }),
    );
    await sleep(batch.length === 0 ? 500 : 250);
  }
  return open();
}
