/**
 * Keeps the console's build (console/dist) up to date for `npm run dev` and `npm test`: rebuilt with
 * `npm run console:build` when it is missing or older than any of its sources (console/, schemas/openapi.json, the
 * lockfile). A fresh build is left alone, so a second start costs a directory walk.
 */
import { spawn } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';

const SKIPPED = new Set(['dist', 'node_modules']);

async function newestMtime(entry: string): Promise<number> {
  const info = await stat(entry).catch(() => undefined);
  if (!info) return 0;
  if (!info.isDirectory()) return info.mtimeMs;
  const children = await readdir(entry);
  const times = await Promise.all(
    children.filter((name) => !SKIPPED.has(name)).map((name) => newestMtime(path.join(entry, name))),
  );
  return Math.max(info.mtimeMs, ...times);
}

/** Whether console/dist is missing or older than its sources. */
export async function consoleBuildIsStale(root: string): Promise<boolean> {
  const built = await stat(path.join(root, 'console', 'dist', 'index.html')).catch(() => undefined);
  if (!built) return true;
  const sources = await Promise.all(
    ['console', 'schemas/openapi.json', 'package-lock.json'].map((entry) =>
      newestMtime(path.join(root, entry)),
    ),
  );
  return Math.max(...sources) > built.mtimeMs;
}

/** Builds the console when it is stale; answers whether it built. Rejects with the build's output when it fails. */
export async function ensureConsoleBuilt(root: string, say: (line: string) => void): Promise<boolean> {
  if (!(await consoleBuildIsStale(root))) return false;
  say('building the console (npm run console:build) …');
  const started = Date.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', 'console:build'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`npm run console:build failed (exit ${code}):\n${output}`)),
    );
  });
  say(`console built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return true;
}
