import { defineProcessor } from '../sdk';

export interface DelayConfiguration {
  /** How long to wait. */
  durationMs: number;
}

/** Heartbeat details: how much of the wait is done, so a retry on another worker resumes rather than restarts. */
interface DelayProgress {
  elapsedMs: number;
}

const HEARTBEAT_EVERY_MS = 1_000;
const MAX_DURATION_MS = 24 * 60 * 60 * 1_000;

function resumedElapsed(details: unknown): number {
  const elapsed = (details as Partial<DelayProgress> | undefined)?.elapsedMs;
  return typeof elapsed === 'number' && elapsed > 0 ? elapsed : 0;
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it fires. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * `delay@1.0.0`: waits `configuration.durationMs`, heartbeating about every second with its progress (a retry
 * resumes from the last heartbeat), and rejects at once when the step is cancelled. Output: the input, unchanged.
 */
export const delayProcessor = defineProcessor<unknown, unknown, DelayConfiguration>({
  name: 'delay',
  version: '1.0.0',
  description: 'Waits configuration.durationMs (heartbeating, cancellable), then passes its input through.',
  module: __filename,
  inputSchema: {},
  outputSchema: {},
  configurationSchema: {
    type: 'object',
    required: ['durationMs'],
    properties: { durationMs: { type: 'integer', minimum: 0, maximum: MAX_DURATION_MS } },
    additionalProperties: false,
  },
  // The start-to-close limit must outlast the longest delay; the heartbeat timeout catches a lost worker.
  defaults: { timeouts: { startToCloseMs: MAX_DURATION_MS + 60 * 60 * 1_000, heartbeatMs: 5_000 } },
  async run({ input, configuration, heartbeat, lastHeartbeatDetails, signal, log }) {
    const resumedAtMs = resumedElapsed(lastHeartbeatDetails);
    if (resumedAtMs > 0) log.debug({ resumedAtMs }, 'resuming delay');
    const started = Date.now() - resumedAtMs;
    for (;;) {
      const elapsedMs = Date.now() - started;
      heartbeat({ elapsedMs } satisfies DelayProgress);
      const remaining = configuration.durationMs - elapsedMs;
      if (remaining <= 0) return input;
      await sleep(Math.min(HEARTBEAT_EVERY_MS, remaining), signal);
    }
  },
});
