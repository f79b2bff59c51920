import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { Deadline } from '../upstream/deadline.js';
import { UpstreamError } from '../upstream/upstream-error.js';
import { PrepaidSlot, withPrepaidSlot } from './prepaid-slot.js';
import { SharedRateLimiter } from './shared-rate-limiter.js';
import { SourcePolicy } from './source-policy.js';

function policy(overrides: Partial<ConstructorParameters<typeof SourcePolicy>[0]> = {}): SourcePolicy {
  return new SourcePolicy({
    source: 'sap',
    breaker: { errorPercent: 50, windowMs: 60_000, minCalls: 4, openMs: 30_000 },
    retry: { maxAttempts: 1, baseMs: 50 },
    bulkhead: { maxConcurrent: 2, queue: 0 },
    ...overrides,
  });
}

const fail = (kind: UpstreamError['kind'], retryAfterMs?: number) => () => Promise.reject(new UpstreamError('sap', kind, kind, kind === 'rate_limited' ? 429 : 503, retryAfterMs));
const ok = () => Promise.resolve('ok');

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(Date.UTC(2026, 10, 23, 12));
});
afterEach(() => vi.useRealTimers());

describe('circuit breaker', () => {
  it('opens when half the calls in the window fail (after the minimum number of calls), then fails fast', async () => {
    const p = policy();
    const calls = vi.fn(fail('unavailable'));
    await expect(p.execute(ok, undefined, true)).resolves.toBe('ok');
    await expect(p.execute(ok, undefined, true)).resolves.toBe('ok');
    await expect(p.execute(calls, undefined, true)).rejects.toMatchObject({ kind: 'unavailable' });
    expect(p.state).toBe('closed');
    await expect(p.execute(calls, undefined, true)).rejects.toMatchObject({ kind: 'unavailable' });
    expect(p.state).toBe('open');
    await expect(p.execute(calls, undefined, true)).rejects.toMatchObject({ kind: 'circuit_open' });
    expect(calls).toHaveBeenCalledTimes(2);
  });

  it('stays open for the configured time, lets exactly one trial through, and closes when it succeeds', async () => {
    const p = policy();
    for (let i = 0; i < 4; i++) await p.execute(fail('timeout'), undefined, true).catch(() => undefined);
    expect(p.state).toBe('open');
    vi.setSystemTime(Date.now() + 29_000);
    await expect(p.execute(ok, undefined, true)).rejects.toMatchObject({ kind: 'circuit_open' });
    vi.setSystemTime(Date.now() + 1_001);
    let release!: () => void;
    const trialCall = vi.fn(() => new Promise<string>((r) => (release = () => r('ok'))));
    const trial = p.execute(trialCall, undefined, true);
    await vi.advanceTimersByTimeAsync(0);
    expect(p.state).toBe('half-open');
    // a second caller does not reach the system while the trial runs; it goes after the trial succeeds
    const second = vi.fn(ok);
    const secondResult = p.execute(second, undefined, true);
    await vi.advanceTimersByTimeAsync(0);
    expect(trialCall).toHaveBeenCalledTimes(1);
    expect(second).not.toHaveBeenCalled();
    release();
    await expect(trial).resolves.toBe('ok');
    await expect(secondResult).resolves.toBe('ok');
    expect(p.state).toBe('closed');
  });

  it('is not opened by throttling, unknown customers or bad requests', async () => {
    const p = policy();
    for (const kind of ['rate_limited', 'not_found', 'bad_request', 'rate_limited', 'not_found'] as const) {
      await p.execute(fail(kind), undefined, true).catch(() => undefined);
    }
    expect(p.state).toBe('closed');
  });
});

describe('retries', () => {
  it('retries transient failures of reads with a backoff that is never zero', async () => {
    const p = policy({ retry: { maxAttempts: 3, baseMs: 50 } });
    const call = vi.fn().mockRejectedValueOnce(new UpstreamError('sap', 'unavailable', 'x', 503)).mockResolvedValueOnce('ok');
    const result = p.execute(call, undefined, true);
    await vi.advanceTimersByTimeAsync(0);
    expect(call).toHaveBeenCalledTimes(1); // not immediately
    await vi.advanceTimersByTimeAsync(9);
    expect(call).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(60);
    await expect(result).resolves.toBe('ok');
    expect(call).toHaveBeenCalledTimes(2);
  });

  it('never retries a write or a non-transient failure', async () => {
    const p = policy({ retry: { maxAttempts: 3, baseMs: 50 } });
    const write = vi.fn(fail('unavailable'));
    await expect(p.execute(write, undefined, false)).rejects.toMatchObject({ kind: 'unavailable' });
    expect(write).toHaveBeenCalledTimes(1);
    const auth = vi.fn(fail('auth'));
    await expect(p.execute(auth, undefined, true)).rejects.toMatchObject({ kind: 'auth' });
    expect(auth).toHaveBeenCalledTimes(1);
  });

  it('waits at least Retry-After before retrying a 429', async () => {
    const p = policy({ retry: { maxAttempts: 2, baseMs: 50 } });
    const call = vi.fn().mockRejectedValueOnce(new UpstreamError('sap', 'rate_limited', 'x', 429, 2000)).mockResolvedValueOnce('ok');
    const result = p.execute(call, undefined, true);
    await vi.advanceTimersByTimeAsync(1999);
    expect(call).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(200);
    await expect(result).resolves.toBe('ok');
    expect(call).toHaveBeenCalledTimes(2);
  });

  it('gives up rather than retry past the deadline', async () => {
    const p = policy({ retry: { maxAttempts: 3, baseMs: 50 } });
    const signal = Deadline.after(500).signal;
    const call = vi.fn(fail('rate_limited', 2000));
    await expect(p.execute(call, signal, true)).rejects.toMatchObject({ kind: 'rate_limited' });
    expect(call).toHaveBeenCalledTimes(1);
  });
});

describe('bulkhead', () => {
  it('refuses a call beyond the concurrency limit at once, as back-pressure', async () => {
    const p = policy();
    const hold: Array<() => void> = [];
    const slow = () => new Promise<string>((r) => hold.push(() => r('ok')));
    const a = p.execute(slow, undefined, true);
    const b = p.execute(slow, undefined, true);
    await expect(p.execute(ok, undefined, true)).rejects.toMatchObject({ kind: 'rate_limited' });
    await vi.advanceTimersByTimeAsync(0);
    hold.forEach((h) => h());
    await expect(Promise.all([a, b])).resolves.toEqual(['ok', 'ok']);
  });
});

describe('a slot taken before the call (batches)', () => {
  it('the first call inside withPrepaidSlot uses the reserved slot; the next ones (a second page, a retry) take their own', async () => {
    const limiter = new SharedRateLimiter({ source: 'sap', points: 3, durationSec: 1, redis: null, keyPrefix: 'c360', expectedReplicas: 1, maxWaitMs: 0, opTimeoutMs: 100, maxQueue: 10 });
    const p = policy({ limiter });
    await p.reserveSlot(new AbortController().signal); // 1 of 3
    const slot = new PrepaidSlot();
    const results = await withPrepaidSlot(slot, async () => [await p.execute(ok, undefined, true), await p.execute(ok, undefined, true)]); // 2 of 3
    expect(results).toEqual(['ok', 'ok']);
    await expect(p.execute(ok, undefined, true)).resolves.toBe('ok'); // 3 of 3
    await expect(p.execute(ok, undefined, true), 'the window is spent: the prepaid call was counted once, not twice or never').rejects.toMatchObject({ kind: 'rate_limited' });
  });

  it('reserving waits for the next second up to the deadline (past RATE_LIMIT_MAX_WAIT_MS: the wait gathers the batch), and is refused as rate_limited when no slot comes by then', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const limiter = new SharedRateLimiter({ source: 'sap', points: 1, durationSec: 1, redis: null, keyPrefix: 'c360', expectedReplicas: 1, maxWaitMs: 0, opTimeoutMs: 100, maxQueue: 10 });
    const p = policy({ limiter });
    await p.reserveSlot(new AbortController().signal); // this second's only slot
    await expect(p.reserveSlot(Deadline.after(300).signal)).rejects.toMatchObject({ kind: 'rate_limited' });
    let granted = false;
    const waiting = p.reserveSlot(Deadline.after(1_500).signal).then(() => (granted = true));
    await vi.advanceTimersByTimeAsync(900);
    expect(granted).toBe(false);
    await vi.advanceTimersByTimeAsync(200);
    await waiting;
    expect(granted, 'the next second\'s slot').toBe(true);
    await expect(p.execute(ok, undefined, true), 'a single call still waits no longer than RATE_LIMIT_MAX_WAIT_MS (0 here)').rejects.toMatchObject({ kind: 'rate_limited' });
  });
});
