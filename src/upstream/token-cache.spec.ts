import { describe, expect, it, vi } from 'vitest';

import { type IssuedToken,TokenCache } from './token-cache.js';

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(err: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every queued promise callback run (a macrotask turn; no time passes on the injected clock). */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A fetch whose calls are answered by the test, one deferred per call, plus an injected clock. */
function harness(refreshBeforeMs = 10_000) {
  let clock = 1_000_000;
  const calls: Array<Deferred<IssuedToken>> = [];
  const fetch = vi.fn(() => {
    const d = deferred<IssuedToken>();
    calls.push(d);
    return d.promise;
  });
  const onRefreshError = vi.fn();
  const cache = new TokenCache({ fetch, refreshBeforeMs, now: () => clock, onRefreshError });
  return {
    cache,
    fetch,
    onRefreshError,
    calls,
    /** Answers the n-th fetch (0-based). */
    answer: (n: number, token: IssuedToken) => calls[n].resolve(token),
    fail: (n: number, err: unknown) => calls[n].reject(err),
    advance: (ms: number) => {
      clock += ms;
    },
  };
}

/** Whether `p` has settled, without waiting for it. */
async function isSettled(p: Promise<unknown>): Promise<boolean> {
  let settled = false;
  p.then(
    () => (settled = true),
    () => (settled = true),
  );
  await settle();
  return settled;
}

describe('TokenCache', () => {
  it('concurrent get() calls share one fetch', async () => {
    const h = harness();
    const all = Promise.all([h.cache.get(), h.cache.get(), h.cache.get()]);
    expect(h.fetch).toHaveBeenCalledTimes(1);
    h.answer(0, { accessToken: 'T1', expiresInMs: 3_600_000 });
    expect(await all).toEqual(['T1', 'T1', 'T1']);
    expect(h.fetch).toHaveBeenCalledTimes(1);
  });

  it('reuses a token without expiry however long it is held, until it is invalidated', async () => {
    const h = harness();
    const first = h.cache.get();
    h.answer(0, { accessToken: 'T1' });
    expect(await first).toBe('T1');
    h.advance(10 * 365 * 86_400_000);
    expect(await h.cache.get()).toBe('T1');
    expect(h.fetch).toHaveBeenCalledTimes(1);

    h.cache.invalidate('T1');
    const second = h.cache.get();
    expect(h.fetch).toHaveBeenCalledTimes(2);
    h.answer(1, { accessToken: 'T2' });
    expect(await second).toBe('T2');
  });

  it('invalidating an old token does not drop a newer one', async () => {
    const h = harness();
    const first = h.cache.get();
    h.answer(0, { accessToken: 'T1' });
    await first;
    h.cache.invalidate('T1');
    const second = h.cache.get();
    h.answer(1, { accessToken: 'T2' });
    expect(await second).toBe('T2');

    // a late rejection of T1 (e.g. a request that was in flight with it) must not cost T2
    h.cache.invalidate('T1');
    expect(await h.cache.get()).toBe('T2');
    expect(h.fetch).toHaveBeenCalledTimes(2);
  });

  it('does not refresh while more than refreshBeforeMs remains', async () => {
    const h = harness(10_000);
    const first = h.cache.get();
    h.answer(0, { accessToken: 'T1', expiresInMs: 60_000 });
    await first;
    h.advance(49_999);
    expect(await h.cache.get()).toBe('T1');
    expect(h.fetch).toHaveBeenCalledTimes(1);
  });

  it('refreshes proactively in the background, once, returning the current token meanwhile', async () => {
    const h = harness(10_000);
    const first = h.cache.get();
    h.answer(0, { accessToken: 'T1', expiresInMs: 60_000 });
    await first;

    h.advance(55_000); // 5 s left, less than refreshBeforeMs
    const during = h.cache.get();
    expect(await isSettled(during)).toBe(true); // not waiting for the refresh
    expect(await during).toBe('T1');
    expect(h.fetch).toHaveBeenCalledTimes(2);

    // more callers while the refresh is in flight: still the current token, no second refresh
    expect(await h.cache.get()).toBe('T1');
    expect(await h.cache.get()).toBe('T1');
    expect(h.fetch).toHaveBeenCalledTimes(2);

    h.answer(1, { accessToken: 'T2', expiresInMs: 60_000 });
    await settle();
    expect(await h.cache.get()).toBe('T2');
    expect(h.fetch).toHaveBeenCalledTimes(2);
    expect(h.onRefreshError).not.toHaveBeenCalled();
  });

  it('measures the new expiry from when the token arrived', async () => {
    const h = harness(10_000);
    const first = h.cache.get();
    h.advance(5_000); // the fetch took 5 s
    h.answer(0, { accessToken: 'T1', expiresInMs: 60_000 });
    await first;
    h.advance(49_999); // 10_001 ms left of a lifetime that started at arrival
    expect(await h.cache.get()).toBe('T1');
    expect(h.fetch).toHaveBeenCalledTimes(1);
  });

  it('waits for a new token once the current one has expired', async () => {
    const h = harness(10_000);
    const first = h.cache.get();
    h.answer(0, { accessToken: 'T1', expiresInMs: 60_000 });
    await first;

    h.advance(60_000); // exactly expired
    const afterExpiry = h.cache.get();
    expect(await isSettled(afterExpiry)).toBe(false);
    expect(h.fetch).toHaveBeenCalledTimes(2);
    h.answer(1, { accessToken: 'T2', expiresInMs: 60_000 });
    expect(await afterExpiry).toBe('T2');
  });

  it('keeps serving the still-valid token when a background refresh fails, and reports the failure', async () => {
    const h = harness(10_000);
    const first = h.cache.get();
    h.answer(0, { accessToken: 'T1', expiresInMs: 60_000 });
    await first;

    h.advance(55_000);
    expect(await h.cache.get()).toBe('T1');
    const boom = new Error('login endpoint down');
    h.fail(1, boom);
    await settle();
    expect(h.onRefreshError).toHaveBeenCalledTimes(1);
    expect(h.onRefreshError).toHaveBeenCalledWith(boom);

    // still inside the refresh window: the token is served and a new refresh is attempted
    expect(await h.cache.get()).toBe('T1');
    expect(h.fetch).toHaveBeenCalledTimes(3);
    h.answer(2, { accessToken: 'T2', expiresInMs: 60_000 });
    await settle();
    expect(await h.cache.get()).toBe('T2');
  });

  it('rejects when a fetch fails with no token held, and the next get() tries again', async () => {
    const h = harness();
    const a = h.cache.get();
    const b = h.cache.get();
    h.fail(0, new Error('invalid_client'));
    await expect(a).rejects.toThrow('invalid_client');
    await expect(b).rejects.toThrow('invalid_client');
    expect(h.fetch).toHaveBeenCalledTimes(1);
    expect(h.onRefreshError).not.toHaveBeenCalled();

    const retry = h.cache.get();
    expect(h.fetch).toHaveBeenCalledTimes(2);
    h.answer(1, { accessToken: 'T1' });
    expect(await retry).toBe('T1');
  });

  it('uses Date.now when no clock is injected', async () => {
    vi.useFakeTimers();
    try {
      vi.setSystemTime(new Date('2026-01-01T00:00:00Z'));
      let n = 0;
      const cache = new TokenCache({ fetch: () => Promise.resolve({ accessToken: `T${++n}`, expiresInMs: 60_000 }), refreshBeforeMs: 0 });
      expect(await cache.get()).toBe('T1');
      vi.setSystemTime(new Date('2026-01-01T00:00:59.999Z'));
      expect(await cache.get()).toBe('T1');
      vi.setSystemTime(new Date('2026-01-01T00:01:00Z'));
      expect(await cache.get()).toBe('T2');
    } finally {
      vi.useRealTimers();
    }
  });
});
