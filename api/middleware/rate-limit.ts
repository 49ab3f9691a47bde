import type { Response } from 'express';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { ApiError } from '../errors';

/** The budget a route draws from: reads, writes of definitions and keys, or run starts (the most expensive). */
export type RateClass = 'read' | 'write' | 'start';

export interface RateLimitSettings {
  perMinute: number;
  writesPerMinute: number;
  startsPerMinute: number;
  /** Failed authentications per client IP per minute before the IP is refused for the rest of the minute. */
  authFailuresPerMinute: number;
}

const WINDOW_SECONDS = 60;

/** 429 with what the caller needs to come back later. */
export class TooManyRequestsError extends ApiError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(429, 'TooManyRequests', message, [
      { field: 'request', rule: 'rateLimit', message: `retry after ${retryAfterSeconds} s` },
    ]);
  }
}

function seconds(result: RateLimiterRes): number {
  return Math.max(1, Math.ceil(result.msBeforeNext / 1000));
}

/**
 * Per-principal request budgets (one per {@link RateClass}) and a per-IP budget of failed authentications, counted
 * in memory with rate-limiter-flexible: each budget is N per minute window, per API replica. Answers carry the IETF
 * `RateLimit-Policy` and `RateLimit` headers.
 */
export class RateLimits {
  private readonly budgets: Record<RateClass, { limiter: RateLimiterMemory; quota: number }>;
  private readonly authFailures: RateLimiterMemory;

  constructor(readonly settings: RateLimitSettings) {
    const budget = (points: number) => ({
      limiter: new RateLimiterMemory({ points, duration: WINDOW_SECONDS }),
      quota: points,
    });
    this.budgets = {
      read: budget(settings.perMinute),
      write: budget(settings.writesPerMinute),
      start: budget(settings.startsPerMinute),
    };
    this.authFailures = new RateLimiterMemory({
      points: settings.authFailuresPerMinute,
      duration: WINDOW_SECONDS,
      blockDuration: WINDOW_SECONDS,
    });
  }

  /** Draws one request from the principal's budget and sets the headers. @throws TooManyRequestsError (429). */
  async consume(rateClass: RateClass, principal: string, res: Response): Promise<void> {
    const { limiter, quota } = this.budgets[rateClass];
    let result: RateLimiterRes;
    let refused = false;
    try {
      result = await limiter.consume(principal);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      result = rejection;
      refused = true;
    }
    const reset = seconds(result);
    res.setHeader('RateLimit-Policy', `"${rateClass}";q=${quota};w=${WINDOW_SECONDS}`);
    res.setHeader('RateLimit', `"${rateClass}";r=${Math.max(0, result.remainingPoints)};t=${reset}`);
    if (refused) {
      res.setHeader('Retry-After', String(reset));
      throw new TooManyRequestsError(
        `Too many ${rateClass} requests: at most ${quota} per minute (per API replica)`,
        reset,
      );
    }
  }

  /** @throws TooManyRequestsError when the IP has failed authentication too often this minute. */
  async assertIpNotBlocked(ip: string, res: Response): Promise<void> {
    const state = await this.authFailures.get(ip);
    if (state && state.consumedPoints > this.settings.authFailuresPerMinute) this.refuseIp(state, res);
  }

  /** Counts a failed authentication of the IP. @throws TooManyRequestsError once the IP is over its budget. */
  async recordAuthFailure(ip: string, res: Response): Promise<void> {
    try {
      await this.authFailures.consume(ip);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      this.refuseIp(rejection, res);
    }
  }

  private refuseIp(state: RateLimiterRes, res: Response): never {
    const reset = seconds(state);
    res.setHeader('Retry-After', String(reset));
    throw new TooManyRequestsError('Too many failed authentications from this address', reset);
  }
}
