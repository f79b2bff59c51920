import { Logger } from '@nestjs/common';
import { type Cache, createCache } from 'cache-manager';
import { Keyv, type KeyvStoreAdapter } from 'keyv';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

import type { CustomerPartial, FetchResult } from '../connectors/connector.js';
import { Metrics } from '../observability/metrics.js';
import { Deadline, deadlineOf } from '../upstream/deadline.js';
import { UpstreamError } from '../upstream/upstream-error.js';
import { CacheConfig } from './cache.config.js';
import { NearCache } from './near-cache.js';
import { ProfileCache, type Resolution, type SourceFetch } from './profile-cache.js';
import type { Lease, ReplicaLock } from './replica-lock.js';
import { type CachedSource, SourceCache } from './source-cache.js';

/**
 * The cache policy, built with `new`: fake sources that answer when the test says (or never), the
 * real SourceCache over an in-memory cache-manager store (the Redis store has its own spec), and a
 * fake replica lock standing for "another replica" (the lock's Redis side has its own spec against
 * redis-server). Time is fake throughout: the clock is Vitest's.
 */

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);
const ID = '0010100001';
const SOURCES = ['salesforce', 'sap', 'servicenow'];
const DEADLINE_MS = 800;
const LATE_MS = 5000;
const BUDGET_MS = DEADLINE_MS + LATE_MS;
/** When a call still running is judged late: the deadline, then one loop turn (after pending I/O), one fake millisecond. */
const JUDGED_AT = DEADLINE_MS + 1;
const FRESH_MS = 30_000;
/** The generation of a customer never invalidated. */
const NEVER = '';

const DATA: Record<string, CustomerPartial> = {
  salesforce: { accountName: 'Acme Corp' },
  sap: { balances: [{ amount: '12.50', currency: 'EUR' }] },
  servicenow: { openTickets: 3 },
};

/** What a fake source does with a call: answer, fail, answer after a delay, or never (until its signal aborts). */
type Reply = FetchResult | Error | Promise<FetchResult> | { afterMs: number; then: FetchResult | Error } | 'hang';

class FakeSource {
  readonly calls: Deadline[] = [];
  reply: (call: number) => Reply;

  constructor(readonly name: string) {
    this.reply = () => ({ found: true, data: DATA[name] });
  }

  readonly fetch: SourceFetch = (deadline) => {
    this.calls.push(deadline);
    const reply = this.reply(this.calls.length);
    const signal = deadline.signal;
    return new Promise<FetchResult>((resolve, reject) => {
      // like the real clients: an abort ends the call as a timeout
      signal.addEventListener('abort', () => reject(new UpstreamError(this.name, 'timeout', 'aborted')), { once: true });
      const settle = (r: FetchResult | Error) => (r instanceof Error ? reject(r) : resolve(r));
      if (reply === 'hang') return;
      if (reply instanceof Promise) return void reply.then(resolve, reject);
      if ('afterMs' in reply) return void setTimeout(() => settle(reply.then), reply.afterMs);
      settle(reply);
    });
  };
}

/** Stands for the other replicas: names (`<source>:<customerId>`) it holds answer 'held-elsewhere'; `land` is the holder's message. */
class FakeLock {
  readonly held = new Set<string>();
  readonly released: Array<[string, string]> = [];
  readonly waits: string[] = [];
  /** What `subscribe` gives when pub/sub is not available. */
  pubSubDown = false;
  private readonly listeners = new Map<string, Set<(outcome: string) => void>>();

  /** The coherence channel, shared by the replicas of one test (each FakeLock stands for one replica's connection). */
  constructor(readonly bus: Array<(message: string) => void> = []) {}

  broadcast(message: string): Promise<void> {
    for (const listener of this.bus) listener(message);
    return Promise.resolve();
  }

  listen(listener: (message: string) => void): void {
    this.bus.push(listener);
  }

  acquire(customerId: string, source: string): Promise<Lease | 'held-elsewhere'> {
    const name = `${source}:${customerId}`;
    if (this.held.has(name)) return Promise.resolve('held-elsewhere');
    return Promise.resolve({
      release: (outcome: string) => {
        this.released.push([name, outcome]);
        return Promise.resolve();
      },
    });
  }

  subscribe(customerId: string, source: string): Promise<{ landed: Promise<string>; cancel: () => void }> {
    const name = `${source}:${customerId}`;
    this.waits.push(name);
    if (this.pubSubDown) return Promise.resolve({ landed: Promise.resolve('unknown'), cancel: () => undefined });
    let wake!: (outcome: string) => void;
    const landed = new Promise<string>((resolve) => (wake = resolve));
    const set = this.listeners.get(name) ?? new Set();
    set.add(wake);
    this.listeners.set(name, set);
    return Promise.resolve({ landed, cancel: () => set.delete(wake) });
  }

  land(name: string, outcome: string): void {
    for (const wake of this.listeners.get(name) ?? []) wake(outcome);
  }
}

/** A store whose every operation fails (Redis erroring under cache-manager). */
function failingStore(): KeyvStoreAdapter {
  const fail = () => Promise.reject(new Error('store down'));
  return { opts: {}, namespace: undefined, get: fail, set: fail, delete: fail, clear: fail, getMany: fail, deleteMany: fail, has: fail, on: () => undefined } as unknown as KeyvStoreAdapter;
}

/**
 * One replica's cache policy. The near tier is off unless asked for (most specs pin the Redis tier);
 * `shared` gives another replica's store (the same Redis) and coherence channel.
 */
/** Two replicas with near caches over one Redis and one pub/sub channel. */
function nearReplicas() {
  const a = harness({ near: true });
  return [a, harness({ near: true, shared: { backing: a.backing, bus: a.lock.bus } })] as const;
}

function harness(options: { store?: KeyvStoreAdapter; lateMs?: number; near?: boolean; nearMaxEntries?: number; shared?: { backing: Cache; bus: Array<(message: string) => void> } } = {}) {
  const cacheConfig = Object.assign(new CacheConfig(), { freshTtlMs: FRESH_MS, staleTtlMs: 86_400_000, opTimeoutMs: 100, keyPrefix: 'c360', nearEnabled: options.near ?? false, nearMaxEntries: options.nearMaxEntries ?? 1000 });
  const backing = options.shared?.backing ?? createCache({ stores: [new Keyv(options.store ? { store: options.store, throwOnErrors: true } : {})] });
  const store = new SourceCache(backing, cacheConfig);
  const lock = new FakeLock(options.shared?.bus);
  const metrics = new Metrics();
  const near = new NearCache(cacheConfig, lock as unknown as ReplicaLock, metrics);
  near.onModuleInit();
  const cache = new ProfileCache(store, lock as unknown as ReplicaLock, { answerMs: DEADLINE_MS, lateMs: options.lateMs ?? LATE_MS }, metrics, near);
  const sources = Object.fromEntries(SOURCES.map((s) => [s, new FakeSource(s)])) as Record<string, FakeSource>;
  /** One source's part, by an answer deadline starting now. */
  const resolve = (source = 'sap', customerId = ID, deadline = Deadline.after(DEADLINE_MS)): Promise<Resolution> => cache.resolve(source, customerId, sources[source].fetch, deadline);
  return { cache, store, backing, lock, metrics, near, sap: sources.sap, sources, resolve };
}

async function counter(metric: { get(): Promise<{ values: Array<{ labels: Record<string, string | number>; value: number }> }> }, labels: Record<string, string>): Promise<number> {
  return (await metric.get()).values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val))?.value ?? 0;
}

/** `p`'s settled value once fake time has moved by `ms`, failing if it settled earlier. */
async function after<T>(p: Promise<T>, ms: number): Promise<T> {
  let settled = false;
  void p.then(
    () => (settled = true),
    () => (settled = true),
  );
  await vi.advanceTimersByTimeAsync(ms - 1);
  expect(settled, `settled before ${ms} ms`).toBe(false);
  await vi.advanceTimersByTimeAsync(2); // the deadline judges after pending I/O: one more fake millisecond
  return p;
}

/** Whether every call has settled and been written (whenIdle resolves without time passing). */
async function idle(cache: ProfileCache): Promise<boolean> {
  let done = false;
  void cache.whenIdle().then(() => (done = true));
  await vi.advanceTimersByTimeAsync(0);
  return done;
}

const entry = (source: string, fetchedAt = T0): CachedSource => ({ found: true, data: DATA[source], fetchedAt });
const answered = (source: string, fetchedAt: number, cache: 'hit' | 'miss' | 'wait', latencyMs: number): Resolution => ({ outcome: 'answered', entry: entry(source, fetchedAt), cache, latencyMs });

beforeAll(() => {
  Logger.overrideLogger(false);
});
beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('ProfileCache: tiers', () => {
  it('serves a fresh cached part as a hit, calling nothing', async () => {
    const h = harness();
    await h.store.put(ID, 'sap', entry('sap'), NEVER);
    vi.setSystemTime(T0 + FRESH_MS - 1);
    expect(await h.resolve()).toEqual(answered('sap', T0, 'hit', 0));
    expect(h.sap.calls).toHaveLength(0);
    expect(await counter(h.metrics.cacheLookups, { cache: 'source', result: 'hit' })).toBe(1);
  });

  it('reads every source of a customer resolved in the same turn in one round trip', async () => {
    const h = harness();
    const getAll = vi.spyOn(h.store, 'getAll');
    await Promise.all([...SOURCES.map((s) => h.resolve(s)), h.resolve('sap', '0010100002')]);
    expect(getAll.mock.calls).toEqual([
      [ID, SOURCES],
      ['0010100002', ['sap']],
    ]);
  });

  it('a request arriving while a read of its customer is on its way joins it (a stampede costs one round trip, not one per request)', async () => {
    const h = harness();
    await h.store.put(ID, 'sap', entry('sap'), NEVER);
    const reads = vi.spyOn(h.store, 'getAll');
    const first = h.resolve();
    await Promise.resolve(); // the first read is sent
    await Promise.resolve();
    const later = [h.resolve(), h.resolve()];
    expect(await Promise.all([first, ...later])).toEqual([0, 1, 2].map(() => answered('sap', T0, 'hit', 0)));
    expect(reads).toHaveBeenCalledTimes(1);
  });

  it('a read sent before an invalidation is not joined after it', async () => {
    const h = harness();
    await h.store.put(ID, 'sap', entry('sap'), NEVER);
    const reads = vi.spyOn(h.store, 'getAll');
    const first = h.resolve();
    await Promise.resolve();
    await Promise.resolve();
    await h.cache.invalidate(ID, SOURCES);
    expect(await h.resolve()).toMatchObject({ cache: 'miss' });
    await first;
    expect(reads).toHaveBeenCalledTimes(2);
  });

  it('on a miss calls the source once, answers with what it said, and stores it', async () => {
    const h = harness();
    h.sap.reply = () => ({ afterMs: 120, then: { found: true, data: DATA.sap } });
    expect(await after(h.resolve(), 120)).toEqual(answered('sap', T0 + 120, 'miss', 120));
    expect(h.sap.calls).toHaveLength(1);
    await h.cache.whenIdle();
    expect(await h.store.get(ID, 'sap')).toEqual(entry('sap', T0 + 120));
    expect(await counter(h.metrics.cacheLookups, { cache: 'source', result: 'miss' })).toBe(1);
  });

  it('a "not found" is an answer: stored, and served from the cache as such', async () => {
    const h = harness();
    h.sap.reply = () => ({ found: false });
    expect(await h.resolve()).toEqual({ outcome: 'answered', entry: { found: false, fetchedAt: T0 }, cache: 'miss', latencyMs: 0 });
    await h.cache.whenIdle();
    expect(await h.resolve()).toEqual({ outcome: 'answered', entry: { found: false, fetchedAt: T0 }, cache: 'hit', latencyMs: 0 });
    expect(h.sap.calls).toHaveLength(1);
  });

  it('a part past its fresh time is fetched again', async () => {
    const h = harness();
    await h.store.put(ID, 'sap', entry('sap'), NEVER);
    vi.setSystemTime(T0 + FRESH_MS);
    expect(await h.resolve()).toEqual(answered('sap', T0 + FRESH_MS, 'miss', 0));
    expect(h.sap.calls).toHaveLength(1);
  });
});

describe('ProfileCache: failures', () => {
  it('a failure with a kept copy gives the copy as stale, with the failure\'s kind', async () => {
    const h = harness();
    await h.store.put(ID, 'sap', entry('sap'), NEVER);
    vi.setSystemTime(T0 + 45_000);
    h.sap.reply = () => new UpstreamError('sap', 'unavailable', 'HTTP 503', 503);
    expect(await h.resolve()).toEqual({ outcome: 'failed', reason: 'unavailable', latencyMs: 0, stale: entry('sap') });
    expect(await counter(h.metrics.cacheLookups, { cache: 'source', result: 'stale' })).toBe(1);
  });

  it('without a copy, the failure itself, named by its kind', async () => {
    const h = harness();
    h.sap.reply = () => new UpstreamError('sap', 'rate_limited', 'slow down');
    expect(await h.resolve()).toEqual({ outcome: 'failed', reason: 'rate_limited', latencyMs: 0 });
  });

  it('an error without a kind (a bug below) is "unavailable", not a thrown request', async () => {
    const h = harness();
    h.sap.reply = () => new TypeError('a bug in a mapper');
    expect(await h.resolve()).toEqual({ outcome: 'failed', reason: 'unavailable', latencyMs: 0 });
  });

  it('failures are not cached: the next request calls again', async () => {
    const h = harness();
    h.sap.reply = (call) => (call === 1 ? new UpstreamError('sap', 'unavailable', 'down') : { found: true, data: DATA.sap });
    expect(await h.resolve()).toMatchObject({ outcome: 'failed' });
    await h.cache.whenIdle();
    expect(await h.resolve()).toMatchObject({ outcome: 'answered', cache: 'miss' });
    expect(h.sap.calls).toHaveLength(2);
  });

  it('cache errors cost a miss, never an error: the source is called and its answer given', async () => {
    const h = harness({ store: failingStore() });
    expect(await h.resolve()).toEqual(answered('sap', T0, 'miss', 0));
    await expect(h.cache.whenIdle()).resolves.toBeUndefined(); // the write was skipped, not thrown
    expect(await h.resolve()).toMatchObject({ cache: 'miss' });
  });
});

describe('ProfileCache: the deadline', () => {
  it('a call still running at the answer\'s deadline is a timeout', async () => {
    const h = harness();
    h.sap.reply = () => 'hang';
    expect(await after(h.resolve(), DEADLINE_MS)).toEqual({ outcome: 'failed', reason: 'timeout', latencyMs: JUDGED_AT });
  });

  it('with a kept copy, a timeout serves it stale', async () => {
    const h = harness();
    await h.store.put(ID, 'sap', entry('sap'), NEVER);
    vi.setSystemTime(T0 + 60_000);
    h.sap.reply = () => 'hang';
    expect(await after(h.resolve(), DEADLINE_MS)).toEqual({ outcome: 'failed', reason: 'timeout', latencyMs: JUDGED_AT, stale: entry('sap') });
  });

  it('an answer deadline already used up (e.g. by a phone look-up) ends the wait at once', async () => {
    const h = harness();
    h.sap.reply = () => 'hang';
    const spent = Deadline.after(0);
    expect(await after(h.resolve('sap', ID, spent), 1)).toMatchObject({ outcome: 'failed', reason: 'timeout' });
  });

  it('gives each call a deadline of its own: the answer time from its start (limits and retries fit it), readable from its signal', async () => {
    const h = harness();
    await h.resolve();
    expect(h.sap.calls[0].at).toBe(T0 + DEADLINE_MS);
    expect(deadlineOf(h.sap.calls[0].signal)).toBe(T0 + DEADLINE_MS);
  });

  it('a call that misses the deadline runs on and its answer is cached (the late write)', async () => {
    const h = harness();
    h.sap.reply = () => ({ afterMs: 2_000, then: { found: true, data: DATA.sap } });
    expect(await after(h.resolve(), DEADLINE_MS)).toMatchObject({ outcome: 'failed', reason: 'timeout' });
    expect(await idle(h.cache)).toBe(false);
    await vi.advanceTimersByTimeAsync(2_000 - DEADLINE_MS);
    await h.cache.whenIdle();
    expect(await h.store.get(ID, 'sap')).toEqual(entry('sap', T0 + 2_000));
    expect(await h.resolve()).toEqual(answered('sap', T0 + 2_000, 'hit', 0));
    expect(h.sap.calls).toHaveLength(1);
  });

  it('a call still running at deadline + late budget is cut (its signal aborts) and nothing is stored', async () => {
    const h = harness();
    h.sap.reply = () => 'hang';
    await after(h.resolve(), DEADLINE_MS);
    const signal = h.sap.calls[0].signal;
    await vi.advanceTimersByTimeAsync(LATE_MS - 2);
    expect(signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(signal.aborted).toBe(true);
    expect(await idle(h.cache)).toBe(true);
    expect(await h.store.get(ID, 'sap')).toBeUndefined();
  });

  it('with no late budget the call is cut at the deadline itself', async () => {
    const h = harness({ lateMs: 0 });
    h.sap.reply = () => 'hang';
    await after(h.resolve(), DEADLINE_MS);
    expect(h.sap.calls[0].signal.aborted).toBe(true);
  });

  it('a call that answers in time leaves no timer behind', async () => {
    const h = harness();
    const deadline = Deadline.after(DEADLINE_MS);
    await h.resolve('sap', ID, deadline);
    await h.cache.whenIdle();
    deadline.dispose();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('shutdown aborts the calls still running', async () => {
    const h = harness();
    h.sap.reply = () => 'hang';
    const pending = h.resolve();
    await vi.advanceTimersByTimeAsync(10);
    h.cache.onApplicationShutdown();
    expect(h.sap.calls[0].signal.aborted).toBe(true);
    expect(await pending).toMatchObject({ outcome: 'failed', reason: 'timeout' });
  });
});

describe('ProfileCache: one call at a time per source and customer', () => {
  it('concurrent requests in this process share the running call', async () => {
    const h = harness();
    let answer!: (r: FetchResult) => void;
    h.sap.reply = (call) => (call === 1 ? new Promise<FetchResult>((resolve) => (answer = resolve)) : { found: true, data: DATA.sap });
    const both = Promise.all([h.resolve(), h.resolve()]);
    await vi.advanceTimersByTimeAsync(50);
    expect(h.sap.calls).toHaveLength(1);
    answer({ found: true, data: DATA.sap });
    expect(await both).toEqual([answered('sap', T0 + 50, 'miss', 50), answered('sap', T0 + 50, 'miss', 50)]);
    await h.resolve('sap', '0010100002');
    expect(h.sap.calls).toHaveLength(2); // another customer: its own call
  });

  it('takes the replica lock for the budget, and releases it once the answer is stored, with the outcome', async () => {
    const h = harness();
    const acquire = vi.spyOn(h.lock, 'acquire');
    h.sap.reply = (call) => (call === 1 ? { found: true, data: DATA.sap } : new UpstreamError('sap', 'rate_limited', 'slow down'));
    await h.resolve();
    await h.cache.whenIdle();
    expect(acquire).toHaveBeenCalledWith(ID, 'sap', BUDGET_MS, 0, 0); // a slow answer is not awaited past CACHE_OP_TIMEOUT_MS (see LOCK_PATIENCE_MS)
    expect(h.lock.released).toEqual([[`sap:${ID}`, 'ok']]);
    expect(await h.store.get(ID, 'sap')).toMatchObject({ found: true });
    vi.setSystemTime(T0 + FRESH_MS);
    await h.resolve();
    await h.cache.whenIdle();
    expect(h.lock.released.map(([, outcome]) => outcome)).toEqual(['ok', 'rate_limited']);
  });

  it('refreshing ahead, a part another replica landed since the read is served instead of a call only if it stays fresh for the time ahead', async () => {
    const h = harness();
    const acquire = vi.spyOn(h.lock, 'acquire');
    await h.store.put(ID, 'sap', entry('sap', T0 - FRESH_MS + 5_000), NEVER); // fresh for 5 s more: due for a caller refreshing 10 s ahead
    await h.cache.resolve('sap', ID, h.sap.fetch, Deadline.after(DEADLINE_MS), 10_000);
    expect(acquire).toHaveBeenCalledWith(ID, 'sap', BUDGET_MS, 0, 10_000);
    expect(h.sap.calls).toHaveLength(1);
  });

  it('a call that fails unexpectedly releases the lock as "unavailable"', async () => {
    const h = harness();
    h.sap.reply = () => new TypeError('a bug');
    await h.resolve();
    await h.cache.whenIdle();
    expect(h.lock.released).toEqual([[`sap:${ID}`, 'unavailable']]);
  });
});

describe('ProfileCache: waiting on another replica\'s call', () => {
  const NAME = `sap:${ID}`;

  it('waits for the holder\'s "landed" message and serves what it stored (cache: wait), calling nothing', async () => {
    const h = harness();
    h.lock.held.add(NAME);
    const pending = h.resolve();
    await vi.advanceTimersByTimeAsync(200);
    expect(h.lock.waits).toEqual([NAME]);
    await h.store.put(ID, 'sap', entry('sap', T0 + 200), NEVER); // the holder's answer lands…
    h.lock.land(NAME, 'ok'); // …and it says so
    expect(await pending).toEqual(answered('sap', T0 + 200, 'wait', 200));
    expect(h.sap.calls).toHaveLength(0);
    expect(await counter(h.metrics.cacheLockWaits, { source: 'sap' })).toBe(1);
  });

  it('the holder\'s answer is already there when it starts waiting: served at once', async () => {
    const h = harness();
    h.lock.held.add(NAME);
    const read = vi.spyOn(h.store, 'read').mockResolvedValueOnce(entry('sap', T0));
    expect(await h.resolve()).toEqual(answered('sap', T0, 'wait', 0));
    expect(read).toHaveBeenCalledOnce();
    expect(h.sap.calls).toHaveLength(0);
  });

  it('the holder failed: its failure is this answer too (no second call), or the kept copy stale', async () => {
    const h = harness();
    h.lock.held.add(NAME);
    const pending = h.resolve();
    await vi.advanceTimersByTimeAsync(100);
    h.lock.land(NAME, 'rate_limited');
    expect(await pending).toEqual({ outcome: 'failed', reason: 'rate_limited', latencyMs: 100 });

    await h.store.put(ID, 'sap', entry('sap', T0 - FRESH_MS), NEVER); // an old copy is kept
    const again = h.resolve();
    await vi.advanceTimersByTimeAsync(100);
    h.lock.land(NAME, 'unavailable');
    expect(await again).toMatchObject({ outcome: 'failed', reason: 'unavailable', stale: entry('sap', T0 - FRESH_MS) });
    expect(h.sap.calls).toHaveLength(0);
  });

  it('the holder said ok but nothing fresh landed (its write failed or was invalidated): calls the source itself', async () => {
    const h = harness();
    h.lock.held.add(NAME);
    const pending = h.resolve();
    await vi.advanceTimersByTimeAsync(100);
    h.lock.land(NAME, 'ok');
    expect(await pending).toMatchObject({ outcome: 'answered', cache: 'miss' });
    expect(h.sap.calls).toHaveLength(1);
  });

  it('pub/sub unavailable ("unknown"): reads the cache once, then calls the source itself', async () => {
    const h = harness();
    h.lock.held.add(NAME);
    h.lock.pubSubDown = true;
    expect(await h.resolve()).toMatchObject({ outcome: 'answered', cache: 'miss' });
    expect(h.sap.calls).toHaveLength(1);
  });

  it('the cache cannot be read while waiting: the holder\'s result could not be seen either, so it calls itself', async () => {
    const h = harness();
    h.lock.held.add(NAME);
    vi.spyOn(h.store, 'read').mockResolvedValue('unavailable');
    expect(await h.resolve()).toMatchObject({ outcome: 'answered', cache: 'miss' });
    expect(h.sap.calls).toHaveLength(1);
  });

  it('the holder vanished without a word: the answer times out at its deadline; the wait ends with the budget (when the holder\'s lock expires), without a call of its own', async () => {
    const h = harness();
    h.lock.held.add(NAME);
    expect(await after(h.resolve(), DEADLINE_MS)).toMatchObject({ outcome: 'failed', reason: 'timeout' });
    expect(await idle(h.cache)).toBe(false);
    await vi.advanceTimersByTimeAsync(BUDGET_MS);
    expect(await idle(h.cache)).toBe(true);
    expect(h.sap.calls).toHaveLength(0);
    h.lock.held.delete(NAME); // the lock expired with the budget: the next request takes it
    expect(await h.resolve()).toMatchObject({ outcome: 'answered', cache: 'miss' });
    expect(h.sap.calls).toHaveLength(1);
  });

  it('the holder\'s "landed" message is lost (published while a failover moved the channel) though its answer landed: the waiting answer ends at its deadline, later requests read the answer from the cache, and the wait ends with the budget, re-reading the cache, with no call', async () => {
    const h = harness();
    h.lock.held.add(NAME);
    const waiting = h.resolve();
    await vi.advanceTimersByTimeAsync(200);
    await h.store.put(ID, 'sap', entry('sap', T0 + 200), NEVER); // the holder's answer lands; its message never arrives
    expect(await after(waiting, DEADLINE_MS - 200)).toMatchObject({ outcome: 'failed', reason: 'timeout' });
    expect(await h.resolve()).toEqual(answered('sap', T0 + 200, 'hit', 0)); // a request now reads it itself
    expect(await idle(h.cache)).toBe(false); // the first wait still runs…
    const reread = vi.spyOn(h.store, 'get');
    await vi.advanceTimersByTimeAsync(BUDGET_MS);
    expect(await idle(h.cache)).toBe(true); // …until the budget (the holder's lock lifetime): then it reads the cache once more
    expect(reread).toHaveBeenCalledWith(ID, 'sap');
    expect(h.sap.calls).toHaveLength(0);
  });
});

describe('ProfileCache: invalidation', () => {
  it('a call started before an invalidation does not write its answer back; a call started after it does', async () => {
    const h = harness();
    const answers: Array<(r: FetchResult) => void> = [];
    h.sap.reply = () => new Promise<FetchResult>((resolve) => answers.push(resolve));
    const before = h.resolve();
    await vi.advanceTimersByTimeAsync(100);
    await h.cache.invalidate(ID, SOURCES); // the customer changed in a CRM meanwhile
    await vi.advanceTimersByTimeAsync(1);
    const afterwards = h.resolve(); // a new call, not the old one joined
    await vi.advanceTimersByTimeAsync(1);
    expect(h.sap.calls).toHaveLength(2);

    const put = vi.spyOn(h.store, 'land');
    const old: CustomerPartial = { balances: [{ amount: '1.00', currency: 'EUR' }] };
    answers[0]({ found: true, data: old });
    expect(await before).toMatchObject({ outcome: 'answered', entry: { data: old } }); // that request still gets its answer
    await put.mock.results[0].value; // its write, done
    expect(await h.store.get(ID, 'sap')).toBeUndefined(); // but it is not cached

    const current: CustomerPartial = { balances: [{ amount: '2.00', currency: 'EUR' }] };
    answers[1]({ found: true, data: current });
    expect(await afterwards).toMatchObject({ outcome: 'answered', entry: { data: current } });
    await h.cache.whenIdle();
    expect(await h.store.get(ID, 'sap')).toMatchObject({ data: current });
  });

  it('the old call settling does not unlist the new one: a third request joins the new call', async () => {
    const h = harness();
    const answers: Array<(r: FetchResult) => void> = [];
    h.sap.reply = () => new Promise<FetchResult>((resolve) => answers.push(resolve));
    const first = h.resolve();
    await vi.advanceTimersByTimeAsync(1);
    await h.cache.invalidate(ID, SOURCES);
    const second = h.resolve();
    await vi.advanceTimersByTimeAsync(1);
    answers[0]({ found: false });
    await first;
    const third = h.resolve();
    await vi.advanceTimersByTimeAsync(1);
    expect(h.sap.calls).toHaveLength(2);
    answers[1]({ found: true, data: DATA.sap });
    expect((await Promise.all([second, third])).map((r) => r.outcome === 'answered' && r.entry.found)).toEqual([true, true]);
  });

  it('whenIdle also waits for a call an invalidation unlisted', async () => {
    const h = harness();
    h.sap.reply = () => ({ afterMs: 300, then: { found: true, data: DATA.sap } });
    void h.resolve();
    await vi.advanceTimersByTimeAsync(1);
    await h.cache.invalidate(ID, SOURCES);
    expect(await idle(h.cache)).toBe(false);
    await vi.advanceTimersByTimeAsync(300);
    expect(await idle(h.cache)).toBe(true);
  });

  it('drops every cached part of the customer', async () => {
    const h = harness();
    await Promise.all(SOURCES.map((s) => h.resolve(s)));
    await h.cache.whenIdle();
    expect((await h.store.getAll(ID, SOURCES)).parts.size).toBe(3);
    await h.cache.invalidate(ID, SOURCES);
    expect((await h.store.getAll(ID, SOURCES)).parts.size).toBe(0);
  });
});

describe('ProfileCache: the near tier (in this process, in front of Redis)', () => {
  beforeEach(() => {
    // setImmediate stays real here: a turn of the event loop (the parts stored in one turn are announced on the next)
    vi.useRealTimers();
    vi.useFakeTimers({ now: T0, toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  });
  /** Redis away: every read and write fails, as SourceCache reports it. */
  const redisAway = (store: SourceCache) => {
    vi.spyOn(store, 'getAll').mockResolvedValue({ parts: new Map(), generation: null });
    vi.spyOn(store, 'put').mockResolvedValue('skipped');
  };

  it('a part fetched once is served fresh from the process without a Redis round trip', async () => {
    const h = harness({ near: true });
    expect(await h.resolve()).toEqual(answered('sap', T0, 'miss', 0));
    await h.cache.whenIdle();
    const reads = vi.spyOn(h.store, 'getAll');
    vi.setSystemTime(T0 + FRESH_MS - 1);
    expect(await h.resolve()).toEqual(answered('sap', T0, 'hit', 0));
    expect(reads).not.toHaveBeenCalled();
    expect(h.sap.calls).toHaveLength(1);
    expect(await counter(h.metrics.nearHits, { source: 'sap' })).toBe(1);
  });

  it('nearHits: every source asked for as resolve would answer it from the process, or none (nothing counted) when one is not fresh there', async () => {
    const h = harness({ near: true });
    await h.resolve('sap');
    await h.resolve('salesforce');
    await h.cache.whenIdle();
    vi.setSystemTime(T0 + FRESH_MS - 1);
    expect(h.cache.nearHits(['sap', 'salesforce', 'servicenow'], ID)).toBeUndefined();
    expect(await counter(h.metrics.nearHits, { source: 'sap' })).toBe(0);
    expect(h.cache.nearHits(['sap', 'salesforce'], ID, 1)).toBeUndefined(); // due within aheadMs
    const hits = h.cache.nearHits(['sap', 'salesforce'], ID);
    expect(hits).toEqual([answered('sap', T0, 'hit', 0), answered('salesforce', T0, 'hit', 0)]);
    expect(hits).toEqual([await h.resolve('sap'), await h.resolve('salesforce')]);
    expect(await counter(h.metrics.nearHits, { source: 'sap' })).toBe(2);
    expect(await counter(h.metrics.cacheLookups, { cache: 'source', result: 'hit' })).toBe(4);
  });

  it('past its fresh time the part is fetched again, as for Redis entries', async () => {
    const h = harness({ near: true });
    await h.resolve();
    await h.cache.whenIdle();
    vi.setSystemTime(T0 + FRESH_MS);
    expect(await h.resolve()).toEqual(answered('sap', T0 + FRESH_MS, 'miss', 0));
    expect(h.sap.calls).toHaveLength(2);
  });

  it('with Redis away, kept parts are served fresh, then stale when the source fails; answers fetched meanwhile are kept', async () => {
    const h = harness({ near: true });
    await h.resolve();
    await h.cache.whenIdle();
    redisAway(h.store);
    vi.setSystemTime(T0 + 1000);
    expect(await h.resolve()).toEqual(answered('sap', T0, 'hit', 0));
    vi.setSystemTime(T0 + FRESH_MS + 1);
    h.sap.reply = () => new UpstreamError('sap', 'rate_limited', 'slow down');
    expect(await h.resolve()).toEqual({ outcome: 'failed', reason: 'rate_limited', latencyMs: 0, stale: entry('sap', T0) });
    h.sap.reply = () => ({ found: true, data: DATA.sap });
    expect(await h.resolve()).toEqual(answered('sap', T0 + FRESH_MS + 1, 'miss', 0));
    await h.cache.whenIdle();
    expect(await h.resolve()).toEqual(answered('sap', T0 + FRESH_MS + 1, 'hit', 0));
    expect(h.sap.calls).toHaveLength(3);
  });

  it('Redis back empty after a break in the channel: a kept part is confirmed by one read, served, and written back to Redis (no call)', async () => {
    const h = harness({ near: true });
    await h.resolve();
    await h.cache.whenIdle();
    await h.store.invalidate('unrelated', ['sap'], 1000); // Redis is real here; empty it as a restart would:
    await h.store.put(ID, 'sap', { found: false, fetchedAt: 0 }, NEVER); // (an entry outside its grace reads as none)
    (h.near as unknown as { link: number }).link++; // the subscription broke and came back
    const reads = vi.spyOn(h.store, 'getAll');
    expect(await h.resolve()).toEqual(answered('sap', T0, 'hit', 0));
    expect(reads).toHaveBeenCalledTimes(1);
    await h.cache.whenIdle();
    expect(await h.store.get(ID, 'sap')).toEqual(entry('sap', T0));
    expect(h.sap.calls).toHaveLength(1);
  });

  it('after a break in the channel, a kept part whose customer was invalidated meanwhile (elsewhere) is dropped, not served', async () => {
    const h = harness({ near: true });
    const other = harness({ near: true, shared: { backing: h.backing, bus: [] } }); // its messages do not reach h
    await h.resolve();
    await h.cache.whenIdle();
    (h.near as unknown as { link: number }).link++;
    await other.cache.invalidate(ID, SOURCES);
    vi.setSystemTime(T0 + 1);
    expect(await h.resolve()).toEqual(answered('sap', T0 + 1, 'miss', 0));
    expect(h.sap.calls).toHaveLength(2);
  });

  it('a part fetched after this replica\'s own invalidation stays confirmed under its generation after a break (no call)', async () => {
    const h = harness({ near: true });
    await h.cache.invalidate(ID, SOURCES);
    vi.setSystemTime(T0 + 1);
    await h.resolve();
    await h.cache.whenIdle();
    (h.near as unknown as { link: number }).link++;
    await h.backing.del(h.store.key(ID, 'sap')); // Redis lost the part, kept its generation
    expect(await h.resolve()).toEqual(answered('sap', T0 + 1, 'hit', 0));
    expect(h.sap.calls).toHaveLength(1);
  });

  it('an invalidation on one replica reaches the other\'s near tier: it calls again rather than serve its copy', async () => {
    const [a, b] = nearReplicas();
    await a.resolve();
    await a.cache.whenIdle();
    expect(await b.resolve()).toMatchObject({ cache: 'hit' }); // read from Redis, now kept by b
    vi.setSystemTime(T0 + 10);
    await a.cache.invalidate(ID, SOURCES);
    expect(await b.resolve()).toEqual(answered('sap', T0 + 10, 'miss', 0));
    expect(b.sap.calls).toHaveLength(1);
    expect(await counter(b.metrics.nearInvalidations, { cause: 'invalidation', origin: 'replica' })).toBe(1);
  });

  it('a newer part stored by one replica replaces the other\'s copy at its next read', async () => {
    const [a, b] = nearReplicas();
    await b.resolve();
    await b.cache.whenIdle();
    vi.setSystemTime(T0 + FRESH_MS); // a's own copy would be old; it fetches
    a.sap.reply = () => ({ found: true, data: { balances: [{ amount: '99.00', currency: 'EUR' }] } });
    await a.resolve();
    await a.cache.whenIdle();
    vi.setSystemTime(T0 + FRESH_MS + 1);
    b.sap.reply = () => new UpstreamError('sap', 'unavailable', 'must not be called');
    expect(await b.resolve()).toMatchObject({ outcome: 'answered', cache: 'hit', entry: { fetchedAt: T0 + FRESH_MS, data: { balances: [{ amount: '99.00' }] } } });
  });

  it('parts stored in one turn are announced in one message; each older copy elsewhere goes', async () => {
    const [a, b] = nearReplicas();
    const ids = ['0010100001', '0010100002', '0010100003'];
    for (const id of ids) await b.resolve('sap', id);
    await b.cache.whenIdle();
    const heard: string[] = [];
    a.lock.bus.push((message) => heard.push(message));
    vi.setSystemTime(T0 + FRESH_MS); // a's reads find them stale: it fetches all three at once
    await Promise.all(ids.map((id) => a.resolve('sap', id)));
    await a.cache.whenIdle();
    expect(heard.map((m) => JSON.parse(m) as { k: string; w: unknown[] })).toEqual([expect.objectContaining({ k: 'ws', w: ids.map((id) => [id, 'sap', T0 + FRESH_MS]) })]);
    expect(await counter(b.metrics.nearInvalidations, { cause: 'write', origin: 'replica' })).toBe(3);
  });

  it('still understands a single-part message from a replica of the previous release', async () => {
    const [a, b] = nearReplicas();
    await b.resolve();
    await b.cache.whenIdle();
    for (const listener of a.lock.bus) listener(JSON.stringify({ o: 'old-replica', k: 'w', c: ID, s: ['sap'], at: T0 + 1 }));
    expect(await counter(b.metrics.nearInvalidations, { cause: 'write', origin: 'replica' })).toBe(1);
  });

  it('a call started before an invalidation here does not put its answer in the near tier', async () => {
    const h = harness({ near: true });
    h.sap.reply = () => ({ afterMs: 100, then: { found: true, data: DATA.sap } });
    const first = h.resolve();
    await vi.advanceTimersByTimeAsync(10);
    await h.cache.invalidate(ID, SOURCES);
    await vi.advanceTimersByTimeAsync(100);
    await first;
    await h.cache.whenIdle();
    h.sap.reply = () => ({ found: true, data: DATA.sap });
    expect(await h.resolve()).toMatchObject({ cache: 'miss' });
  });

  it('is bounded by its entries: the least recently used go, counted as evictions', async () => {
    const h = harness({ near: true, nearMaxEntries: 5 });
    for (let i = 0; i < 20; i++) await h.resolve('sap', `00101000${String(i).padStart(2, '0')}`);
    await h.cache.whenIdle();
    expect((await h.metrics.nearEntries.get()).values[0].value).toBe(5);
    expect((await h.metrics.nearEvictions.get()).values[0].value).toBe(15);
  });
});
