/**
 * Finds a working Temporal CLI (the dev server + Web UI) or installs the pinned version with `go install`.
 * The CLI is not on npm; see DESIGN.md §1 for why v1.5.1 is the newest tag that `go install` accepts.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from './config';

const execFileAsync = promisify(execFile);

/** The pinned Temporal CLI version installed by `go install` (later tags carry a `replace` directive). */
export const TEMPORAL_CLI_VERSION = 'v1.5.1';
/** The Go package path that `go install` builds into a `temporal` binary. */
export const TEMPORAL_CLI_PACKAGE = 'github.com/temporalio/cli/cmd/temporal';

const GO_FALLBACK_PATH = '/usr/local/go/bin/go';
const INSTALL_TIMEOUT_MS = 20 * 60_000;

/** Raised when no usable Temporal CLI exists and none could be installed; the message says how to install one. */
export class TemporalCliNotFoundError extends Error {
  override name = 'TemporalCliNotFoundError';
}

export interface FindTemporalCliOptions {
  /** The `TEMPORAL_CLI` setting: a binary to use when none is on PATH. Must exist when given. */
  explicitPath?: string;
  /** Where a managed copy lives and `go install` puts one. Default `<project>/.tools/bin`. */
  toolsDir?: string;
  /** Receives one-line progress messages (the install takes minutes). Default: discard. */
  log?: (msg: string) => void;
}

/**
 * Returns the absolute path of a Temporal CLI that answers `--version`, trying in order: `temporal` on PATH,
 * `explicitPath`, `<toolsDir>/temporal`, then `go install` of {@link TEMPORAL_CLI_VERSION} into `toolsDir`.
 * Concurrent callers are safe: each installs into its own temporary directory and renames the binary into place.
 *
 * @throws TemporalCliNotFoundError when `explicitPath` does not exist or does not run, or when nothing is found and
 *   the install is impossible (no Go) or fails; the message names the path or the Go error and how to install.
 */
export async function findOrInstallTemporalCli(options: FindTemporalCliOptions = {}): Promise<string> {
  const toolsDir = path.resolve(options.toolsDir ?? path.join(PROJECT_ROOT, '.tools', 'bin'));
  const log = options.log ?? (() => {});
  // A wrong TEMPORAL_CLI is a mistake worth reporting even when PATH would have answered.
  const explicitPath = options.explicitPath === undefined ? undefined : path.resolve(options.explicitPath);
  if (explicitPath !== undefined && !(await isExecutable(explicitPath))) {
    throw new TemporalCliNotFoundError(
      `TEMPORAL_CLI is set to ${explicitPath}, which does not exist or is not executable. ` +
        `Point it at a temporal binary or unset it.\n${installHint(toolsDir)}`,
    );
  }

  const onPath = await findOnPath('temporal');
  if (onPath !== undefined) {
    if (await answersVersion(onPath)) return onPath;
    log(`Ignoring ${onPath} on PATH: \`--version\` fails.`);
  }

  if (explicitPath !== undefined) {
    if (await answersVersion(explicitPath)) return explicitPath;
    throw new TemporalCliNotFoundError(
      `TEMPORAL_CLI is set to ${explicitPath}, but \`${explicitPath} --version\` fails.\n${installHint(toolsDir)}`,
    );
  }

  const managed = path.join(toolsDir, 'temporal');
  if (await answersVersion(managed)) return managed;

  const go = await findGo();
  if (go === undefined) {
    throw new TemporalCliNotFoundError(
      `Temporal CLI not found and Go is not installed.\n${installHint(toolsDir)}`,
    );
  }
  await goInstall(go, toolsDir, log);
  if (await answersVersion(managed)) return managed;
  throw new TemporalCliNotFoundError(
    `go install finished but ${managed} --version fails.\n${installHint(toolsDir)}`,
  );
}

/** The Go toolchain: `go` on PATH, else Go's standard location (`/usr/local/go/bin/go`); undefined without one. */
export async function findGo(): Promise<string | undefined> {
  return (await findOnPath('go')) ?? ((await isExecutable(GO_FALLBACK_PATH)) ? GO_FALLBACK_PATH : undefined);
}

/** Builds the CLI into a private temporary GOBIN, then renames it into place (atomic on one filesystem). */
async function goInstall(go: string, toolsDir: string, log: (msg: string) => void): Promise<void> {
  await fs.mkdir(toolsDir, { recursive: true });
  const tempBin = path.join(toolsDir, `.temporal-install-${process.pid}-${randomUUID()}`);
  await fs.mkdir(tempBin);
  const spec = `${TEMPORAL_CLI_PACKAGE}@${TEMPORAL_CLI_VERSION}`;
  log(
    `Installing Temporal CLI: GOBIN=${toolsDir} ${go} install ${spec} (takes a few minutes the first time)…`,
  );
  const started = Date.now();
  try {
    // `env` adds GOBIN to the inherited environment without this module reading process.env.
    await execFileAsync('env', [`GOBIN=${tempBin}`, go, 'install', spec], {
      timeout: INSTALL_TIMEOUT_MS,
      maxBuffer: 16 * 1024 * 1024,
    });
    await fs.rename(path.join(tempBin, 'temporal'), path.join(toolsDir, 'temporal'));
    log(`Installed Temporal CLI into ${toolsDir} in ${Math.round((Date.now() - started) / 1000)} s.`);
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    const detail = stderr.trim().split('\n').slice(-15).join('\n') || (error as Error).message;
    throw new TemporalCliNotFoundError(`go install ${spec} failed:\n${detail}\n${installHint(toolsDir)}`);
  } finally {
    await fs.rm(tempBin, { recursive: true, force: true });
  }
}

/** The ways to get a CLI, for error messages. */
function installHint(toolsDir: string): string {
  return [
    'Install the Temporal CLI in one of these ways:',
    `  - GOBIN=${toolsDir} go install ${TEMPORAL_CLI_PACKAGE}@${TEMPORAL_CLI_VERSION}   (needs Go; https://go.dev/dl)`,
    '  - set TEMPORAL_CLI to the path of an existing temporal binary',
    '  - curl -sSf https://temporal.download/cli.sh | sh   (official install script; then put temporal on PATH)',
  ].join('\n');
}

/** Resolves the absolute path of `name` on PATH (via the shell's `command -v`), or undefined. */
async function findOnPath(name: string): Promise<string | undefined> {
  try {
    const { stdout } = await execFileAsync('sh', ['-c', 'command -v "$1"', 'sh', name], { timeout: 5_000 });
    const found = stdout.trim();
    return found.startsWith('/') ? found : undefined;
  } catch {
    return undefined;
  }
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    const stat = await fs.stat(file);
    await fs.access(file, fsConstants.X_OK);
    return stat.isFile();
  } catch {
    return false;
  }
}

/** True when `<bin> --version` exits 0 and prints a Temporal version line. */
async function answersVersion(bin: string): Promise<boolean> {
  try {
    const { stdout } = await execFileAsync(bin, ['--version'], { timeout: 15_000 });
    return stdout.startsWith('temporal version');
  } catch {
    return false;
  }
}
