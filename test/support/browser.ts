import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { loadTestConfig } from '../../infra/config';

/**
 * Launches the machine's Chromium headless (Playwright's own browser download does not work offline).
 * @throws Error saying how to install it when none is found.
 */
export async function launchChromium(): Promise<Browser> {
  // Debian's chromium, unless CHROMIUM_PATH points elsewhere.
  const candidates = [loadTestConfig().CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  const executablePath = candidates.find(
    (candidate): candidate is string => !!candidate && existsSync(candidate),
  );
  if (!executablePath)
    throw new Error(
      'Browser tests need Chromium: `apt-get install chromium` (Debian), or set CHROMIUM_PATH to a Chromium binary',
    );
  return chromium.launch({
    executablePath,
    // No sandbox as root; no background traffic (these machines have no internet).
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
