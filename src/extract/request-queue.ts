/**
 * The one queue every Coda request goes through. Coda's limits are per user across all docs, so
 * concurrent table reads must share a single budget, and a 429 seen by one read holds back all.
 */
import PQueue from 'p-queue';
import type { RateLimit } from './config.ts';
import type { Clock } from './timing.ts';

export class RequestQueue {
  private readonly queue: PQueue;
  private holds = 0;

  constructor(
    rate: RateLimit,
    private readonly clock: Clock,
  ) {
    // Evenly spaced starts (80 per 6 s: one every 75 ms) rather than bursts of 80: whatever
    // window Coda counts in, and however the network bunches requests up on the way, no window
    // sees more than the rate. `strict` spaces starts by a sliding window, not a fixed one (fixed
    // windows let two starts touch across a boundary).
    this.queue = new PQueue({
      intervalCap: 1,
      interval: Math.ceil(rate.intervalMs / rate.requests),
      strict: true,
    });
  }

  /** Runs `task` when the rate allows; retries jump ahead so a table's next page is not starved. */
  run<T>(task: () => Promise<T>, options: { retry: boolean; signal?: AbortSignal }): Promise<T> {
    return this.queue.add(task, { priority: options.retry ? 1 : 0, signal: options.signal });
  }

  /** Starts nothing new for `ms`; overlapping holds keep the queue paused until the last ends. */
  async holdFor(ms: number, signal?: AbortSignal): Promise<void> {
    this.holds += 1;
    this.queue.pause();
    try {
      await this.clock.sleep(ms, signal);
    } finally {
      this.holds -= 1;
      if (this.holds === 0) this.queue.start();
    }
  }
}
