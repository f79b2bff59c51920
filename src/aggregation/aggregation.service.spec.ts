import { Logger } from '@nestjs/common';
import { createCache } from 'cache-manager';
import { Keyv, type KeyvStoreAdapter } from 'keyv';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

import { CacheConfig } from '../cache/cache.config.js';
import type { Lease, ReplicaLock } from '../cache/replica-lock.js';
import { type CachedSource,SourceCache } from '../cache/source-cache.js';
import type { CustomerConnector, CustomerPartial, FetchResult } from '../connectors/connector.js';
import { Metrics } from '../observability/metrics.js';
import { deadlineOf } from '../resilience/deadline.js';
import { UpstreamError, type UpstreamErrorKind } from '../upstream/upstream-error.js';
import { AggregationConfig } from './aggregation.config.js';
import { AggregationService } from './aggregation.service.js';

/**
 * The fan-out, built with `new`: fake connectors that answer when the test says (or never), the real
 * SourceCache over an in-memory cache-manager store, and a fake replica lock standing for "another
 * replica" (the lock's Redis side has its own spec against redis-server). Time is fake throughout.
 */

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);
const ID = '0010100001';
const DEADLINE_MS = 800;
const LATE_MS = 5000;
const BUDGET_MS = DEADLINE_MS + LATE_MS;
/** When a source still running is judged late: the deadline, then one loop turn (after pending I/O), one fake millisecond. */
const JUDGED_AT = DEADLINE_MS + 1;
const FRESH_MS = 30_000;
/** The generation of a customer never invalidated. */
const NEVER = '';

const DATA: Record<string, CustomerPartial> = {
  salesforce: { accountName: 'Acme Corp', loyaltyTier: 'Gold' },
  sap: { accountName: 'ACME CORPORATION', balances: [{ amount: '12.50', currency: 'EUR' }] },
  servicenow: { openTickets: 3 },
};

/** What a fake connector does with a call: answer, fail, answer after a delay, or never (until its signal aborts). */
type Reply = FetchResult | Error | Promise<FetchResult> | { afterMs: number; then: FetchResult | Error } | 'hang';

class FakeConnector implements CustomerConnector {
  readonly calls: Array<{ customerId: string; signal: AbortSignal }> = [];
  reply: (customerId: string, call: number) => Reply;

  constructor(
    readonly source: string,
    readonly enabled = true,
  ) {
    this.reply = () => ({ found: true, data: DATA[source] });
  }

  fetch(customerId: string, signal: AbortSignal): Promise<FetchResult> {
    this.calls.push({ customerId, signal });
    const reply = this.reply(customerId, this.calls.length);
    return new Promise<FetchResult>((resolve, reject) => {
      // like the real clients: an abort ends the call as a timeout
      const onAbort = () => reject(new UpstreamError(this.source, 'timeout', 'aborted'));
      signal.addEventListener('abort', onAbort, { once: true });
      const settle = (r: FetchResult | Error) => (r instanceof Error ? reject(r) : resolve(r));
      if (reply === 'hang') return;
      if (reply instanceof Promise) return void reply.then(resolve, reject);
      if ('afterMs' in reply) return void setTimeout(() => settle(reply.then), reply.afterMs);
      settle(reply);
    });
  }
}

/** Stands for the other replicas: names it holds answer 'held-elsewhere'; `land` is the holder's message. */
class FakeLock {
  readonly held = new Set<string>();
  readonly released: Array<[string, string]> = [];
  readonly waits: string[] = [];
  /** What `subscribe` gives when pub/sub is not available. */
  pubSubDown = false;
  private readonly listeners = new Map<string, Set<(outcome: string) => void>>();

  acquire(name: string): Promise<Lease | 'held-elsewhere'> {
    if (this.held.has(name)) return Promise.resolve('held-elsewhere');
    return Promise.resolve({
      release: (outcome: string) => {
        this.released.push([name, outcome]);
        return Promise.resolve();
      },
    });
  }

  subscribe(name: string): Promise<{ landed: Promise<string>; cancel: () => void }> {
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

function harness(options: { store?: KeyvStoreAdapter; lateCompletionMs?: number; sapEnabled?: boolean } = {}) {
  const cacheConfig = Object.assign(new CacheConfig(), { freshTtlMs: FRESH_MS, staleTtlMs: 86_400_000, opTimeoutMs: 100, keyPrefix: 'c360' });
  const cache = new SourceCache(createCache({ stores: [new Keyv(options.store ? { store: options.store, throwOnErrors: true } : {})] }), cacheConfig);
  const sf = new FakeConnector('salesforce');
  const sap = new FakeConnector('sap', options.sapEnabled ?? true);
  const sn = new FakeConnector('servicenow');
  const lock = new FakeLock();
  const metrics = new Metrics();
  const config = Object.assign(new AggregationConfig(), { deadlineMs: DEADLINE_MS, lateCompletionMs: options.lateCompletionMs ?? LATE_MS });
  const svc = new AggregationService([sf, sap, sn], cache, config, lock as unknown as ReplicaLock, metrics);
  return { svc, cache, sf, sap, sn, lock, metrics };
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

const iso = (ms: number) => new Date(ms).toISOString();
const entry = (source: string, fetchedAt = T0): CachedSource => ({ found: true, data: DATA[source], fetchedAt });

beforeAll(() => {
  Logger.overrideLogger(false);
});
beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('AggregationService: cache tiers', () => {
  it('serves fresh cached parts as hits, calling no source', async () => {
    const h = harness();
    for (const source of ['salesforce', 'sap', 'servicenow']) await h.cache.put(ID, source, entry(source), NEVER);
    vi.setSystemTime(T0 + FRESH_MS - 1);
    const { verdict, view } = await h.svc.getProfile(ID);
    expect(verdict).toBe('found');
    expect(view.sources).toEqual({
      salesforce: { status: 'ok', fetchedAt: iso(T0), latencyMs: 0, cache: 'hit' },
      sap: { status: 'ok', fetchedAt: iso(T0), latencyMs: 0, cache: 'hit' },
      servicenow: { status: 'ok', fetchedAt: iso(T0), latencyMs: 0, cache: 'hit' },
    });
    expect(view).toMatchObject({ accountName: 'Acme Corp', balance: '12.50', openTickets: 3, degraded: false });
    expect([h.sf, h.sap, h.sn].map((c) => c.calls.length)).toEqual([0, 0, 0]);
    expect(await counter(h.metrics.cacheLookups, { cache: 'source', result: 'hit' })).toBe(3);
  });

  it('on a miss calls each source once, answers with what it said, and stores it', async () => {
    const h = harness();
    h.sap.reply = () => ({ afterMs: 120, then: { found: true, data: DATA.sap } });
    const { view } = await after(h.svc.getProfile(ID), 120);
    expect(view.sources.sap).toEqual({ status: 'ok', fetchedAt: iso(T0 + 120), latencyMs: 120, cache: 'miss' });
    expect(view.sources.salesforce).toMatchObject({ status: 'ok', cache: 'miss', latencyMs: 0 });
    expect([h.sf, h.sap, h.sn].map((c) => c.calls.map((call) => call.customerId))).toEqual([[ID], [ID], [ID]]);
    await h.svc.whenIdle();
    expect(await h.cache.get(ID, 'sap')).toEqual({ found: true, data: DATA.sap, fetchedAt: T0 + 120 });
    expect(await counter(h.metrics.cacheLookups, { cache: 'source', result: 'miss' })).toBe(3);
  });

  it('gives each call the answer\'s deadline on its signal (waits for limits and retries must fit it)', async () => {
    const h = harness();
    await h.svc.getProfile(ID);
    expect(deadlineOf(h.sap.calls[0].signal)).toBe(T0 + DEADLINE_MS);
  });

  it('a source that does not know the customer is not_found, live and from the cache alike (never ok without data)', async () => {
    const h = harness();
    h.sap.reply = () => ({ found: false });
    const live = await h.svc.getProfile(ID);
    expect(live.view.sources.sap).toEqual({ status: 'not_found', fetchedAt: iso(T0), latencyMs: 0, cache: 'miss' });
    await h.svc.whenIdle();
    expect(await h.cache.get(ID, 'sap')).toEqual({ found: false, fetchedAt: T0 });
    const cached = await h.svc.getProfile(ID);
    expect(cached.view.sources.sap).toEqual({ status: 'not_found', fetchedAt: iso(T0), latencyMs: 0, cache: 'hit' });
    expect(cached.view.sourceSystems).toEqual(['salesforce', 'servicenow']);
    expect(cached.view.balance).toBeNull();
    expect(h.sap.calls).toHaveLength(1);
  });

  it('a customer no source knows is not_found, live and from the cache alike', async () => {
    const h = harness();
    for (const c of [h.sf, h.sap, h.sn]) c.reply = () => ({ found: false });
    expect((await h.svc.getProfile(ID)).verdict).toBe('not_found');
    await h.svc.whenIdle();
    expect((await h.svc.getProfile(ID)).verdict).toBe('not_found');
    expect([h.sf, h.sap, h.sn].map((c) => c.calls.length)).toEqual([1, 1, 1]);
  });

  it('a part past its fresh time is fetched again', async () => {
    const h = harness();
    await h.cache.put(ID, 'sap', entry('sap'), NEVER);
    vi.setSystemTime(T0 + FRESH_MS);
    const { view } = await h.svc.getProfile(ID);
    expect(view.sources.sap).toMatchObject({ status: 'ok', cache: 'miss', fetchedAt: iso(T0 + FRESH_MS) });
    expect(h.sap.calls).toHaveLength(1);
  });

  it('a disabled source is marked disabled, never called, and does not make the view degraded', async () => {
    const h = harness({ sapEnabled: false });
    const { view } = await h.svc.getProfile(ID);
    expect(view.sources.sap).toEqual({ status: 'disabled' });
    expect(view.degraded).toBe(false);
    expect(h.sap.calls).toHaveLength(0);
  });
});

describe('AggregationService: failures', () => {
  it('serves the kept copy when the source fails, marked stale with its age and the failure', async () => {
    const h = harness();
    await h.cache.put(ID, 'sap', entry('sap'), NEVER);
    vi.setSystemTime(T0 + 45_000);
    h.sap.reply = () => new UpstreamError('sap', 'unavailable', 'HTTP 503', 503);
    const { verdict, view } = await h.svc.getProfile(ID);
    expect(verdict).toBe('found');
    expect(view.sources.sap).toEqual({ status: 'stale', fetchedAt: iso(T0), ageMs: 45_000, latencyMs: 0, reason: 'unavailable' });
    expect(view).toMatchObject({ balance: '12.50', currency: 'EUR', degraded: true });
    expect(await counter(h.metrics.cacheLookups, { cache: 'source', result: 'stale' })).toBe(1);
  });

  it.each<[UpstreamErrorKind, string]>([
    ['timeout', 'timeout'],
    ['rate_limited', 'rate_limited'],
    ['not_found', 'not_found'],
    ['unavailable', 'unavailable'],
    ['auth', 'unavailable'],
    ['bad_response', 'unavailable'],
    ['circuit_open', 'unavailable'],
  ])('without a kept copy, a %s failure is status %s with that reason', async (kind, status) => {
    const h = harness();
    h.sap.reply = () => new UpstreamError('sap', kind, 'failed');
    const { view } = await h.svc.getProfile(ID);
    expect(view.sources.sap).toEqual({ status, latencyMs: 0, reason: kind });
  });

  it('an unexpected error (not a UpstreamError) is unavailable, not a failed request', async () => {
    const h = harness();
    h.sap.reply = () => new TypeError('a bug in a mapper');
    const { verdict, view } = await h.svc.getProfile(ID);
    expect(verdict).toBe('found');
    expect(view.sources.sap).toEqual({ status: 'unavailable', latencyMs: 0, reason: 'unavailable' });
  });

  it('every source failing without a copy is "unavailable" (the API answers 503), not "not_found"', async () => {
    const h = harness();
    for (const c of [h.sf, h.sap, h.sn]) c.reply = () => new UpstreamError(c.source, 'unavailable', 'down');
    expect((await h.svc.getProfile(ID)).verdict).toBe('unavailable');
  });

  it('failures are not cached: the next request calls again', async () => {
    const h = harness();
    h.sap.reply = (_id, call) => (call === 1 ? new UpstreamError('sap', 'unavailable', 'down') : { found: true, data: DATA.sap });
    expect((await h.svc.getProfile(ID)).view.sources.sap.status).toBe('unavailable');
    await h.svc.whenIdle();
    expect((await h.svc.getProfile(ID)).view.sources.sap).toMatchObject({ status: 'ok', cache: 'miss' });
  });

  it('cache errors cost a miss, never an error: every source is called and the answer is whole', async () => {
    const h = harness({ store: failingStore() });
    const { verdict, view } = await h.svc.getProfile(ID);
    expect(verdict).toBe('found');
    expect(Object.values(view.sources).map((s) => s.status)).toEqual(['ok', 'ok', 'ok']);
    await expect(h.svc.whenIdle()).resolves.toBeUndefined(); // the writes were skipped, not thrown
    expect((await h.svc.getProfile(ID)).view.sources.sap.cache).toBe('miss');
  });
});

describe('AggregationService: the deadline', () => {
  it('a source still running at AGGREGATION_DEADLINE_MS is marked timeout; the others answer', async () => {
    const h = harness();
    h.sap.reply = () => 'hang';
    const { verdict, view } = await after(h.svc.getProfile(ID), DEADLINE_MS);
    expect(verdict).toBe('found');
    expect(view.sources.sap).toEqual({ status: 'timeout', latencyMs: JUDGED_AT, reason: 'timeout' });
    expect(view.sources.salesforce.status).toBe('ok');
    expect(view.degraded).toBe(true);
  });

  it('with a kept copy, a timeout serves it stale', async () => {
    const h = harness();
    await h.cache.put(ID, 'sap', entry('sap'), NEVER);
    vi.setSystemTime(T0 + 60_000);
    h.sap.reply = () => 'hang';
    const { view } = await after(h.svc.getProfile(ID), DEADLINE_MS);
    expect(view.sources.sap).toEqual({ status: 'stale', fetchedAt: iso(T0), ageMs: 60_000 + JUDGED_AT, latencyMs: JUDGED_AT, reason: 'timeout' });
  });

  it('a call that misses the deadline runs on and its answer is cached, within the late-completion budget', async () => {
    const h = harness();
    h.sap.reply = () => ({ afterMs: 2_000, then: { found: true, data: DATA.sap } });
    const first = await after(h.svc.getProfile(ID), DEADLINE_MS);
    expect(first.view.sources.sap.status).toBe('timeout');
    expect(h.svc.pendingCalls).toBe(1);
    await vi.advanceTimersByTimeAsync(2_000 - DEADLINE_MS);
    await h.svc.whenIdle();
    expect(h.svc.pendingCalls).toBe(0);
    expect(await h.cache.get(ID, 'sap')).toEqual({ found: true, data: DATA.sap, fetchedAt: T0 + 2_000 });
    const second = await h.svc.getProfile(ID);
    expect(second.view.sources.sap).toMatchObject({ status: 'ok', cache: 'hit', latencyMs: 0 });
    expect(h.sap.calls).toHaveLength(1);
  });

  it('a call still running at deadline + late budget is cut (its signal aborts) and nothing is stored', async () => {
    const h = harness();
    h.sap.reply = () => 'hang';
    await after(h.svc.getProfile(ID), DEADLINE_MS);
    const signal = h.sap.calls[0].signal;
    await vi.advanceTimersByTimeAsync(LATE_MS - 2);
    expect(signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(signal.aborted).toBe(true);
    await h.svc.whenIdle();
    expect(h.svc.pendingCalls).toBe(0);
    expect(await h.cache.get(ID, 'sap')).toBeUndefined();
  });

  it('with AGGREGATION_LATE_COMPLETION_MS=0 the call is cut at the deadline itself', async () => {
    const h = harness({ lateCompletionMs: 0 });
    h.sap.reply = () => 'hang';
    await after(h.svc.getProfile(ID), DEADLINE_MS);
    expect(h.sap.calls[0].signal.aborted).toBe(true);
  });

  it('shutdown aborts the calls still running', async () => {
    const h = harness();
    h.sap.reply = () => 'hang';
    const pending = h.svc.getProfile(ID);
    await vi.advanceTimersByTimeAsync(10);
    h.svc.onApplicationShutdown();
    expect(h.sap.calls[0].signal.aborted).toBe(true);
    expect((await pending).view.sources.sap).toMatchObject({ status: 'timeout', reason: 'timeout' });
  });
});

describe('AggregationService: one call at a time per source and customer', () => {
  it('concurrent requests in this process share the running call', async () => {
    const h = harness();
    let answer!: (r: FetchResult) => void;
    h.sap.reply = (_id, call) => (call === 1 ? new Promise<FetchResult>((resolve) => (answer = resolve)) : { found: true, data: DATA.sap });
    const both = Promise.all([h.svc.getProfile(ID), h.svc.getProfile(ID)]);
    await vi.advanceTimersByTimeAsync(50);
    expect(h.sap.calls).toHaveLength(1);
    expect(h.svc.pendingCalls).toBe(1);
    answer({ found: true, data: DATA.sap });
    const [a, b] = await both;
    expect([a.view.sources.sap.status, b.view.sources.sap.status]).toEqual(['ok', 'ok']);
    expect([a.view.balance, b.view.balance]).toEqual(['12.50', '12.50']);
    await h.svc.getProfile('0010100002');
    expect(h.sap.calls.map((c) => c.customerId)).toEqual([ID, '0010100002']); // another customer: its own call
  });

  it('takes the replica lock for the budget, and releases it once the answer is stored, with the outcome', async () => {
    const h = harness();
    const acquire = vi.spyOn(h.lock, 'acquire');
    h.sap.reply = (_id, call) => (call === 1 ? { found: true, data: DATA.sap } : new UpstreamError('sap', 'rate_limited', 'slow down'));
    await h.svc.getProfile(ID);
    await h.svc.whenIdle();
    expect(acquire).toHaveBeenCalledWith(`sap:${ID}`, BUDGET_MS);
    expect(h.lock.released).toContainEqual([`sap:${ID}`, 'ok']);
    expect(await h.cache.get(ID, 'sap')).toMatchObject({ found: true });
    vi.setSystemTime(T0 + FRESH_MS);
    await h.svc.getProfile(ID);
    await h.svc.whenIdle();
    expect(h.lock.released.filter(([name]) => name === `sap:${ID}`).map(([, outcome]) => outcome)).toEqual(['ok', 'rate_limited']);
  });
});

describe('AggregationService: waiting on another replica\'s call', () => {
  const NAME = `sap:${ID}`;

  it('waits for the holder\'s "landed" message and serves what it stored (cache: wait), calling nothing', async () => {
    const h = harness();
    h.lock.held.add(NAME);
    const pending = h.svc.getProfile(ID);
    await vi.advanceTimersByTimeAsync(200);
    expect(h.lock.waits).toEqual([NAME]);
    await h.cache.put(ID, 'sap', entry('sap', T0 + 200), NEVER); // the holder's answer lands…
    h.lock.land(NAME, 'ok'); // …and it says so
    const { view } = await pending;
    expect(view.sources.sap).toEqual({ status: 'ok', fetchedAt: iso(T0 + 200), latencyMs: 200, cache: 'wait' });
    expect(h.sap.calls).toHaveLength(0);
    expect(await counter(h.metrics.cacheLockWaits, { source: 'sap' })).toBe(1);
  });

  it('the holder failed: its failure is this answer too (no second call), or the kept copy stale', async () => {
    const h = harness();
    h.lock.held.add(NAME);
    const pending = h.svc.getProfile(ID);
    await vi.advanceTimersByTimeAsync(100);
    h.lock.land(NAME, 'rate_limited');
    expect((await pending).view.sources.sap).toEqual({ status: 'rate_limited', latencyMs: 100, reason: 'rate_limited' });

    await h.cache.put(ID, 'sap', entry('sap', T0 - FRESH_MS), NEVER); // an old copy is kept
    const again = h.svc.getProfile(ID);
    await vi.advanceTimersByTimeAsync(100);
    h.lock.land(NAME, 'unavailable');
    expect((await again).view.sources.sap).toMatchObject({ status: 'stale', reason: 'unavailable' });
    expect(h.sap.calls).toHaveLength(0);
  });

  it('the holder said ok but nothing fresh landed (its write failed or was invalidated): calls the source itself', async () => {
    const h = harness();
    h.lock.held.add(NAME);
    const pending = h.svc.getProfile(ID);
    await vi.advanceTimersByTimeAsync(100);
    h.lock.land(NAME, 'ok');
    expect((await pending).view.sources.sap).toMatchObject({ status: 'ok', cache: 'miss' });
    expect(h.sap.calls).toHaveLength(1);
  });

  it('pub/sub unavailable ("unknown"): reads the cache once, then calls the source itself', async () => {
    const h = harness();
    h.lock.held.add(NAME);
    h.lock.pubSubDown = true;
    expect((await h.svc.getProfile(ID)).view.sources.sap).toMatchObject({ status: 'ok', cache: 'miss' });
    expect(h.sap.calls).toHaveLength(1);
  });

  it('the cache cannot be read while waiting: the holder\'s result could not be seen either, so it calls itself', async () => {
    const h = harness();
    h.lock.held.add(NAME);
    vi.spyOn(h.cache, 'read').mockResolvedValue('unavailable');
    const { view } = await h.svc.getProfile(ID);
    expect(view.sources.sap).toMatchObject({ status: 'ok', cache: 'miss' });
    expect(h.sap.calls).toHaveLength(1);
  });

  it('the holder vanished without a word: the answer times out at its deadline; the wait ends with the budget (when the holder\'s lock expires), without a call of its own', async () => {
    const h = harness();
    h.lock.held.add(NAME);
    const { view } = await after(h.svc.getProfile(ID), DEADLINE_MS);
    expect(view.sources.sap).toMatchObject({ status: 'timeout', reason: 'timeout' });
    expect(h.svc.pendingCalls).toBe(1);
    await vi.advanceTimersByTimeAsync(BUDGET_MS);
    expect(h.svc.pendingCalls).toBe(0);
    expect(h.sap.calls).toHaveLength(0);
    h.lock.held.delete(NAME); // the lock expired with the budget: the next request takes it
    expect((await h.svc.getProfile(ID)).view.sources.sap).toMatchObject({ status: 'ok', cache: 'miss' });
    expect(h.sap.calls).toHaveLength(1);
  });
});

describe('AggregationService: invalidation', () => {
  it('a call started before an invalidation does not write its answer back; a call started after it does', async () => {
    const h = harness();
    const answers: Array<(r: FetchResult) => void> = [];
    h.sap.reply = () => new Promise<FetchResult>((resolve) => answers.push(resolve));
    const before = h.svc.getProfile(ID);
    await vi.advanceTimersByTimeAsync(100);
    await h.svc.invalidate(ID); // the customer changed in a CRM meanwhile
    await vi.advanceTimersByTimeAsync(1);
    const afterwards = h.svc.getProfile(ID); // a new call, not the old one joined
    await vi.advanceTimersByTimeAsync(1);
    expect(h.sap.calls).toHaveLength(2);

    answers[0]({ found: true, data: { balances: [{ amount: '1.00', currency: 'EUR' }] } }); // the old data
    expect((await before).view.balance).toBe('1.00'); // that request still gets its answer
    await h.svc.whenIdle();
    expect(await h.cache.get(ID, 'sap')).toBeUndefined(); // but it is not cached

    answers[1]({ found: true, data: { balances: [{ amount: '2.00', currency: 'EUR' }] } });
    expect((await afterwards).view.balance).toBe('2.00');
    await h.svc.whenIdle();
    expect(await h.cache.get(ID, 'sap')).toMatchObject({ data: { balances: [{ amount: '2.00', currency: 'EUR' }] } });
  });

  it('drops every cached part of the customer', async () => {
    const h = harness();
    await h.svc.getProfile(ID);
    await h.svc.whenIdle();
    await h.svc.invalidate(ID);
    expect((await h.cache.getAll(ID, ['salesforce', 'sap', 'servicenow'])).parts.size).toBe(0);
  });
});
