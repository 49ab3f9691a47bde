/**
 * Finds Chromium for the browser tests, or installs Debian's package (Playwright's own browser download does not
 * work on machines without internet access). The system packages come from the distribution's mirror, which is
 * reachable where npm's registry is.
 */
import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const DEBIAN_CHROMIUM = '/usr/bin/chromium';
const INSTALL_TIMEOUT_MS = 15 * 60_000;

const executable = (file: string) =>
  access(file, constants.X_OK).then(
    () => true,
    () => false,
  );

/**
 * The path of a Chromium binary: `explicitPath` (CHROMIUM_PATH), Debian's `/usr/bin/chromium`, or — as root on a
 * machine with apt-get — Debian's package, installed now. Undefined when none can be had; the browser tests then
 * fail with a message saying how to install it.
 */
export async function findOrInstallChromium(options: {
  explicitPath?: string;
  log?: (line: string) => void;
}): Promise<string | undefined> {
  if (options.explicitPath)
    return (await executable(options.explicitPath)) ? options.explicitPath : undefined;
  if (await executable(DEBIAN_CHROMIUM)) return DEBIAN_CHROMIUM;
  const root = process.getuid?.() === 0;
  if (!root || !(await executable('/usr/bin/apt-get'))) return undefined;
  options.log?.('Installing Chromium for the browser tests: apt-get install chromium (a minute or two)…');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    await execFileAsync('apt-get', ['update', '-qq'], { env, timeout: INSTALL_TIMEOUT_MS });
    await execFileAsync('apt-get', ['install', '-y', '-qq', 'chromium'], {
      env,
      timeout: INSTALL_TIMEOUT_MS,
    });
  } catch (error) {
    options.log?.(`Could not install Chromium: ${(error as Error).message.split('\n')[0]}`);
    return undefined;
  }
  return (await executable(DEBIAN_CHROMIUM)) ? DEBIAN_CHROMIUM : undefined;
}
