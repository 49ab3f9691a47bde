import { lstat, mkdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NonRetryableError } from '../sdk';

export const PATH_OUTSIDE_DATA_ROOT = 'PathOutsideDataRoot';

function outside(connectionString: string, why: string): NonRetryableError {
  return new NonRetryableError(`The path "${connectionString}" is not inside the file data root: ${why}`, {
    type: PATH_OUTSIDE_DATA_ROOT,
  });
}

function isInside(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  return (
    relative !== '' &&
    !relative.startsWith(`..${path.sep}`) &&
    relative !== '..' &&
    !path.isAbsolute(relative)
  );
}

function isWithinOrRoot(root: string, candidate: string): boolean {
  return candidate === root || isInside(root, candidate);
}

/**
 * The absolute path a connection string names inside `root`, checked lexically (no `..` out of the root, no absolute
 * path elsewhere). A connection string is a path (relative paths are relative to the root) or a `file://` URL.
 *
 * @throws NonRetryableError `PathOutsideDataRoot` for anything that leaves the root, `InvalidConfiguration` for a
 *   connection string that is not a local path.
 */
export function resolveLexically(root: string, connectionString: string): string {
  if (connectionString.includes('\0')) throw outside(connectionString, 'it contains a NUL byte');
  let raw = connectionString;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new NonRetryableError(`"${connectionString}" is not a valid URL`, {
        type: 'InvalidConfiguration',
      });
    }
    if (url.protocol !== 'file:')
      throw new NonRetryableError(
        `the file processor reads and writes file:// URLs or paths, not ${url.protocol}`,
        {
          type: 'InvalidConfiguration',
        },
      );
    try {
      raw = fileURLToPath(url);
    } catch (error) {
      throw new NonRetryableError(
        `"${connectionString}" is not a local file URL: ${(error as Error).message}`,
        {
          type: 'InvalidConfiguration',
        },
      );
    }
  }
  const resolved = path.resolve(root, raw);
  if (!isInside(root, resolved)) throw outside(connectionString, 'it resolves outside the root');
  return resolved;
}

/** The deepest existing ancestor of `target` (or `target` itself), resolved through symlinks. */
async function realAncestor(target: string): Promise<string> {
  for (let current = target; ; current = path.dirname(current)) {
    try {
      return await realpath(current);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || path.dirname(current) === current)
        throw error;
    }
  }
}

/**
 * Resolves a connection string to a file inside the data root, following symlinks: the root itself may be a
 * symlink, but nothing under it may lead outside it. For writes, missing parent directories are created (after the
 * check, so `mkdir` never follows a link out of the root); the file itself is replaced by rename, never followed.
 *
 * @throws NonRetryableError `PathOutsideDataRoot` when the path, or a symlink on it, leaves the root.
 */
export async function resolveInsideRoot(
  dataRoot: string,
  connectionString: string,
  mode: 'read' | 'write',
): Promise<{ path: string; relative: string }> {
  if (mode === 'write') await mkdir(dataRoot, { recursive: true });
  const root = await realpath(dataRoot).catch(() => path.resolve(dataRoot));
  const lexical = resolveLexically(root, connectionString);
  const relative = path.relative(root, lexical);

  if (mode === 'read') {
    const real = await realAncestor(lexical);
    // The root itself does not exist yet (nothing was ever written): neither does the file.
    if (isWithinOrRoot(real, root) && real !== root)
      throw new NonRetryableError(
        `file: ${JSON.stringify(connectionString)} does not exist (no data root yet)`,
        {
          type: 'FileNotFound',
        },
      );
    if (!isWithinOrRoot(root, real))
      throw outside(connectionString, 'a symlink on it leads outside the root');
    return { path: lexical, relative };
  }

  const parent = path.dirname(lexical);
  const existing = await realAncestor(parent);
  if (!isWithinOrRoot(root, existing))
    throw outside(connectionString, 'a symlink on it leads outside the root');
  await mkdir(parent, { recursive: true });
  if (!isWithinOrRoot(root, await realpath(parent)))
    throw outside(connectionString, 'a symlink on it leads outside the root');
  const stat = await lstat(lexical).catch(() => undefined);
  if (stat?.isDirectory())
    throw new NonRetryableError(`"${connectionString}" is a directory`, { type: 'InvalidConfiguration' });
  return { path: lexical, relative };
}
