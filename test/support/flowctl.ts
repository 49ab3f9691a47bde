/** flowctl as a user runs it, for tests: the real CLI (`bin/flowctl.cjs`) as a subprocess, plain or on a terminal. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { PROJECT_ROOT } from '../../infra/config';

export const BIN = path.join(PROJECT_ROOT, 'bin', 'flowctl.cjs');

export interface Exit {
  code: number;
  stdout: string;
  stderr: string;
}

export function flowctl(args: string[], env: Record<string, string>, stdin?: string): Promise<Exit> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: PROJECT_ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, timeout: 60_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    if (stdin !== undefined) child.stdin?.end(stdin);
  });
}

/** Runs flowctl under a pseudo-terminal (util-linux `script`), as a person at a terminal would. */
export function flowctlInTty(args: string[], env: Record<string, string>): Promise<Exit> {
  const command = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return new Promise((resolve) => {
    execFile(
      'script',
      ['-qefc', command, '/dev/null'],
      {
        cwd: PROJECT_ROOT,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, TERM: 'xterm', ...env },
        timeout: 60_000,
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}
