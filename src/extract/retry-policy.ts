/** When and how long to wait before trying a Coda request again. */
import type { Random } from './timing.ts';

export interface RetryPolicy {
  /** Retries for 409, 5xx, timeouts, reset connections and malformed bodies. */
  transientRetries: number;
  /** Retries for 429: being throttled is normal, but not forever. */
  rateLimitRetries: number;
  /** First backoff; it doubles per retry up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  transientRetries: 5,
  rateLimitRetries: 10,
  baseDelayMs: 1_000,
  maxDelayMs: 60_000,
};

/**
 * Exponential backoff with "equal jitter": at least half the step, so retries never come back
 * at once, plus a random half, so concurrent callers do not retry in lockstep.
 */
export function backoffDelay(retry: number, policy: RetryPolicy, random: Random): number {
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return Math.round(step / 2 + random() * (step / 2));
}

/** The longest the waits before retries `from` to the last can take: what "giving up within" means. */
export function longestWaits(from: number, policy: RetryPolicy, retries: number): number {
  let total = 0;
  for (let retry = from; retry <= retries; retry += 1)
    total += Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return total;
}

/** Retry-After as milliseconds to wait: delay-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(header: string | undefined, now: number): number | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  if (/^\s*\d+\s*$/.test(header)) return Number(header) * 1_000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
