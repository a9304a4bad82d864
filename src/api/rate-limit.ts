/**
 * A token bucket per key, as Traefik's ratelimit middleware keeps one per source: a key may send
 * `burst` requests at once, then `average` a second. The clock is injected so a test can hold or
 * advance time instead of waiting.
 */
import type { RateLimit } from './config.ts';

export type Clock = () => number;

export interface RateLimiter {
  /** 0 when the key may go ahead (and is charged one request), else seconds until it may. */
  take(key: string): number;
}

/** Buckets kept at most; full ones are dropped first, since a full bucket is the default. */
const MAX_TRACKED_KEYS = 10_000;

export function createRateLimiter({ average, burst }: RateLimit, now: Clock = Date.now): RateLimiter {
  const buckets = new Map<string, { tokens: number; at: number }>();
  const level = (bucket: { tokens: number; at: number }, time: number) =>
    Math.min(burst, bucket.tokens + ((time - bucket.at) / 1000) * average);
  return {
    take(key) {
      const time = now();
      const bucket = buckets.get(key) ?? { tokens: burst, at: time };
      const tokens = level(bucket, time);
      if (tokens < 1) return Math.ceil((1 - tokens) / average);
      buckets.set(key, { tokens: tokens - 1, at: time });
      if (buckets.size > MAX_TRACKED_KEYS)
        for (const [other, kept] of buckets) if (level(kept, time) >= burst) buckets.delete(other);
      return 0;
    },
  };
}
