/**
 * The schedule fields of an OrchestratedFlow and how they map onto a Temporal Schedule. Pure: no I/O.
 *
 * Temporal reads cron strings in its own dialect, which differs from the classic one the entity's syntax check
 * (cron-parser) accepts in three ways handled here: six fields mean `minute … day-of-week year` to Temporal but
 * `second minute … day-of-week` to us (we append the year), `#` starts a comment (so `MON#2` would silently become
 * `MON`), and `L`, `W` and `?` do not exist. Temporal also matches a time only when day-of-month AND day-of-week
 * match, where classic cron runs when either does; the README says so.
 */

/** What a schedule does when a run is due while the previous one is still open (Temporal's overlap policies). */
export const OVERLAP_POLICIES = [
  'Skip',
  'BufferOne',
  'BufferAll',
  'CancelOther',
  'TerminateOther',
  'AllowAll',
] as const;
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];

/** Temporal's names for the policies above. */
export const TEMPORAL_OVERLAP = {
  Skip: 'SKIP',
  BufferOne: 'BUFFER_ONE',
  BufferAll: 'BUFFER_ALL',
  CancelOther: 'CANCEL_OTHER',
  TerminateOther: 'TERMINATE_OTHER',
  AllowAll: 'ALLOW_ALL',
} as const satisfies Record<OverlapPolicy, string>;

/** Our name for a Temporal overlap policy (undefined for one we never set, e.g. UNSPECIFIED). */
export function overlapPolicyOf(temporal: string | undefined): OverlapPolicy | undefined {
  return OVERLAP_POLICIES.find((policy) => TEMPORAL_OVERLAP[policy] === temporal);
}

/**
 * How late a missed run may still start after an outage of Temporal (default one minute: a flow that should have
 * run at 02:00 does not start at 09:00 when the cluster comes back; use a backfill for that). Temporal's smallest
 * window is 10 s; a week is our largest.
 */
export const DEFAULT_CATCHUP_WINDOW_MS = 60_000;
export const MIN_CATCHUP_WINDOW_MS = 10_000;
export const MAX_CATCHUP_WINDOW_MS = 7 * 24 * 3600 * 1000;

/** The time zone of a flow without one. */
export const DEFAULT_TIME_ZONE = 'UTC';

const NAME = '[A-Za-z]{3}';
const ATOM = `(?:\\d{1,4}|${NAME})`;
const ELEMENT = new RegExp(`^(?:\\*|${ATOM}(?:-${ATOM})?)(?:/\\d{1,4})?$`);

/**
 * Why Temporal cannot run a cron expression the entity's syntax check accepted, or undefined when it can: every
 * comma-separated element of every field must be `*`, a number or a three-letter name, or a range of them, with an
 * optional `/step`. This rules out `L`, `W`, `?` and `#` (nth weekday), which Temporal does not support.
 */
export function temporalCronProblem(expression: string): string | undefined {
  const trimmed = expression.trim();
  if (trimmed.startsWith('@')) return undefined;
  const bad = trimmed
    .split(/\s+/)
    .flatMap((field) => field.split(','))
    .filter((element) => !ELEMENT.test(element));
  if (bad.length === 0) return undefined;
  return (
    `uses ${bad.map((element) => `"${element}"`).join(', ')}, which Temporal Schedules do not support ` +
    '(no L, W, ? or #: use numbers, names, ranges, lists and steps)'
  );
}

/**
 * The cron string Temporal is given for a flow's expression: six fields (leading seconds) get Temporal's year field
 * appended, and the expression itself follows as the comment, which Temporal keeps on the compiled calendar — that
 * is how the reconciler recognises the expression a schedule was made from.
 */
export function toTemporalCron(expression: string): string {
  const trimmed = expression.trim();
  const fields = trimmed.split(/\s+/);
  const temporal = !trimmed.startsWith('@') && fields.length === 6 ? `${fields.join(' ')} *` : trimmed;
  return `${temporal} # ${trimmed}`;
}
