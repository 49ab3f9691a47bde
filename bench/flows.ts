/**
 * The benchmark's flow definitions, created through the REST API (the same validation and storage a user's flows go
 * through): a chain, a fan-out with a join, and many orchestrated flows over one short chain for saturation.
 */
import { randomUUID } from 'node:crypto';
import { NOOP } from './constants';
import type { BenchStep } from './workflows';

export interface BenchFlow {
  flowId: string;
  flowName: string;
  /** The workflow's steps, in workflow order. */
  steps: BenchStep[];
}

export interface FanOutFlow extends BenchFlow {
  entry: BenchStep;
  branches: BenchStep[];
  join: BenchStep;
}

/** Raised when the API refuses a definition; names the request and the answer. */
export class BenchDefinitionError extends Error {
  override name = 'BenchDefinitionError';
}

/** The fields of an answer the benchmark reads. */
interface Entity {
  id: string;
  name: string;
  workflowId?: string;
}

interface StepSpec {
  name: string;
  next: string[];
}

const pad = (i: number, total: number) => String(i + 1).padStart(String(total).length, '0');

/** Creates the definitions through the API at `apiUrl`. */
export class FlowFactory {
  private processorId: string | undefined;

  constructor(
    private readonly apiUrl: string,
    private readonly apiKey: string,
    /** The processor every step runs (registered by its worker). */
    private readonly processorRef: { name: string; version: string } = NOOP,
  ) {}

  /** step-1 → step-2 → … → step-N. */
  async chain(length: number, label = `chain-${length}`): Promise<BenchFlow> {
    const names = Array.from({ length }, (_, i) => `step-${pad(i, length)}`);
    return this.flow(
      label,
      names.map((name, i) => ({ name, next: i + 1 < length ? [names[i + 1]!] : [] })),
    );
  }

  /** entry → branch-1 … branch-W (concurrently) → join. */
  async fanOut(width: number): Promise<FanOutFlow> {
    const branches = Array.from({ length: width }, (_, i) => `branch-${pad(i, width)}`);
    const flow = await this.flow(`fanout-${width}`, [
      { name: 'entry', next: branches },
      ...branches.map((name) => ({ name, next: ['join'] })),
      { name: 'join', next: [] },
    ]);
    return { ...flow, entry: flow.steps[0]!, branches: flow.steps.slice(1, -1), join: flow.steps.at(-1)! };
  }

  /** Another orchestrated flow over the workflow of `flow` (its own manual-run workflow ID). */
  async sameWorkflow(flow: BenchFlow, label: string): Promise<BenchFlow> {
    const created = await this.post('OrchestratedFlow', {
      version: '1.0',
      name: `${label}-${suffix()}`,
      workflowId: await this.workflowIdOf(flow.flowId),
    });
    return { flowId: created.id, flowName: created.name, steps: flow.steps };
  }

  private async flow(label: string, specs: StepSpec[]): Promise<BenchFlow> {
    const processorId = await this.processor();
    const version = `1.0-${suffix()}`;
    const ids = new Map<string, string>();
    // Next steps must exist first: create from the last step back.
    for (const spec of [...specs].reverse()) {
      const step = await this.post('Step', {
        version,
        name: spec.name,
        processorId,
        nextStepIds: spec.next.map((name) => ids.get(name)),
      });
      ids.set(spec.name, step.id);
    }
    const steps = specs.map(({ name }) => ({ id: ids.get(name)!, name }));
    const workflow = await this.post('Workflow', {
      version: '1.0',
      name: `${label}-${suffix()}`,
      stepIds: steps.map((s) => s.id),
    });
    const flow = await this.post('OrchestratedFlow', {
      version: '1.0',
      name: `${label}-${suffix()}`,
      workflowId: workflow.id,
    });
    return { flowId: flow.id, flowName: flow.name, steps };
  }

  private async processor(): Promise<string> {
    const { name, version } = this.processorRef;
    this.processorId ??= (await this.get(`Processor/composite/${version}/${name}`)).id;
    return this.processorId;
  }

  private async workflowIdOf(flowId: string): Promise<string> {
    const { workflowId } = await this.get(`OrchestratedFlow/${flowId}`);
    if (!workflowId) throw new BenchDefinitionError(`OrchestratedFlow ${flowId} has no workflowId`);
    return workflowId;
  }

  private get(route: string) {
    return this.request('GET', route, undefined, 200);
  }

  private post(entity: string, body: object) {
    return this.request('POST', entity, body, 201);
  }

  /** @throws BenchDefinitionError when the answer is not `expected`. */
  private async request(
    method: string,
    route: string,
    body: object | undefined,
    expected: number,
  ): Promise<Entity> {
    const response = await fetch(`${this.apiUrl}/api/${route}`, {
      method,
      headers: {
        authorization: `Bearer ${this.apiKey}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    if (response.status !== expected)
      throw new BenchDefinitionError(`${method} /api/${route} answered ${response.status}: ${text}`);
    return JSON.parse(text) as Entity;
  }
}

const suffix = () => randomUUID().slice(0, 8);
