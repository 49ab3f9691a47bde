/** One load of `npm run bench:api`: autocannon against one route of one server, every response time kept. */
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { quantile } from './stats';

export interface LoadSpec {
  url: string;
  connections: number;
  /** Seconds of load; or `amount` requests in all. */
  seconds?: number;
  amount?: number;
  method: 'GET' | 'POST';
  /** The path of each request (a new one per request, e.g. the next flow to start). */
  path: () => string;
  headers?: Record<string, string>;
  body?: () => string;
  /** The server's process: its CPU time during the load is reported per request. */
  pid?: number;
}

export interface LoadResult {
  requests: number;
  /** Every response time, in ms (what the quantiles come from; rounds merge by them). */
  times: number[];
  seconds: number;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  /** Answers outside 2xx and connection errors / timeouts: any of them makes the run invalid. */
  failures: number;
  statuses: Record<string, number>;
  /** CPU time (user + system) the server process spent per request, in ms; NaN where /proc is not available. */
  cpuMsPerRequest: number;
  /** Of that, the time in the kernel (system): socket reads and writes, to clients and to Postgres. */
  systemMsPerRequest: number;
}

/** User and system CPU seconds of a process so far (Linux /proc; NaN elsewhere). */
function cpuSeconds(pid: number | undefined): { user: number; system: number } {
  if (pid === undefined) return { user: NaN, system: NaN };
  try {
    // Fields after the command name (which may contain spaces): utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return { user: Number(fields[11]) / CLOCK_TICKS, system: Number(fields[12]) / CLOCK_TICKS };
  } catch {
    return { user: NaN, system: NaN };
  }
}
/** USER_HZ: 100 on every Linux this runs on. */
const CLOCK_TICKS = 100;

export function load(spec: LoadSpec): Promise<LoadResult> {
  const times: number[] = [];
  const statuses: Record<string, number> = {};
  // autocannon ends a load on its one-second tick: the last answer, not the end, closes the measured time.
  let lastAnswer: bigint | undefined;
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const cpuBefore = cpuSeconds(spec.pid);
    const instance = autocannon(
      {
        url: spec.url,
        // autocannon refuses more connections than requests.
        connections: spec.amount !== undefined ? Math.min(spec.connections, spec.amount) : spec.connections,
        ...(spec.amount !== undefined ? { amount: spec.amount } : { duration: spec.seconds ?? 10 }),
        timeout: 30,
        requests: [
          {
            method: spec.method,
            headers: { ...(spec.body ? { 'content-type': 'application/json' } : {}), ...spec.headers },
            setupRequest: (request) => ({
              ...request,
              path: spec.path(),
              ...(spec.body ? { body: spec.body() } : {}),
            }),
          },
        ],
      },
      (error, result) => {
        if (error) return reject(error instanceof Error ? error : new Error(String(error)));
        const seconds = Number((lastAnswer ?? process.hrtime.bigint()) - started) / 1e9;
        resolve({
          requests: times.length,
          times,
          seconds,
          rps: times.length / seconds,
          p50: quantile(times, 0.5),
          p95: quantile(times, 0.95),
          p99: quantile(times, 0.99),
          failures: result.non2xx + result.errors + result.timeouts,
          statuses,
          ...((cpuAfter) => ({
            cpuMsPerRequest:
              ((cpuAfter.user + cpuAfter.system - cpuBefore.user - cpuBefore.system) * 1000) / times.length,
            systemMsPerRequest: ((cpuAfter.system - cpuBefore.system) * 1000) / times.length,
          }))(cpuSeconds(spec.pid)),
        });
      },
    );
    // autocannon's own listener signature (its types lack the client argument).
    const onResponse = (_client: unknown, status: number, _bytes: number, ms: number) => {
      times.push(ms);
      lastAnswer = process.hrtime.bigint();
      statuses[status] = (statuses[status] ?? 0) + 1;
    };
    (instance as unknown as NodeJS.EventEmitter).on('response', onResponse);
  });
}

/**
 * Several loads of one route and server as one: requests and seconds add up, quantiles come from every response
 * time, CPU per request is weighted by requests.
 */
export function mergeLoads(parts: readonly LoadResult[]): LoadResult {
  const times = parts.flatMap((part) => part.times);
  const requests = times.length;
  const seconds = parts.reduce((sum, part) => sum + part.seconds, 0);
  const statuses: Record<string, number> = {};
  for (const part of parts)
    for (const [status, count] of Object.entries(part.statuses))
      statuses[status] = (statuses[status] ?? 0) + count;
  const perRequest = (pick: (part: LoadResult) => number) =>
    parts.reduce((sum, part) => sum + pick(part) * part.requests, 0) / requests;
  return {
    requests,
    times,
    seconds,
    rps: requests / seconds,
    p50: quantile(times, 0.5),
    p95: quantile(times, 0.95),
    p99: quantile(times, 0.99),
    failures: parts.reduce((sum, part) => sum + part.failures, 0),
    statuses,
    cpuMsPerRequest: perRequest((part) => part.cpuMsPerRequest),
    systemMsPerRequest: perRequest((part) => part.systemMsPerRequest),
  };
}
