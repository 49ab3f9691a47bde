/**
 * Starts and stops `temporal server start-dev` (Temporal server + Web UI in one process) for `npm run dev` and
 * tests, and waits for any Temporal frontend to answer.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../domain/search-attributes';
import { findFreePort, isPortOpen } from './ports';

const DEFAULT_START_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 5_000;
const OUTPUT_TAIL_LINES = 40;
const MAX_LAUNCH_ATTEMPTS = 3;

export interface TemporalDevServerOptions {
  /** Absolute path of the Temporal CLI (see `findOrInstallTemporalCli`). */
  cliPath: string;
  /** Frontend gRPC port. Default: a free port. */
  port?: number;
  /** Web UI port. Default: a free port. Ignored when `headless`. */
  uiPort?: number;
  /** Run without the Web UI. Default false. */
  headless?: boolean;
  /** The Web UI's remote codec endpoint (the API's `/codec`), so the UI shows decrypted payloads. */
  uiCodecEndpoint?: string;
  /** SQLite file keeping state across restarts (parent folders are created). Default: in memory. */
  dbFile?: string;
  /** Namespace created at launch and waited for. Default `default`. */
  namespace?: string;
  /** More namespaces created at launch (e.g. one a test keeps to itself). */
  extraNamespaces?: string[];
  /** Search attributes registered at launch, name → type. Default `SEARCH_ATTRIBUTES`. */
  searchAttributes?: Record<string, string>;
  /** Address the frontend (and UI) bind to. Default `127.0.0.1`. */
  ip?: string;
  /** Receives each line the server prints. Default: discard. Not called when `logFile` is set. */
  log?: (line: string) => void;
  /**
   * The server writes its output here (appending) instead of into a pipe: a server that outlives this process (its
   * own process group survives a `kill -9` of ours) must never write into a pipe nobody reads any more.
   */
  logFile?: string;
  /**
   * Where the server's pid and port are kept while it runs. A server left there by an earlier process that died
   * without stopping it (still alive, still a `temporal server start-dev`) is stopped before this one starts.
   */
  pidFile?: string;
  /** How long to wait for the server to answer. Default 60 s. */
  startTimeoutMs?: number;
}

export interface TemporalDevServer {
  /** Frontend `host:port` for `Connection.connect` / `NativeConnection.connect`. */
  address: string;
  /** Web UI URL, unless headless. */
  uiUrl?: string;
  namespace: string;
  pid: number;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s) and resolves once it has exited. Idempotent; never throws. */
  stop(): Promise<void>;
}

/** Raised when the dev server exits before answering or does not answer in time; carries its last output lines. */
export class TemporalDevServerError extends Error {
  override name = 'TemporalDevServerError';
}

/** Raised by {@link waitForTemporal} when the frontend does not answer in time. */
export class TemporalUnavailableError extends Error {
  override name = 'TemporalUnavailableError';
}

/**
 * Starts a dev server as a child process in its own process group (killed on `stop()` and when this process exits)
 * and resolves once its frontend answers `DescribeNamespace`. Free ports are chosen for everything not given
 * (frontend, UI, HTTP API, metrics), so servers never collide with each other or with one on default ports; a launch
 * that loses a port race is retried.
 *
 * @throws TemporalDevServerError when the process cannot start, exits early, or does not answer within
 *   `startTimeoutMs`; the message ends with the tail of the server's output.
 */
export async function startTemporalDevServer(options: TemporalDevServerOptions): Promise<TemporalDevServer> {
  if (options.dbFile !== undefined) {
    await fs.mkdir(path.dirname(path.resolve(options.dbFile)), { recursive: true });
  }
  if (options.pidFile !== undefined) await stopLeftoverServer(options.pidFile);
  if (options.logFile !== undefined)
    await fs.mkdir(path.dirname(path.resolve(options.logFile)), { recursive: true });
  for (let attempt = 1; ; attempt++) {
    try {
      return await launch(options);
    } catch (error) {
      const portRace =
        error instanceof TemporalDevServerError && /address already in use/i.test(error.message);
      if (!portRace || attempt >= MAX_LAUNCH_ATTEMPTS) throw error;
    }
  }
}

async function launch(options: TemporalDevServerOptions): Promise<TemporalDevServer> {
  const ip = options.ip ?? '127.0.0.1';
  const host = ip === '0.0.0.0' || ip === '::' ? '127.0.0.1' : ip.includes(':') ? `[${ip}]` : ip;
  const namespace = options.namespace ?? 'default';
  const headless = options.headless ?? false;
  const port = options.port ?? (await findFreePort());
  const uiPort = headless ? undefined : (options.uiPort ?? (await findFreePort()));
  // prettier-ignore
  const args = [
    'server', 'start-dev', '--ip', ip, '--port', String(port),
    '--http-port', String(await findFreePort()), '--metrics-port', String(await findFreePort()),
    ...(uiPort === undefined ? ['--headless'] : ['--ui-port', String(uiPort)]),
    ...(uiPort !== undefined && options.uiCodecEndpoint ? ['--ui-codec-endpoint', options.uiCodecEndpoint] : []),
    ...(options.dbFile === undefined ? [] : ['--db-filename', path.resolve(options.dbFile)]),
    ...(namespace === 'default' ? [] : ['--namespace', namespace]),
    ...(options.extraNamespaces ?? []).flatMap((extra) => ['--namespace', extra]),
    ...Object.entries(options.searchAttributes ?? SEARCH_ATTRIBUTES).flatMap(([name, type]) => [
      '--search-attribute', `${name}=${type}`,
    ]),
  ];
  const address = `${host}:${port}`;

  const logFd = options.logFile === undefined ? undefined : openSync(path.resolve(options.logFile), 'a');
  const child = spawn(options.cliPath, args, {
    detached: true,
    stdio: ['ignore', logFd ?? 'pipe', logFd ?? 'pipe'],
  });
  // The child holds its own copy of the file descriptor.
  if (logFd !== undefined) closeSync(logFd);
  const tail: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on('line', (line) => {
      tail.push(line);
      if (tail.length > OUTPUT_TAIL_LINES) tail.shift();
      options.log?.(line);
    });
  }
  const lastOutput = async () =>
    options.logFile === undefined
      ? tail.join('\n')
      : (await fs.readFile(options.logFile, 'utf8').catch(() => ''))
          .split('\n')
          .slice(-OUTPUT_TAIL_LINES)
          .join('\n');
  let hasExited = false;
  const exited = new Promise<string>((resolve) => {
    child.once('error', (error) => resolve(`could not be started: ${error.message}`));
    child.once('close', (code, signal) => resolve(`exited with ${signal ?? `code ${code}`}`));
  });
  void exited.then(() => (hasExited = true));
  const killOnExit = () => killGroup(child, 'SIGKILL');
  process.on('exit', killOnExit);
  const pidFile = options.pidFile;
  if (pidFile !== undefined && child.pid !== undefined)
    await fs.writeFile(pidFile, `${JSON.stringify({ pid: child.pid, port, cli: options.cliPath })}\n`);
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= terminate(child, exited, () => hasExited, killOnExit).then(async () => {
      if (pidFile !== undefined) await fs.rm(pidFile, { force: true });
    }));

  const failure = async (why: string) =>
    new TemporalDevServerError(
      `Temporal dev server (${options.cliPath} ${args.join(' ')}) ${why}.\n` +
        `Last output:\n${(await lastOutput()) || '(none)'}`,
    );
  const timeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  const abort = new AbortController();
  try {
    await Promise.race([
      waitForTemporal(address, namespace, timeoutMs, abort.signal),
      exited.then(async (how) => Promise.reject(await failure(`${how} before answering`))),
    ]);
  } catch (error) {
    abort.abort();
    await stop();
    if (error instanceof TemporalUnavailableError)
      throw await failure(`did not answer within ${timeoutMs} ms`);
    throw error;
  }
  return {
    address,
    uiUrl: uiPort === undefined ? undefined : `http://${host}:${uiPort}`,
    namespace,
    pid: child.pid ?? -1,
    stop,
  };
}

/** Sends SIGTERM to the server's process group, escalates to SIGKILL after a grace period, and awaits the exit. */
async function terminate(
  child: ChildProcess,
  exited: Promise<unknown>,
  hasExited: () => boolean,
  killOnExit: () => void,
): Promise<void> {
  if (!hasExited()) {
    killGroup(child, 'SIGTERM');
    const abort = new AbortController();
    const graceOver = sleep(STOP_GRACE_MS, true, { signal: abort.signal }).catch(() => false);
    if (await Promise.race([exited.then(() => false), graceOver])) killGroup(child, 'SIGKILL');
    abort.abort();
    await exited;
  }
  process.off('exit', killOnExit);
}

/**
 * Stops the server an earlier process recorded in `pidFile` and left running (it died without stopping it): only if
 * that pid is alive and is a `temporal server start-dev`, so a recycled pid is never touched. SIGTERM to its process
 * group, SIGKILL after the grace period; resolves once it is gone. A stale or unreadable file is removed.
 */
export async function stopLeftoverServer(pidFile: string): Promise<{ stopped?: number }> {
  let recorded: { pid?: unknown };
  try {
    recorded = JSON.parse(await fs.readFile(pidFile, 'utf8')) as { pid?: unknown };
  } catch {
    await fs.rm(pidFile, { force: true });
    return {};
  }
  const pid = typeof recorded.pid === 'number' && recorded.pid > 1 ? recorded.pid : undefined;
  const command = pid === undefined ? '' : await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  const ours = command.includes('server\0start-dev');
  if (pid !== undefined && ours && isAlive(pid)) {
    signalGroup(pid, 'SIGTERM');
    const deadline = Date.now() + STOP_GRACE_MS;
    while (isAlive(pid) && Date.now() < deadline) await sleep(100);
    if (isAlive(pid)) signalGroup(pid, 'SIGKILL');
    for (let waited = 0; isAlive(pid); waited += 50) {
      if (waited > STOP_GRACE_MS)
        throw new Error(`the Temporal dev server left running (pid ${pid}) would not stop`);
      await sleep(50);
    }
  }
  await fs.rm(pidFile, { force: true });
  return ours ? { stopped: pid } : {};
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid !== undefined) signalGroup(child.pid, signal);
}

/**
 * Resolves once the Temporal frontend at `address` answers `DescribeNamespace` for `namespace` — for callers given
 * a `TEMPORAL_ADDRESS` and for the dev server above. Polls the TCP port first, then connects with `@temporalio/client`.
 *
 * @throws TemporalUnavailableError when it does not answer within `timeoutMs` (names the last error).
 * @throws the signal's reason when `signal` aborts.
 */
export async function waitForTemporal(
  address: string,
  namespace: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const separator = address.lastIndexOf(':');
  const host = address.slice(0, separator).replace(/^\[(.*)\]$/, '$1');
  const port = Number(address.slice(separator + 1));
  let lastError = 'port closed';
  for (let remaining = timeoutMs; remaining > 0; remaining = deadline - Date.now()) {
    signal?.throwIfAborted();
    if (await isPortOpen(port, host, Math.min(500, remaining))) {
      try {
        const connection = await Connection.connect({ address, connectTimeout: Math.min(2_000, remaining) });
        try {
          await connection.withDeadline(Date.now() + Math.min(5_000, remaining), () =>
            connection.workflowService.describeNamespace({ namespace }),
          );
          return;
        } finally {
          await connection.close();
        }
      } catch (error) {
        lastError = error instanceof Error ? error.message : String(error);
      }
    }
    await sleep(100);
  }
  throw new TemporalUnavailableError(
    `Temporal at ${address} (namespace ${namespace}) did not answer within ${timeoutMs} ms: ${lastError}`,
  );
}
