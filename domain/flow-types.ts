/**
 * The shapes that cross the workflow/activity boundary: the definition snapshot a run records, step states, and what
 * a processor receives. Types only (plus constants): safe inside the workflow sandbox.
 */

export const ENTRY_CONDITIONS = ['PreviousSuccess', 'PreviousFailure', 'Always', 'Never'] as const;
export type EntryCondition = (typeof ENTRY_CONDITIONS)[number];

export const STEP_STATUSES = ['Pending', 'Running', 'Succeeded', 'Failed', 'Skipped', 'Cancelled'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

export const RUN_STATUSES = [
  'Running',
  'Paused',
  'Completed',
  'Failed',
  'Cancelled',
  'Terminated',
  'TimedOut',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** How a run started: by hand, by its schedule, or as a rerun of an earlier run (`RunSummary.rerunOf`). */
export type RunTrigger = 'manual' | 'schedule' | 'rerun';

/** A Temporal retry policy override, in milliseconds. */
export interface StepRetryPolicy {
  maximumAttempts?: number;
  initialIntervalMs?: number;
  backoffCoefficient?: number;
  maximumIntervalMs?: number;
  nonRetryableErrorTypes?: string[];
}

export interface StepTimeouts {
  startToCloseMs?: number;
  scheduleToCloseMs?: number;
  heartbeatMs?: number;
}

/** An Address or Delivery assigned to a step in this orchestrated flow, resolved at snapshot time. */
export interface AssignedEntity {
  id: string;
  kind: 'Address' | 'Delivery';
  version: string;
  name: string;
  connectionString: string;
  configuration: Record<string, string>;
  schemaId: string | null;
}

export interface SnapshotProcessor {
  id: string;
  name: string;
  version: string;
  taskQueue: string;
  implementationHash: string;
  inputSchemaId: string;
  outputSchemaId: string;
  /** The processor's defaults; a step's own retryPolicy / timeouts override them field by field. */
  retryPolicy: StepRetryPolicy | null;
  timeouts: StepTimeouts | null;
}

export const FOR_EACH_FAILURE_POLICIES = ['failFast', 'collect'] as const;
export type ForEachFailurePolicy = (typeof FOR_EACH_FAILURE_POLICIES)[number];
/** Activities (steps and for-each items) a run has at once, unless its flow says otherwise. */
export const DEFAULT_MAX_CONCURRENT_STEPS = 100;
export const FOR_EACH_DEFAULT_MAX_PARALLEL = 10;
export const FOR_EACH_MAX_PARALLEL = 100;

/**
 * A step that runs its processor once per item: `items` is a JSONata expression over the step's input that yields
 * the list, or the literal `"assignments"` (one item per assigned Address / Delivery).
 */
export interface ForEachSpec {
  items: string;
  /** Items running at once (default 10, at most 100). */
  maxParallel?: number;
  /** `failFast` (default): the first failed item cancels the rest; `collect`: every item runs. */
  failurePolicy?: ForEachFailurePolicy;
}

/** What undoes a step's work when the run fails (saga): a processor and its configuration. */
export interface CompensationSpec {
  processorId: string;
  configuration?: Record<string, unknown> | null;
}

/** A step's compensation as the snapshot resolves it: `processor` is null when it no longer exists. */
export interface SnapshotCompensation {
  processor: SnapshotProcessor | null;
  configuration: Record<string, unknown> | null;
}

export interface SnapshotStep {
  id: string;
  version: string;
  name: string;
  entryCondition: EntryCondition;
  /** Next steps, in order (may name steps outside the workflow: validation reports them). */
  nextStepIds: string[];
  configuration: Record<string, unknown> | null;
  retryPolicy: StepRetryPolicy | null;
  timeouts: StepTimeouts | null;
  /** null when the step's processor no longer exists (validation reports it). */
  processor: SnapshotProcessor | null;
  assignments: AssignedEntity[];
  /** Present only on for-each steps (absent keeps the snapshots, and hashes, of other steps as they were). */
  forEach?: ForEachSpec;
  /** Present only on steps with a compensation. */
  compensation?: SnapshotCompensation;
}

/** Everything a run needs, loaded once by an activity and recorded in history. */
export interface FlowSnapshot {
  orchestratedFlow: { id: string; version: string; name: string };
  workflow: { id: string; version: string; name: string };
  /** The workflow's step list, in order. */
  stepIds: string[];
  /** Steps by ID: the workflow's steps (steps missing from the database are absent; validation reports them). */
  steps: Record<string, SnapshotStep>;
  /** The flow's own limit on steps (and for-each items) running at once; absent: the engine's default, 100. */
  maxConcurrentSteps?: number;
  /** SHA-256 of the snapshot's canonical JSON: which definition the run ran. */
  hash: string;
}

/** The interpreter's input: small on purpose; the definition is loaded by the first activity. */
export interface FlowRunInput {
  orchestratedFlowId: string;
  input?: unknown;
  /** Absent on scheduled runs (a schedule's action is fixed): the interpreter then gives the run its own. */
  correlationId?: string;
  trigger: RunTrigger;
  /** Concurrent steps at most (default 100). */
  maxConcurrentSteps?: number;
  /** A rerun: the run it repairs and the steps it carries over from it unchanged (see `RerunInput`). */
  rerun?: RerunInput;
  /**
   * The definition, when the starter already loaded it (manual starts do, to validate): recorded in the start
   * event, it spares the run its loading activity. Absent (scheduled runs, very large definitions): the run loads it.
   */
  snapshot?: FlowSnapshot;
  /**
   * The definition in the blob store (SHA-256 of its JSON), loaded in pages: later segments of a long run whose
   * definition did not travel inline.
   */
  snapshotRef?: string;
  /** Continue as new past this much history since the definition loaded, as well as when Temporal suggests it. */
  historyBudget?: HistoryBudget;
  /** A later segment of a long run (it continued as new): what the earlier segments decided. */
  continued?: ContinuedRun;
}

export interface HistoryBudget {
  events?: number;
  bytes?: number;
}

/** What a segment of a long run hands the next one (the continue-as-new input). */
export interface ContinuedRun {
  /** This segment's number: 2 for the first continuation. */
  segment: number;
  /** The first segment's run ID and start: the run's identity everywhere (status, data ownership, reruns). */
  runId: string;
  startedAt: string;
  /** Every step's status as a digit (`STEP_STATUSES` index), in workflow order. */
  codes: string;
  /** The decided states still needed: those with an undecided successor, and succeeded compensable steps. */
  kept: StepState[];
  /** The earlier segments' archives (blob hashes): every other decided state, in workflow order per archive. */
  archives: string[];
  /** Succeeded steps with a compensation, in completion order. */
  completed: string[];
  paused?: PauseInfo;
}

/**
 * What a rerun carries: the run it repairs, where it starts, and the recorded state (outcome, output or reference,
 * attempts, times) of every step it does not execute again.
 */
export interface RerunInput {
  of: { workflowId: string; runId: string };
  fromStepId?: string;
  reused: StepState[];
}

export interface StepError {
  message: string;
  type?: string;
  /** Structured details (e.g. schema violations: field and rule). */
  details?: unknown;
}

/** A predecessor as a step sees it. */
export interface PreviousStepResult {
  stepId: string;
  name: string;
  status: 'Succeeded' | 'Failed';
  output?: unknown;
  error?: StepError;
  /**
   * On the wire only (patch `step-data-once`): the output is not repeated here because the step's `input` holds it —
   * all of it (`true`, one predecessor) or under this key (a join). The processor SDK puts it back before `run()`.
   */
  outputInInput?: true | string;
}

/** What the interpreter hands a processor's activity (the activity's only argument). */
export interface StepInvocation {
  run: {
    workflowId: string;
    runId: string;
    orchestratedFlowId: string;
    orchestratedFlowName: string;
    correlationId: string;
  };
  step: { id: string; name: string };
  /** Entry steps: the run input; one predecessor: its output; several: an object keyed by predecessor step name. */
  input: unknown;
  previous: PreviousStepResult[];
  assignments: AssignedEntity[];
  configuration: Record<string, unknown>;
  /** For-each steps: which item this call handles (`input` is the item). */
  item?: { index: number; total: number };
}

/** One step of a run as status shows it. */
export interface StepState {
  stepId: string;
  name: string;
  /** `name@version` of the step's processor, or null when it is missing. */
  processor: string | null;
  status: StepStatus;
  attempts: number;
  /** ISO-8601, from workflow time. */
  startedAt?: string;
  completedAt?: string;
  output?: unknown;
  error?: StepError;
  /** Why a step was Skipped or Cancelled: which condition, over which predecessors. */
  reason?: string;
  /** How the step was decided, once it is (runs from patch `decision-trace` on; not rebuilt for terminated runs). */
  decision?: StepDecision;
  /** A rerun did not execute the step: its state is the one recorded by this run. */
  reusedFrom?: { workflowId: string; runId: string };
  /** For-each steps: the items and how many are done, failed and running. */
  items?: ForEachProgress;
  /**
   * In the summary a segment of a long run gives: the state is in one of `RunSummary.segments.archives` (only the
   * step, its name, processor and status are here). The API merges the archives in; its answers never say this.
   */
  archived?: true;
}

export interface ForEachProgress {
  total: number;
  done: number;
  failed: number;
  running: number;
}

/**
 * Why a step ran, was skipped or was cancelled before it ran: its entry condition, each predecessor's state when the
 * step was decided (workflow order), the outcome and the reason in words (`PreviousSuccess not met: "Fetch" Failed`).
 */
export interface StepDecision {
  condition: EntryCondition;
  predecessors: Array<{ stepId: string; name: string; status: StepStatus }>;
  /** `Reused`: a rerun carried the step's recorded state over instead of deciding it again. */
  outcome: 'Run' | 'Skipped' | 'Cancelled' | 'Reused';
  reason: string;
}

/** A run's status: the `status` query while it runs, the workflow result once it closed. */
export interface RunSummary {
  orchestratedFlowId: string;
  orchestratedFlowName: string;
  workflowId: string;
  runId: string;
  status: RunStatus;
  trigger: RunTrigger;
  correlationId: string;
  startedAt: string;
  completedAt?: string;
  /** Steps in a final state (Succeeded, Failed, Skipped, Cancelled). */
  completedSteps: number;
  totalSteps: number;
  /** IDs of Running steps. */
  currentSteps: string[];
  steps: StepState[];
  /** Which definition ran (IDs, versions, hash), once loaded. */
  definition?: {
    orchestratedFlow: { id: string; version: string; name: string };
    workflow: { id: string; version: string; name: string };
    hash: string;
  };
  /** Step IDs whose failure nothing handled (why a run Failed). */
  unhandledFailures?: string[];
  error?: StepError;
  /** While the run is paused: who paused it, when and why (status is then `Paused`). */
  paused?: PauseInfo;
  /** A rerun: the run it repairs and the step it started from. */
  rerunOf?: { workflowId: string; runId: string; fromStepId?: string };
  /** The saga: the compensations of succeeded steps, run in reverse order of completion after a failure. */
  compensation?: CompensationSummary;
  /**
   * A long run that continued as new: how many segments so far, and (from a segment; the API merges them and
   * leaves this out) the archives holding the states of steps marked `archived`.
   */
  segments?: { count: number; archives?: string[] };
}

export interface PauseInfo {
  by: string;
  at: string;
  reason?: string;
}

export const COMPENSATION_STATUSES = ['Running', 'Completed', 'Failed'] as const;

export interface CompensationSummary {
  status: (typeof COMPENSATION_STATUSES)[number];
  steps: Array<{
    stepId: string;
    name: string;
    status: 'Pending' | 'Running' | 'Succeeded' | 'Failed';
    attempts: number;
    startedAt?: string;
    completedAt?: string;
    error?: StepError;
  }>;
}

/** What a compensation's processor receives as `input`: what the step got and gave, and why the run failed. */
export interface CompensationInput {
  input: unknown;
  output: unknown;
  error: StepError;
}

/** Asks a running run to pause (Temporal Update `pause`); `by` is the principal the API authenticated. */
export interface PauseRequest {
  by: string;
  reason?: string;
}

/** Asks a paused run to resume (Temporal Update `resume`). */
export interface ResumeRequest {
  by: string;
}

/** What a processor activity returns: its output, and on which attempt it succeeded (for status). */
export interface StepResult {
  output: unknown;
  attempt: number;
}
