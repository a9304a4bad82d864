/**
 * The one queue every Coda request goes through, on fake timers: when each request starts is read
 * off the fake clock, so the pacing is checked exactly and no test waits for real time. Holds go
 * through an injected clock whose waits end when the test says.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RequestQueue } from '../../src/extract/request-queue.ts';
import type { Clock } from '../../src/extract/timing.ts';

/** A clock whose sleeps end only when the test ends them, recording what was asked. */
function manualClock() {
  const sleeps: { ms: number; end: () => void }[] = [];
  const clock: Clock = {
    now: () => Date.now(),
    sleep: (ms, signal) =>
      new Promise<void>((resolve, reject) => {
        signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
        sleeps.push({ ms, end: resolve });
      }),
  };
  return { clock, sleeps };
}

/** Tasks that record when they started (fake time since the test began) and finish when told. */
function recorder() {
  const started: { name: string; at: number }[] = [];
  const t0 = Date.now();
  const task =
    (name: string, finish: Promise<unknown> = Promise.resolve()) =>
    async () => {
      started.push({ name, at: Date.now() - t0 });
      await finish;
      return name;
    };
  return { started, task };
}

beforeEach(() => {
  vi.useFakeTimers({ now: new Date('2024-05-01T12:00:00Z') });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('pacing', () => {
  it('starts requests one at a time, evenly spaced at the configured rate, never in a burst', async () => {
    const queue = new RequestQueue({ requests: 4, intervalMs: 400 }, manualClock().clock);
    const { started, task } = recorder();
    const done = Promise.all(
      Array.from({ length: 8 }, (_, index) => queue.run(task(`r${index}`), { retry: false })),
    );
    await vi.advanceTimersByTimeAsync(0);
    expect(started.map((start) => start.name)).toEqual(['r0']);
    await vi.advanceTimersByTimeAsync(99);
    expect(started).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await done).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7']);
    const gaps = started.slice(1).map((start, index) => start.at - started[index]!.at);
    // 400 ms / 4 requests: one start every 100 ms.
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(100);
    expect(started.at(-1)!.at).toBeLessThanOrEqual(7 * 100 + 10);
  });

  it('rounds an uneven spacing up, so no window sees more than the rate', async () => {
    // 7 per 500 ms: a start every 71.4 ms, which rounded down would let 8 starts into 500 ms.
    const queue = new RequestQueue({ requests: 7, intervalMs: 500 }, manualClock().clock);
    const { started, task } = recorder();
    const done = Promise.all(
      Array.from({ length: 30 }, (_, index) => queue.run(task(`${index}`), { retry: false })),
    );
    await vi.advanceTimersByTimeAsync(5_000);
    await done;
    const times = started.map((start) => start.at);
    expect(times).toHaveLength(30);
    for (let index = 0; index + 7 < times.length; index += 1)
      expect(times[index + 7]! - times[index]!, `starts ${index}..${index + 7}`).toBeGreaterThanOrEqual(500);
  });

  it('does not wait for an answer before starting the next request: reads run concurrently', async () => {
    const queue = new RequestQueue({ requests: 10, intervalMs: 100 }, manualClock().clock);
    const { started, task } = recorder();
    let answer!: () => void;
    const slow = queue.run(task('slow', new Promise<void>((resolve) => (answer = resolve))), {
      retry: false,
    });
    const fast = queue.run(task('fast'), { retry: false });
    await vi.advanceTimersByTimeAsync(50);
    expect(started.map((start) => start.name)).toEqual(['slow', 'fast']);
    expect(await fast).toBe('fast');
    answer();
    expect(await slow).toBe('slow');
  });
});

describe('order', () => {
  it('starts requests in the order they were queued, and a retry ahead of requests not yet started', async () => {
    const queue = new RequestQueue({ requests: 1, intervalMs: 100 }, manualClock().clock);
    const { started, task } = recorder();
    const runs = [
      queue.run(task('page 1 of A'), { retry: false }),
      queue.run(task('page 1 of B'), { retry: false }),
      queue.run(task('page 1 of C'), { retry: false }),
    ];
    await vi.advanceTimersByTimeAsync(0);
    runs.push(queue.run(task('retry of A'), { retry: true }));
    await vi.advanceTimersByTimeAsync(1_000);
    await Promise.all(runs);
    expect(started.map((start) => start.name)).toEqual([
      'page 1 of A',
      'retry of A',
      'page 1 of B',
      'page 1 of C',
    ]);
  });

  it("hands each caller its own task's result or failure", async () => {
    const queue = new RequestQueue({ requests: 10, intervalMs: 100 }, manualClock().clock);
    const failing = queue.run(() => Promise.reject(new Error('HTTP 500')), { retry: false });
    const succeeding = queue.run(() => Promise.resolve(42), { retry: false });
    const outcome = expect(failing).rejects.toThrow('HTTP 500');
    await vi.advanceTimersByTimeAsync(500);
    await outcome;
    expect(await succeeding).toBe(42);
  });

  it('does not start a request whose signal is aborted while it waits its turn', async () => {
    const queue = new RequestQueue({ requests: 1, intervalMs: 1_000 }, manualClock().clock);
    const { started, task } = recorder();
    const controller = new AbortController();
    const first = queue.run(task('first'), { retry: false });
    const second = queue.run(task('second'), { retry: false, signal: controller.signal });
    const refused = expect(second).rejects.toThrow();
    await vi.advanceTimersByTimeAsync(10);
    controller.abort(new Error('stopped by the user'));
    await vi.advanceTimersByTimeAsync(5_000);
    await refused;
    await first;
    expect(started.map((start) => start.name)).toEqual(['first']);
  });
});

describe('holds (a 429 holds back every read)', () => {
  it('starts nothing while held, for as long as the clock was asked to wait, then carries on in order', async () => {
    const { clock, sleeps } = manualClock();
    const queue = new RequestQueue({ requests: 10, intervalMs: 100 }, clock);
    const { started, task } = recorder();
    const hold = queue.holdFor(30_000);
    const runs = ['a', 'b'].map((name) => queue.run(task(name), { retry: false }));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(sleeps.map((sleep) => sleep.ms)).toEqual([30_000]);
    expect(started).toEqual([]);
    sleeps[0]!.end();
    await hold;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await Promise.all(runs)).toEqual(['a', 'b']);
  });

  it('stays held until the last of overlapping holds ends', async () => {
    const { clock, sleeps } = manualClock();
    const queue = new RequestQueue({ requests: 10, intervalMs: 100 }, clock);
    const { started, task } = recorder();
    const holds = [queue.holdFor(1_000), queue.holdFor(5_000)];
    const run = queue.run(task('after both'), { retry: false });
    sleeps[0]!.end();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(started).toEqual([]);
    sleeps[1]!.end();
    await Promise.all(holds);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await run).toBe('after both');
    expect(started.map((start) => start.name)).toEqual(['after both']);
  });

  it('lets requests start again when a hold is aborted, passing the abort on to the caller', async () => {
    const { clock } = manualClock();
    const queue = new RequestQueue({ requests: 10, intervalMs: 100 }, clock);
    const controller = new AbortController();
    const hold = queue.holdFor(60_000, controller.signal);
    const run = queue.run(() => Promise.resolve('ran'), { retry: false });
    controller.abort(new Error('interrupted'));
    await expect(hold).rejects.toThrow('interrupted');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await run).toBe('ran');
  });
});
