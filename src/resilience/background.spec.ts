import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { type BackgroundWork, inBackground, refreshAheadMs } from './background.js';
import { SharedRateLimiter } from './shared-rate-limiter.js';
import { SourcePolicy } from './source-policy.js';

/** Background work may use what live look-ups leave, keeping 40 % of each window free. */
const WORK: BackgroundWork = { reserveFraction: 0.4, refreshAheadMs: 5000 };
/** 12:00:00.000, the start of a one-second window. */
const WINDOW_START = Date.UTC(2026, 10, 23, 12);

let clock = WINDOW_START;

function limiter(points = 5): SharedRateLimiter {
  return new SharedRateLimiter({ source: 'salesforce', points, durationSec: 1, redis: null, keyPrefix: 'test', expectedReplicas: 1, maxWaitMs: 250, opTimeoutMs: 100, maxQueue: 100, now: () => clock });
}

/** How a call for the limit ended, without letting any timer run (a background call must never wait). */
async function settle(p: Promise<unknown>): Promise<'taken' | 'refused'> {
  let state: 'taken' | 'refused' | 'pending' = 'pending';
  p.then(
    () => (state = 'taken'),
    () => (state = 'refused'),
  );
  for (let i = 0; i < 20 && state === 'pending'; i++) await Promise.resolve();
  if (state === 'pending') throw new Error('the call is waiting for a slot');
  return state;
}

beforeEach(() => {
  vi.useFakeTimers();
  clock = WINDOW_START + 100;
  vi.setSystemTime(clock);
});
afterEach(() => vi.useRealTimers());

describe('shared rate limit: background work takes only spare budget', () => {
  it('takes slots while the reserve stays free after taking them, then is refused at once, never waiting', async () => {
    const l = limiter(5); // reserve: 40 % of 5 → 2 slots
    const outcomes = [];
    for (let i = 0; i < 4; i++) outcomes.push(await settle(l.acquire(undefined, WORK)));
    expect(outcomes).toEqual(['taken', 'taken', 'taken', 'refused']);
  });

  it('leaves the reserve to live calls, which get it without waiting', async () => {
    const l = limiter(5);
    for (let i = 0; i < 3; i++) await l.acquire(undefined, WORK);
    expect(await settle(l.acquire())).toBe('taken');
    expect(await settle(l.acquire())).toBe('taken');
  });

  it('counts what live calls used: with 3 of 5 taken live, nothing is spare', async () => {
    const l = limiter(5);
    for (let i = 0; i < 3; i++) await l.acquire();
    await expect(l.acquire(undefined, WORK)).rejects.toMatchObject({ kind: 'rate_limited', message: 'salesforce: no spare budget for background work' });
  });

  it('in the last 250 ms of a window, takes a slot only if the next window has one to spare too (a call then may count against either)', async () => {
    const l = limiter(5);
    for (let i = 0; i < 3; i++) await l.acquire(undefined, WORK); // this window's spare slots
    clock = WINDOW_START + 800;
    await expect(l.acquire(undefined, WORK)).rejects.toMatchObject({ kind: 'rate_limited' });
    clock = WINDOW_START + 1100;
    // the call made at 800 ms was given back: the next window still has all three spare slots
    for (let i = 0; i < 3; i++) expect(await settle(l.acquire(undefined, WORK))).toBe('taken');
    expect(await settle(l.acquire(undefined, WORK))).toBe('refused');
  });

  it('in the last 250 ms of a window, a slot taken counts against both windows', async () => {
    const l = limiter(5);
    clock = WINDOW_START + 900;
    expect(await settle(l.acquire(undefined, WORK))).toBe('taken');
    clock = WINDOW_START + 1100;
    expect(await settle(l.acquire(undefined, WORK))).toBe('taken');
    expect(await settle(l.acquire(undefined, WORK))).toBe('taken');
    expect(await settle(l.acquire(undefined, WORK))).toBe('refused');
  });

  it('with no reserve, may use the whole budget but still never waits', async () => {
    const l = limiter(2);
    const none = { ...WORK, reserveFraction: 0 };
    expect(await settle(l.acquire(undefined, none))).toBe('taken');
    expect(await settle(l.acquire(undefined, none))).toBe('taken');
    expect(await settle(l.acquire(undefined, none))).toBe('refused');
  });
});

describe('source policy: background work and the bulkhead', () => {
  const policy = (l?: SharedRateLimiter) =>
    new SourcePolicy({
      source: 'salesforce',
      limiter: l,
      breaker: { errorPercent: 50, windowMs: 60_000, minCalls: 100, openMs: 30_000 },
      retry: { maxAttempts: 1, baseMs: 50 },
      bulkhead: { maxConcurrent: 1, queue: 5 },
    });

  it('a background call is refused when every call slot is busy, where a live call would queue', async () => {
    const p = policy();
    let release!: () => void;
    const busy = p.execute(() => new Promise<string>((r) => (release = () => r('live'))), undefined, true);
    await vi.advanceTimersByTimeAsync(0);
    const background = vi.fn(() => Promise.resolve('background'));
    await expect(inBackground(WORK, () => p.execute(background, undefined, true))).rejects.toMatchObject({ kind: 'rate_limited' });
    expect(background).not.toHaveBeenCalled();
    const queued = p.execute(() => Promise.resolve('queued live'), undefined, true);
    release();
    await expect(busy).resolves.toBe('live');
    await expect(queued).resolves.toBe('queued live');
  });

  it('a live call that queued behind a background call is still live when the background call hands it the slot', async () => {
    const l = limiter(100);
    const acquire = vi.spyOn(l, 'acquire');
    const p = policy(l);
    let release!: () => void;
    const background = inBackground(WORK, () => p.execute(() => new Promise<string>((r) => (release = () => r('background'))), undefined, true));
    await vi.advanceTimersByTimeAsync(0);
    const live = p.execute(() => Promise.resolve('live'), undefined, true);
    release();
    await expect(background).resolves.toBe('background');
    await expect(live).resolves.toBe('live');
    expect(acquire.mock.calls.map((c) => c[1])).toEqual([WORK, undefined]);
  });

  it('tells the aggregation how far ahead to refresh only inside background work', async () => {
    expect(refreshAheadMs()).toBe(0);
    await inBackground(WORK, async () => {
      await Promise.resolve();
      expect(refreshAheadMs()).toBe(5000);
    });
  });
});
