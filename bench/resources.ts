/**
 * What the benchmark's processes consume: resident memory (sampled) and CPU time. The Temporal dev server is read
 * from /proc (Linux); elsewhere its figures are left out. CPU time is robust where wall time is not: on a shared
 * machine other processes slow both sides' wall time, but not the CPU each side's runs cost.
 */
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';

export interface Memory {
  /** Bytes: after startup (first sample), the peak of the samples, and the last one. */
  process: { first: number; peak: number; last: number };
  temporal?: { first: number; peak: number; last: number };
}

/** CPU milliseconds (user + system) so far. */
export interface CpuTimes {
  process: number;
  temporal?: number;
}

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

async function procFile(pid: number, file: string): Promise<string | undefined> {
  try {
    return await readFile(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return undefined;
  }
}

export async function rssOf(pid: number): Promise<number | undefined> {
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec((await procFile(pid, 'status')) ?? '')?.[1];
  return kb === undefined ? undefined : Number(kb) * 1024;
}

/** The CPU time of this process and of `temporalPid` (utime + stime from /proc/<pid>/stat). */
export async function cpuTimes(temporalPid: number): Promise<CpuTimes> {
  const { user, system } = process.cpuUsage();
  const stat = await procFile(temporalPid, 'stat');
  // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
  const fields = stat?.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = fields ? Number(fields[11]) + Number(fields[12]) : NaN;
  return {
    process: (user + system) / 1000,
    ...(Number.isFinite(ticks) ? { temporal: (ticks * 1000) / CLOCK_TICKS } : {}),
  };
}

/** CPU milliseconds spent between two readings. */
export function cpuSpent(before: CpuTimes, after: CpuTimes): CpuTimes {
  return {
    process: after.process - before.process,
    ...(before.temporal !== undefined && after.temporal !== undefined
      ? { temporal: after.temporal - before.temporal }
      : {}),
  };
}

/** Starts sampling resident memory every `everyMs`; `stop()` takes a last sample and returns the figures. */
export function sampleMemory(temporalPid: number, everyMs = 250) {
  let memory: Memory | undefined;
  const next = (old: Memory['process'] | undefined, now: number) => ({
    first: old?.first ?? now,
    peak: Math.max(old?.peak ?? 0, now),
    last: now,
  });
  const sample = async () => {
    const own = process.memoryUsage.rss();
    const temporal = await rssOf(temporalPid);
    memory = {
      process: next(memory?.process, own),
      ...(temporal !== undefined ? { temporal: next(memory?.temporal, temporal) } : {}),
    };
  };
  const first = sample();
  const timer = setInterval(() => void sample(), everyMs);
  timer.unref();
  return {
    async stop(): Promise<Memory> {
      clearInterval(timer);
      await first;
      await sample();
      return memory!;
    },
  };
}
