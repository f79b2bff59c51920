import { Logger } from '@nestjs/common';
import fc from 'fast-check';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

import type { Redis } from '../cache/redis.provider.js';
import { Deadline } from '../upstream/deadline.js';
import { type RateLimitOptions, SharedRateLimiter } from './shared-rate-limiter.js';

/**
 * The limiter's own rules, on one process's in-memory counts and a fake clock: aligned windows,
 * the guard band at a window's end, waiting within the budget and the deadline, the queue bound,
 * pauses, and the fall-back share when Redis is away. The count shared through Redis, across
 * processes, is test/integration/rate-limiter.test.ts.
 */

/** The start of an aligned second. */
const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);

function limiter(options: Partial<RateLimitOptions> = {}) {
  const hooks = { waits: 0, refusals: 0, fallbacks: 0 };
  const l = new SharedRateLimiter({
    source: 'salesforce',
    points: 3,
    durationSec: 1,
    redis: null,
    keyPrefix: 'c360',
    expectedReplicas: 3,
    maxWaitMs: 0,
    opTimeoutMs: 100,
    maxQueue: 10,
    onWait: () => hooks.waits++,
    onRefuse: () => hooks.refusals++,
    onFallback: () => hooks.fallbacks++,
    ...options,
  });
  return { l, hooks };
}

/** How many of `n` immediate acquires are granted. */
async function granted(l: SharedRateLimiter, n: number): Promise<number> {
  let ok = 0;
  for (let i = 0; i < n; i++) {
    await l.acquire().then(
      () => ok++,
      () => undefined,
    );
  }
  return ok;
}

/** Whether `p` has settled after fake time moved by `ms`. */
async function settledAfter(p: Promise<unknown>, ms: number): Promise<boolean> {
  let settled = false;
  void p.then(
    () => (settled = true),
    () => (settled = true),
  );
  await vi.advanceTimersByTimeAsync(ms);
  return settled;
}

beforeAll(() => {
  Logger.overrideLogger(false);
});
beforeEach(() => {
  vi.useFakeTimers({ now: T0 + 500 });
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('SharedRateLimiter: windows', () => {
  it('grants the limit in a window, then refuses as rate_limited, saying when the next window opens', async () => {
    const { l, hooks } = limiter();
    expect(await granted(l, 3)).toBe(3);
    await expect(l.acquire()).rejects.toMatchObject({ source: 'salesforce', kind: 'rate_limited', retryAfterMs: 500 });
    expect(hooks.refusals).toBe(1);
  });

  it('windows are aligned to the clock\'s seconds: the count starts again at the boundary, not a second after the first call', async () => {
    const { l } = limiter();
    expect(await granted(l, 4)).toBe(3);
    vi.setSystemTime(T0 + 1000);
    expect(await granted(l, 4)).toBe(3);
  });

  it('a grant in the last 250 ms of a window also counts against the next one (it may land there)', async () => {
    const { l } = limiter();
    vi.setSystemTime(T0 + 800);
    expect(await granted(l, 1)).toBe(1);
    vi.setSystemTime(T0 + 1100);
    expect(await granted(l, 3)).toBe(2);
  });

  it('a grant before the guard band counts once', async () => {
    const { l } = limiter();
    vi.setSystemTime(T0 + 700);
    expect(await granted(l, 1)).toBe(1);
    vi.setSystemTime(T0 + 1100);
    expect(await granted(l, 3)).toBe(3);
  });

  it('without Redis the whole limit is this process\'s (one replica)', async () => {
    const { l, hooks } = limiter({ points: 9, redis: null });
    expect(await granted(l, 10)).toBe(9);
    expect(hooks.fallbacks).toBe(0);
  });
});

describe('SharedRateLimiter: waiting for a slot', () => {
  it('waits for the next window when it opens within RATE_LIMIT_MAX_WAIT_MS', async () => {
    const { l, hooks } = limiter({ maxWaitMs: 1000 });
    await granted(l, 3);
    const waiting = l.acquire();
    expect(await settledAfter(waiting, 499)).toBe(false);
    expect(await settledAfter(waiting, 1)).toBe(true);
    await expect(waiting).resolves.toBe(1);
    expect(hooks.waits).toBe(1);
  });

  it('does not start a wait that would end past the wait budget', async () => {
    const { l, hooks } = limiter({ maxWaitMs: 400 });
    await granted(l, 3);
    await expect(l.acquire()).rejects.toMatchObject({ kind: 'rate_limited' });
    expect(hooks.waits).toBe(0);
  });

  it('does not start a wait that would end past the deadline the signal carries', async () => {
    const { l } = limiter({ maxWaitMs: 5000 });
    await granted(l, 3);
    const deadline = Deadline.after(300);
    await expect(l.acquire(deadline.signal)).rejects.toMatchObject({ kind: 'rate_limited' });
    deadline.dispose();
  });

  it('refuses at once when maxQueue calls already wait (the bulkhead queue size)', async () => {
    const { l } = limiter({ maxWaitMs: 1000, maxQueue: 1 });
    await granted(l, 3);
    const first = l.acquire();
    await vi.advanceTimersByTimeAsync(0);
    await expect(l.acquire()).rejects.toMatchObject({ kind: 'rate_limited' });
    await vi.advanceTimersByTimeAsync(500);
    await expect(first).resolves.toBe(1);
  });

  it('a call woken too late for the window its slot was charged to gives that slot up and takes the next free one', async () => {
    let lag = 0;
    let late = 0;
    const { l } = limiter({ maxWaitMs: 5000, now: () => Date.now() + lag, onLateSlot: () => late++ });
    await granted(l, 3); // the window of T0+500 is full: the next slot opens at T0+1000
    const waiting = l.acquire();
    await vi.advanceTimersByTimeAsync(0);
    lag = 1000; // the process wakes at T0+2000 by its clock: a window that never counted this call
    await vi.advanceTimersByTimeAsync(500);
    await expect(waiting).resolves.toBe(1);
    expect(late).toBe(1);
    // the call was counted where it goes: two more go in that window, not three
    const now = await Promise.allSettled([0, 1, 2].map(() => l.acquire(undefined, undefined, 0)));
    expect(now.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
  });

  it('a call woken within the first half of its window\'s guard band keeps its slot', async () => {
    let lag = 0;
    let late = 0;
    const { l } = limiter({ maxWaitMs: 5000, now: () => Date.now() + lag, onLateSlot: () => late++ });
    await granted(l, 3);
    const waiting = l.acquire();
    await vi.advanceTimersByTimeAsync(0);
    lag = 1000 - 250 + 124; // wakes at T0+1874: 126 ms before the next boundary
    await vi.advanceTimersByTimeAsync(500);
    await expect(waiting).resolves.toBe(1);
    expect(late).toBe(0);
  });

  it('a wait cancelled by its signal ends as a timeout', async () => {
    const { l } = limiter({ maxWaitMs: 1000 });
    await granted(l, 3);
    const controller = new AbortController();
    const waiting = l.acquire(controller.signal);
    await vi.advanceTimersByTimeAsync(100);
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ kind: 'timeout' });
  });
});

describe('SharedRateLimiter: pause (the system said "come back later")', () => {
  it('no call is granted in any window the pause covers, and calls go again after it', async () => {
    const { l } = limiter();
    await l.pause(1200); // from T0 + 500 until T0 + 1700
    expect(await granted(l, 1)).toBe(0);
    vi.setSystemTime(T0 + 1300);
    expect(await granted(l, 1)).toBe(0);
    vi.setSystemTime(T0 + 2000);
    expect(await granted(l, 1)).toBe(1);
  });
});

describe('SharedRateLimiter: Redis away', () => {
  it('each process falls back to its share (limit ÷ expected replicas), and reports the fall-back', async () => {
    const notReady = { isReady: false } as unknown as Redis;
    const { l, hooks } = limiter({ points: 9, expectedReplicas: 3, redis: notReady });
    expect(await granted(l, 5)).toBe(3);
    expect(hooks.fallbacks).toBeGreaterThanOrEqual(5);
  });

  it('back on Redis, a window it fell back in is finished on its share and no later one: a call that does not fit waits for the next window and asks Redis', async () => {
    const asked: string[][] = [];
    // Redis answers RESERVE with a slot at once in the first window asked (wait 0, position 1, 1 window)
    const redis = { isReady: false, run: (_script: unknown, call: { keys: string[] }) => (asked.push(call.keys), Promise.resolve([0, 1, 1])) };
    const { l } = limiter({ points: 9, expectedReplicas: 3, redis: redis as unknown as Redis, maxWaitMs: 2000 }); // share: 3
    for (let i = 0; i < 3; i++) await l.acquire(undefined, undefined, 0); // on the share, in the window of T0+500
    redis.isReady = true;
    const next = l.acquire();
    expect(await settledAfter(next, 499)).toBe(false); // not booked on the share in the next window: it waits for it
    expect(asked).toHaveLength(0);
    expect(await settledAfter(next, 1)).toBe(true);
    await expect(next).resolves.toBe(1);
    expect(asked).toHaveLength(1); // and then Redis gave the slot
  });

  it('the share is at least one call per window', async () => {
    const notReady = { isReady: false } as unknown as Redis;
    const { l } = limiter({ points: 2, expectedReplicas: 3, redis: notReady });
    expect(await granted(l, 3)).toBe(1);
  });
});

/**
 * What one acquire comes to, without sitting out its wait: the ms it waits for its slot(s)
 * (0: at once), or 'refused'. The limiter must report waits through `onWait`.
 */
async function outcomeOf(l: SharedRateLimiter, seen: { wait?: (ms: number) => void }, count: number, maxWaitMs: number): Promise<number | 'refused'> {
  const waited = new Promise<number>((resolve) => (seen.wait = resolve));
  const settled = l.acquire(undefined, undefined, maxWaitMs, count).then(
    () => 0,
    () => 'refused' as const,
  );
  return Promise.race([settled, waited]);
}

function paced(points: number, burstShare: number) {
  const seen: { wait?: (ms: number) => void } = {};
  let clock = T0;
  const l = new SharedRateLimiter({ source: 'salesforce', points, burstShare, durationSec: 1, redis: null, keyPrefix: 'c360', expectedReplicas: 1, maxWaitMs: 0, opTimeoutMs: 100, maxQueue: 1_000_000, onWait: (ms) => seen.wait?.(ms), now: () => clock });
  return { l, at: (ms: number) => (clock = T0 + ms), attempt: (count: number, maxWaitMs = 5_000) => outcomeOf(l, seen, count, maxWaitMs) };
}

describe('SharedRateLimiter: paced (RATE_LIMIT_BURST_PERCENT)', () => {
  // 5 a second, 40 % at once: 2 slots open at the start, the other 3 evenly until the guard band (749 ms in)
  it('a burst goes at once; each further call is given the next slot, opening evenly through the window, and then the next window\'s', async () => {
    const { attempt } = paced(5, 0.4);
    const waits = [];
    for (let i = 0; i < 7; i++) waits.push(await attempt(1));
    expect(waits).toEqual([0, 0, 250, 500, 749, 1000, 1000]);
  });

  it('traffic that starts late in a window gets its burst at once, then one slot a step, not the whole unused budget at once', async () => {
    const { at, attempt } = paced(5, 0.4);
    at(600);
    // 600, 600, one step later (850: in the guard band, so charged to the next window too), then the next window's burst and step
    expect([await attempt(1), await attempt(1), await attempt(1), await attempt(1), await attempt(1)]).toEqual([0, 0, 250, 400, 650]);
  });

  it('the slots of one batch are taken in one window and its calls go together when the last opens', async () => {
    const { attempt } = paced(5, 0.4);
    expect(await attempt(1)).toBe(0);
    expect(await attempt(2)).toBe(250); // slots 2 and 3
    expect(await attempt(2)).toBe(749); // 4 and 5
    expect(await attempt(2)).toBe(1000); // the next window's burst, not the last slot here and the first there
  });

  it('a batch asking for more slots than a window holds gets what one holds (its other calls take their own)', async () => {
    const { l } = paced(1, 1);
    await expect(l.acquire(undefined, undefined, 5_000, 2)).resolves.toBe(1);
  });

  it('refuses, charging nothing, when the slot is further away than the wait allowed', async () => {
    const { attempt } = paced(5, 0.4);
    await attempt(2);
    expect(await attempt(1, 200)).toBe('refused');
    expect(await attempt(1, 250)).toBe(250);
  });

  it('model: whatever is asked, no aligned second ever receives more than the limit, counting calls that leave in the guard band before it; no wait is longer than allowed', async () => {
    const ask = fc.record({ after: fc.integer({ min: 0, max: 400 }), count: fc.integer({ min: 1, max: 3 }), maxWaitMs: fc.integer({ min: 0, max: 1_500 }) });
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 100 }), fc.array(ask, { minLength: 1, maxLength: 60 }), async (points, burstPercent, asks) => {
        const { at, attempt } = paced(points, burstPercent / 100);
        let now = 0;
        const leaving: number[] = [];
        for (const { after, count, maxWaitMs } of asks) {
          now += after;
          at(now);
          const wait = await attempt(count, maxWaitMs);
          if (wait === 'refused') continue;
          expect(wait).toBeLessThanOrEqual(maxWaitMs);
          for (let i = 0; i < Math.min(count, points); i++) leaving.push(now + wait); // a window holds no more
        }
        const windows = new Set(leaving.map((t) => Math.floor(t / 1000)));
        for (const w of windows) {
          const landing = leaving.filter((t) => t >= w * 1000 - 250 && t < (w + 1) * 1000).length;
          expect(landing).toBeLessThanOrEqual(points);
        }
      }),
      { numRuns: 300 },
    );
  });
});
