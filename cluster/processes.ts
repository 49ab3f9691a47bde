/**
 * The processes of the production-shape test: each in a process group of its own, its output appended to a log file
 * (never a pipe: a log is read after the fact, and a killed reader must not stall a writer), killed with SIGKILL
 * when this process exits however it exits.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ProcessSpec {
  /** A short name for logs: `history`, `processor-1`, … */
  name: string;
  command: string;
  args: string[];
  /** The whole environment of the child (nothing is inherited). */
  env: Record<string, string>;
  cwd: string;
  /** Appended to; every incarnation of the process writes to the same file. */
  logFile: string;
  /** Where `<name>.pid` records the running incarnation, for {@link stopLeftovers} after a `kill -9` of this runner. */
  pidDir: string;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One incarnation of a process. */
export interface Incarnation {
  pid: number;
  exited: Promise<Exit>;
  running(): boolean;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) signalGroup(child, 'SIGKILL');
});

/** A process that can be killed and started again from the same spec. */
export class ManagedProcess {
  private current: { child: ChildProcess; incarnation: Incarnation } | undefined;
  /** True from a kill() or stop() until the next start(): an exit meanwhile was asked for. */
  private stopping = false;
  private unexpectedExit: ((exit: Exit) => void) | undefined;

  constructor(readonly spec: ProcessSpec) {}

  /** Calls `handler` whenever an incarnation exits without a kill() or stop() (a crash). */
  onUnexpectedExit(handler: (exit: Exit) => void): void {
    this.unexpectedExit = handler;
  }

  /** Starts a new incarnation. @throws Error when one is still running or the command cannot be spawned. */
  start(): Incarnation {
    if (this.current?.incarnation.running()) throw new Error(`${this.spec.name} is already running`);
    const log = openSync(this.spec.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(this.spec.command, this.spec.args, {
        cwd: this.spec.cwd,
        env: this.spec.env,
        detached: true,
        stdio: ['ignore', log, log],
      });
    } finally {
      closeSync(log); // the child has its own copy
    }
    if (child.pid === undefined)
      throw new Error(`${this.spec.name}: ${this.spec.command} could not be started`);
    live.add(child);
    writeFileSync(
      path.join(this.spec.pidDir, `${this.spec.name}.pid`),
      JSON.stringify({ pid: child.pid, command: this.spec.command }),
    );
    this.stopping = false;
    let done = false;
    const exited = new Promise<Exit>((resolve) => {
      child.once('exit', (code, signal) => {
        done = true;
        live.delete(child);
        resolve({ code, signal });
        if (!this.stopping && this.current?.child === child) this.unexpectedExit?.({ code, signal });
      });
    });
    const incarnation = { pid: child.pid, exited, running: () => !done };
    this.current = { child, incarnation };
    return incarnation;
  }

  get pid(): number | undefined {
    return this.current?.incarnation.pid;
  }

  running(): boolean {
    return this.current?.incarnation.running() ?? false;
  }

  /** The exit of the current incarnation (resolves at once when none runs). */
  exited(): Promise<Exit | undefined> {
    return this.current?.incarnation.exited ?? Promise.resolve(undefined);
  }

  /** SIGKILL to the process group; resolves once the process has exited. */
  async kill(): Promise<Exit | undefined> {
    const current = this.current;
    this.stopping = true;
    if (!current?.incarnation.running()) return undefined;
    signalGroup(current.child, 'SIGKILL');
    return current.incarnation.exited;
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. Never throws. */
  async stop(graceMs = 10_000): Promise<Exit | undefined> {
    const current = this.current;
    this.stopping = true;
    if (!current?.incarnation.running()) return undefined;
    signalGroup(current.child, 'SIGTERM');
    const abort = new AbortController();
    const overdue = sleep(graceMs, true, { signal: abort.signal }).catch(() => false);
    if (await Promise.race([current.incarnation.exited.then(() => false), overdue]))
      signalGroup(current.child, 'SIGKILL');
    abort.abort();
    return current.incarnation.exited;
  }
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/**
 * Kills (SIGKILL, the whole group) every process an earlier runner recorded in `pidDir` that still runs the recorded
 * command — what a runner killed with -9 left behind. A recycled pid running something else is left alone.
 */
export async function stopLeftovers(pidDir: string): Promise<string[]> {
  const stopped: string[] = [];
  for (const file of await readdir(pidDir).catch(() => [])) {
    if (!file.endsWith('.pid')) continue;
    try {
      const { pid, command } = JSON.parse(await readFile(path.join(pidDir, file), 'utf8')) as {
        pid: number;
        command: string;
      };
      const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      if (pid > 1 && cmdline.split('\0')[0] === command) {
        process.kill(-pid, 'SIGKILL');
        stopped.push(`${file.slice(0, -4)} (pid ${pid})`);
      }
    } catch {
      // unreadable record or already gone
    }
  }
  return stopped;
}
