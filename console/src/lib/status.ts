/**
 * How a step or run state looks: its words and its colours. Colour never stands alone (every state also shows its
 * label), and each badge's text meets WCAG AA contrast on its background (status.test.ts checks it). Pure.
 */

export const STEP_STATUSES = ['Pending', 'Running', 'Succeeded', 'Failed', 'Skipped', 'Cancelled'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

/** A DAG node's state: a run's step status, or `NotRun` while no run is selected. */
export type NodeStatus = StepStatus | 'NotRun';

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

export interface StatusLook {
  /** The words shown beside the colour, and used in the node's accessible name. */
  label: string;
  /** Node fill. */
  background: string;
  /** Node border (and the minimap's colour). */
  border: string;
  /** Badge fill; badge text is white. */
  badge: string;
  /** Skipped and not-run nodes have a dashed border, so the state reads without colour too. */
  dashed: boolean;
}

const STEP_LOOKS: Record<NodeStatus, StatusLook> = {
  NotRun: { label: 'Not run', background: '#ffffff', border: '#6c757d', badge: '#495057', dashed: true },
  Pending: { label: 'Pending', background: '#f1f3f5', border: '#6c757d', badge: '#495057', dashed: false },
  Running: { label: 'Running', background: '#e7f0ff', border: '#1c64d8', badge: '#1a4fa3', dashed: false },
  Succeeded: {
    label: 'Succeeded',
    background: '#e6f4ea',
    border: '#2b8a3e',
    badge: '#1e6b30',
    dashed: false,
  },
  Failed: { label: 'Failed', background: '#fdecec', border: '#c92a2a', badge: '#a61e1e', dashed: false },
  Skipped: { label: 'Skipped', background: '#f8f9fa', border: '#6c757d', badge: '#5c636a', dashed: true },
  Cancelled: {
    label: 'Cancelled',
    background: '#fff4e5',
    border: '#d9480f',
    badge: '#9c3508',
    dashed: false,
  },
};

const RUN_LOOKS: Record<RunStatus, StatusLook> = {
  Running: STEP_LOOKS.Running,
  // Its own hue (violet): not a failure, not finished, not moving; dashed like other states that wait on someone.
  Paused: { label: 'Paused', background: '#f3f0ff', border: '#7048e8', badge: '#5f3dc4', dashed: true },
  Completed: { ...STEP_LOOKS.Succeeded, label: 'Completed' },
  Failed: STEP_LOOKS.Failed,
  Cancelled: STEP_LOOKS.Cancelled,
  Terminated: { ...STEP_LOOKS.Cancelled, label: 'Terminated' },
  TimedOut: { ...STEP_LOOKS.Failed, label: 'Timed out' },
};

const isStepStatus = (value: string): value is StepStatus =>
  (STEP_STATUSES as readonly string[]).includes(value);

/** The look of a node's state; an unknown status (a newer server) reads as itself, in the Pending colours. */
export function stepLook(status: string): StatusLook {
  if (status === 'NotRun' || isStepStatus(status)) return STEP_LOOKS[status];
  return { ...STEP_LOOKS.Pending, label: status };
}

export function runLook(status: string): StatusLook {
  return (RUN_STATUSES as readonly string[]).includes(status)
    ? RUN_LOOKS[status as RunStatus]
    : { ...STEP_LOOKS.Pending, label: status };
}

/** A run that is still open (Running or Paused): it can be stopped, and cannot be rerun yet. */
export const isOpenRun = (status: string | undefined): boolean => status === 'Running' || status === 'Paused';

/**
 * A run that can still change: poll it. Besides open runs, a Failed or Cancelled run whose compensations are still
 * running (its workflow closes once they are done).
 */
export const isLiveRun = (run: { status: string; compensation?: { status: string } } | undefined): boolean =>
  run !== undefined && (isOpenRun(run.status) || run.compensation?.status === 'Running');

/** A DAG node's accessible name, exactly `"<step name>: <status>"` (the e2e tests and screen readers find it). */
export const nodeAccessibleName = (stepName: string, status: string): string =>
  `${stepName}: ${stepLook(status).label}`;

/** WCAG relative luminance of a `#rrggbb` colour. */
export function luminance(hex: string): number {
  const match = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!match) throw new Error(`not a #rrggbb colour: ${hex}`);
  const [r, g, b] = match.slice(1).map((part) => {
    const c = parseInt(part, 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** WCAG contrast ratio between two `#rrggbb` colours (1 to 21). */
export function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

export const ALL_STEP_LOOKS: ReadonlyArray<[NodeStatus, StatusLook]> = Object.entries(STEP_LOOKS) as Array<
  [NodeStatus, StatusLook]
>;
export const ALL_RUN_LOOKS: ReadonlyArray<[RunStatus, StatusLook]> = Object.entries(RUN_LOOKS) as Array<
  [RunStatus, StatusLook]
>;
