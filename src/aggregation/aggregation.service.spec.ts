import { Logger } from '@nestjs/common';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

import { CacheConfig } from '../cache/cache.config.js';
import type { Answered, ProfileCache, Resolution, SourceFetch } from '../cache/profile-cache.js';
import type { CachedSource } from '../cache/source-cache.js';
import type { CustomerConnector, CustomerPartial, FetchResult } from '../connectors/connector.js';
import { Metrics } from '../observability/metrics.js';
import { backgroundWork, inBackground } from '../resilience/background.js';
import { Deadline } from '../upstream/deadline.js';
import { AggregationConfig } from './aggregation.config.js';
import { AggregationService, sourceOutcome } from './aggregation.service.js';
import { REFRESH_RETRY_MS } from './refresh-ahead.js';
import type { SourceBatches } from './source-batches.js';

/**
 * The fan-out and merge, built with `new` and fakes: connectors that record their calls, and a
 * fake cache policy that answers each source as the test says (the policy itself has its own spec).
 */

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);
const ID = '0010100001';
const DEADLINE_MS = 800;
const FRESH_MS = 30_000;
const iso = (ms: number) => new Date(ms).toISOString();

const DATA: Record<string, CustomerPartial> = {
  salesforce: { accountName: 'Acme Corp', loyaltyTier: 'Gold' },
  sap: { accountName: 'ACME CORPORATION', balances: [{ amount: '12.50', currency: 'EUR' }] },
  servicenow: { openTickets: 3 },
};

class FakeConnector implements CustomerConnector {
  readonly calls: Array<{ customerId: string; signal: AbortSignal }> = [];

  constructor(
    readonly source: string,
    readonly enabled = true,
  ) {}

  fetch(customerId: string, signal: AbortSignal): Promise<FetchResult> {
    this.calls.push({ customerId, signal });
    return Promise.resolve({ found: true, data: DATA[this.source] });
  }
}

/** The cache policy's surface, answering what `answers` says per source (a fresh hit by default). */
class FakeCache {
  readonly resolved: Array<{ source: string; customerId: string; fetch: SourceFetch; deadline: Deadline; aheadMs: number; background: boolean }> = [];
  readonly invalidated: Array<[string, string[]]> = [];
  answers: Record<string, Resolution | Promise<Resolution>> = {};
  idle = false;
  /** Start the deadline's timers, as the real policy does on a miss. */
  raceDeadline = false;

  /** Parts the near tier holds fresh: `nearHits` answers only when it has every source asked for. */
  near: Record<string, Answered> = {};
  readonly nearAsked: string[][] = [];

  nearHits(sources: readonly string[]): Answered[] | undefined {
    this.nearAsked.push([...sources]);
    return sources.every((s) => s in this.near) ? sources.map((s) => this.near[s]) : undefined;
  }

  resolve(source: string, customerId: string, fetch: SourceFetch, deadline: Deadline, aheadMs = 0): Promise<Resolution> {
    this.resolved.push({ source, customerId, fetch, deadline, aheadMs, background: backgroundWork() !== undefined });
    if (this.raceDeadline) void [deadline.reached, deadline.signal];
    return Promise.resolve(this.answers[source] ?? hit(source));
  }

  invalidate(customerId: string, sources: string[]): Promise<void> {
    this.invalidated.push([customerId, sources]);
    return Promise.resolve();
  }

  whenIdle(): Promise<void> {
    this.idle = true;
    return Promise.resolve();
  }
}

const entry = (source: string, fetchedAt = T0): CachedSource => ({ found: true, data: DATA[source], fetchedAt });
const hit = (source: string): Answered => ({ outcome: 'answered', entry: entry(source), cache: 'hit', latencyMs: 0 });

function harness(options: { sapEnabled?: boolean; refreshAheadPercent?: number } = {}) {
  const connectors = [new FakeConnector('salesforce'), new FakeConnector('sap', options.sapEnabled ?? true), new FakeConnector('servicenow')];
  const cache = new FakeCache();
  const metrics = new Metrics();
  const config = Object.assign(new AggregationConfig(), { deadlineMs: DEADLINE_MS });
  // no batching here: each source's fetch goes straight to its connector (SourceBatches has its own spec)
  const hurried: Array<[string, string]> = [];
  const unbatched = { fetch: (c: CustomerConnector, id: string, signal: AbortSignal) => c.fetch(id, signal), hurry: (source: string, id: string) => hurried.push([source, id]) } as unknown as SourceBatches;
  const cacheConfig = Object.assign(new CacheConfig(), { freshTtlMs: FRESH_MS, refreshAheadPercent: options.refreshAheadPercent ?? 25 });
  const svc = new AggregationService(connectors, cache as unknown as ProfileCache, config, metrics, unbatched, cacheConfig);
  const [sf, sap, sn] = connectors;
  return { svc, cache, metrics, sf, sap, sn, hurried };
}

beforeAll(() => {
  Logger.overrideLogger(false);
});
beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('AggregationService: fan-out', () => {
  it('asks the cache for every enabled source at once, under one deadline of AGGREGATION_DEADLINE_MS', async () => {
    const h = harness();
    let release!: (r: Resolution) => void;
    h.cache.answers.sap = new Promise<Resolution>((r) => (release = r));
    const pending = h.svc.getProfile(ID);
    await vi.advanceTimersByTimeAsync(0);
    // all three asked before any answered
    expect(h.cache.resolved.map((r) => [r.source, r.customerId])).toEqual([
      ['salesforce', ID],
      ['sap', ID],
      ['servicenow', ID],
    ]);
    const deadlines = new Set(h.cache.resolved.map((r) => r.deadline));
    expect(deadlines.size).toBe(1);
    expect([...deadlines][0].at).toBe(T0 + DEADLINE_MS);
    release(hit('sap'));
    expect((await pending).verdict).toBe('found');
  });

  it('each source\'s fetch calls its connector for the customer, cancelled by the signal of the deadline it is given', async () => {
    const h = harness();
    await h.svc.getProfile(ID);
    const callDeadline = Deadline.after(100);
    const sapFetch = h.cache.resolved.find((r) => r.source === 'sap')!.fetch;
    await expect(sapFetch(callDeadline)).resolves.toEqual({ found: true, data: DATA.sap });
    expect(h.sap.calls).toEqual([{ customerId: ID, signal: callDeadline.signal }]);
    expect([h.sf.calls.length, h.sn.calls.length]).toEqual([0, 0]); // the cache decides when to call
    callDeadline.dispose();
  });

  it('uses the deadline it is given (a phone look-up\'s), and leaves it to its owner', async () => {
    const h = harness();
    const deadline = Deadline.after(300);
    const dispose = vi.spyOn(deadline, 'dispose');
    await h.svc.getProfile(ID, deadline);
    expect(h.cache.resolved.every((r) => r.deadline === deadline)).toBe(true);
    expect(dispose).not.toHaveBeenCalled();
  });

  it('disposes a deadline of its own once answered: no timer is left behind', async () => {
    const h = harness();
    h.cache.raceDeadline = true;
    await h.svc.getProfile(ID);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a disabled source is marked disabled, never asked for, and does not make the view degraded', async () => {
    const h = harness({ sapEnabled: false });
    const { view } = await h.svc.getProfile(ID);
    expect(view.sources.sap).toEqual({ status: 'disabled' });
    expect(view.degraded).toBe(false);
    expect(h.cache.resolved.map((r) => r.source)).toEqual(['salesforce', 'servicenow']);
  });
});

describe('AggregationService: every part fresh in this process', () => {
  it('is answered from the near tier at once: nothing resolved, no deadline, the same view and counts', async () => {
    const h = harness();
    const resolved = await h.svc.getProfile(ID);
    const h2 = harness();
    h2.cache.near = { salesforce: hit('salesforce'), sap: hit('sap'), servicenow: hit('servicenow') };
    const kept = await h2.svc.getProfile(ID);
    expect(h2.cache.resolved).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
    expect(kept).toEqual(resolved);
    expect((await h2.metrics.sourceResults.get()).values.map((v) => [v.labels.source, v.labels.status, v.value])).toEqual([
      ['salesforce', 'ok', 1],
      ['sap', 'ok', 1],
      ['servicenow', 'ok', 1],
    ]);
  });

  it('asks the near tier for the enabled sources only; a disabled one is still marked disabled', async () => {
    const h = harness({ sapEnabled: false });
    h.cache.near = { salesforce: hit('salesforce'), servicenow: hit('servicenow') };
    const result = await h.svc.getProfile(ID);
    expect(h.cache.nearAsked).toEqual([['salesforce', 'servicenow']]);
    expect(h.cache.resolved).toEqual([]);
    expect(result.view.sources.sap).toEqual({ status: 'disabled' });
    expect(result.view.degraded).toBe(false);
  });

  it('the same fresh parts give the very same answer, assembled once (frozen, its lastUpdated when assembled); every answer is still counted', async () => {
    const h = harness();
    h.cache.near = { salesforce: hit('salesforce'), sap: hit('sap'), servicenow: hit('servicenow') };
    const first = await h.svc.getProfile(ID);
    vi.advanceTimersByTime(5000);
    const again = await h.svc.getProfile(ID);
    expect(again).toBe(first);
    expect(Object.isFrozen(again.view) && Object.isFrozen(again.view.sources)).toBe(true);
    expect(again.view.lastUpdated).toBe(iso(T0));
    expect(() => {
      (again.view as { accountName: string | null }).accountName = 'changed';
    }).toThrow(TypeError);
    expect((await h.metrics.sourceResults.get()).values.map((v) => v.value)).toEqual([2, 2, 2]);
  });

  it('a part that changed (a newer entry) gives a new answer; so does another customer with the same parts', async () => {
    const h = harness();
    h.cache.near = { salesforce: hit('salesforce'), sap: hit('sap'), servicenow: hit('servicenow') };
    const first = await h.svc.getProfile(ID);
    h.cache.near = { ...h.cache.near, servicenow: { outcome: 'answered', entry: { found: true, data: { openTickets: 7 }, fetchedAt: T0 + 1 }, cache: 'hit', latencyMs: 0 } };
    const changed = await h.svc.getProfile(ID);
    expect(changed).not.toBe(first);
    expect(changed.view.openTickets).toBe(7);
    const other = await h.svc.getProfile('0010100002');
    expect(other.view.customerId).toBe('0010100002');
  });

  it('answers assembled after a live resolution are not shared (each request its own view)', async () => {
    const h = harness();
    const a = await h.svc.getProfile(ID);
    const b = await h.svc.getProfile(ID);
    expect(a).not.toBe(b);
    expect(Object.isFrozen(a.view)).toBe(false);
  });

  it('one part missing there: every source is resolved as usual, under the deadline', async () => {
    const h = harness();
    h.cache.near = { salesforce: hit('salesforce'), servicenow: hit('servicenow') };
    expect((await h.svc.getProfile(ID)).verdict).toBe('found');
    expect(h.cache.resolved.map((r) => r.source)).toEqual(['salesforce', 'sap', 'servicenow']);
  });
});

describe('AggregationService: refresh-ahead on read (CACHE_REFRESH_AHEAD_PERCENT)', () => {
  const WINDOW_MS = FRESH_MS / 4; // the default 25 %
  /** A fresh cached answer of `source` with `leftMs` of its fresh time left. */
  const keptFor = (source: string, leftMs: number): Answered => ({ outcome: 'answered', entry: entry(source, T0 - FRESH_MS + leftMs), cache: 'hit', latencyMs: 0 });
  const nearAll = (h: ReturnType<typeof harness>, sapLeftMs: number) => {
    h.cache.near = { salesforce: keptFor('salesforce', WINDOW_MS + 2000), sap: keptFor('sap', sapLeftMs), servicenow: keptFor('servicenow', FRESH_MS) };
  };
  const refreshes = (h: ReturnType<typeof harness>) => h.cache.resolved.filter((r) => r.background).map((r) => [r.source, r.customerId, r.aheadMs]);

  it('a part read with less than the window left is fetched again in the background, asking for the window; the answer does not wait for it', async () => {
    const h = harness();
    nearAll(h, WINDOW_MS - 1);
    let release!: (r: Resolution) => void;
    h.cache.answers.sap = new Promise<Resolution>((r) => (release = r));
    const answer = await h.svc.getProfile(ID);
    expect(answer.view.sources.sap).toMatchObject({ status: 'ok', cache: 'hit' });
    expect(refreshes(h)).toEqual([['sap', ID, WINDOW_MS]]);
    expect(h.cache.resolved.filter((r) => !r.background)).toEqual([]); // the answer itself resolved nothing
    // nobody waits for it: its outcome is awaited for the call's whole budget (answer deadline + late completion), not the answer deadline
    expect(h.cache.resolved[0].deadline.at).toBe(T0 + DEADLINE_MS + new AggregationConfig().lateCompletionMs);
    let idle = false;
    const idling = h.svc.whenIdle().then(() => (idle = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(idle).toBe(false); // whenIdle waits for the refresh
    release({ outcome: 'answered', entry: entry('sap', T0), cache: 'miss', latencyMs: 40 });
    await idling;
    expect((await h.metrics.cacheRefreshAhead.get()).values.map((v) => [v.labels.source, v.labels.result, v.value])).toEqual([['sap', 'called', 1]]);
  });

  it('each entry once: the reads that follow start nothing more; a refresh that did not replace it is tried again by a read after REFRESH_RETRY_MS', async () => {
    const h = harness();
    nearAll(h, 3000);
    h.cache.answers.sap = { outcome: 'failed', reason: 'rate_limited', latencyMs: 0 };
    await h.svc.getProfile(ID);
    await h.svc.getProfile(ID);
    await h.svc.whenIdle();
    expect(refreshes(h)).toHaveLength(1);
    vi.advanceTimersByTime(REFRESH_RETRY_MS - 1);
    await h.svc.getProfile(ID);
    expect(refreshes(h)).toHaveLength(1);
    vi.advanceTimersByTime(1);
    await h.svc.getProfile(ID);
    await h.svc.whenIdle();
    expect(refreshes(h)).toHaveLength(2);
    expect((await h.metrics.cacheRefreshAhead.get()).values.map((v) => [v.labels.source, v.labels.result, v.value])).toEqual([['sap', 'failed', 2]]);
  });

  it('a part with at least the window left is not refreshed', async () => {
    const h = harness();
    nearAll(h, WINDOW_MS);
    await h.svc.getProfile(ID);
    await h.svc.whenIdle();
    expect(h.cache.resolved).toEqual([]);
  });

  it('a hit read from Redis close to going stale is refreshed too; a part just called is not', async () => {
    const h = harness();
    h.cache.answers = { salesforce: { outcome: 'answered', entry: entry('salesforce', T0), cache: 'miss', latencyMs: 30 }, sap: keptFor('sap', 1000), servicenow: { outcome: 'answered', entry: entry('servicenow', T0), cache: 'wait', latencyMs: 30 } };
    await h.svc.getProfile(ID);
    await h.svc.whenIdle();
    expect(refreshes(h)).toEqual([['sap', ID, WINDOW_MS]]);
    expect((await h.metrics.cacheRefreshAhead.get()).values.map((v) => [v.labels.source, v.labels.result, v.value])).toEqual([['sap', 'joined', 1]]); // the fake answers the refresh with the same hit
  });

  it('background work reading a part (a pre-fetch with its own margin) starts no refresh of its own', async () => {
    const h = harness();
    nearAll(h, 1000);
    await inBackground({ reserveFraction: 0.3, refreshAheadMs: 0 }, () => h.svc.getProfile(ID));
    await h.svc.whenIdle();
    expect(refreshes(h)).toEqual([]);
  });

  it('a part resolved for a live look-up first hurries a refresh of it still waiting to be batched (the look-up may join its call); a near-tier answer resolves nothing and hurries nothing', async () => {
    const h = harness();
    await h.svc.getProfile(ID);
    expect(h.hurried).toEqual([
      ['salesforce', ID],
      ['sap', ID],
      ['servicenow', ID],
    ]);
    const kept = harness();
    nearAll(kept, FRESH_MS);
    await kept.svc.getProfile(ID);
    expect(kept.hurried).toEqual([]);
  });

  it('CACHE_REFRESH_AHEAD_PERCENT 0: a part is fetched again only once stale', async () => {
    const h = harness({ refreshAheadPercent: 0 });
    nearAll(h, 1);
    await h.svc.getProfile(ID);
    await h.svc.whenIdle();
    expect(h.cache.resolved).toEqual([]);
  });
});

describe('AggregationService: merge', () => {
  it('merges the parts in registration order (the first source to fill a field wins)', async () => {
    const h = harness();
    const { verdict, view } = await h.svc.getProfile(ID);
    expect(verdict).toBe('found');
    expect(view).toMatchObject({ customerId: ID, accountName: 'Acme Corp', loyaltyTier: 'Gold', balance: '12.50', currency: 'EUR', openTickets: 3, degraded: false, sourceSystems: ['salesforce', 'sap', 'servicenow'], lastUpdated: iso(T0) });
    expect(view.sources.sap).toEqual({ status: 'ok', fetchedAt: iso(T0), latencyMs: 0, cache: 'hit' });
  });

  it('a failed source with a stale copy still fills its fields, and the view is degraded', async () => {
    const h = harness();
    vi.setSystemTime(T0 + 45_000);
    h.cache.answers.sap = { outcome: 'failed', reason: 'unavailable', latencyMs: 3, stale: entry('sap') };
    const { verdict, view } = await h.svc.getProfile(ID);
    expect(verdict).toBe('found');
    expect(view.sources.sap).toEqual({ status: 'stale', fetchedAt: iso(T0), ageMs: 45_000, latencyMs: 3, reason: 'unavailable' });
    expect(view).toMatchObject({ balance: '12.50', degraded: true });
  });

  it('every source not knowing the customer is "not_found"; every source failing without a copy is "unavailable"', async () => {
    const h = harness();
    for (const s of ['salesforce', 'sap', 'servicenow']) h.cache.answers[s] = { outcome: 'answered', entry: { found: false, fetchedAt: T0 }, cache: 'miss', latencyMs: 5 };
    expect((await h.svc.getProfile(ID)).verdict).toBe('not_found');
    for (const s of ['salesforce', 'sap', 'servicenow']) h.cache.answers[s] = { outcome: 'failed', reason: 'unavailable', latencyMs: 5 };
    expect((await h.svc.getProfile(ID)).verdict).toBe('unavailable');
  });

  it('counts every source\'s status', async () => {
    const h = harness({ sapEnabled: false });
    h.cache.answers.servicenow = { outcome: 'failed', reason: 'rate_limited', latencyMs: 0 };
    await h.svc.getProfile(ID);
    const values = (await h.metrics.sourceResults.get()).values.map((v) => [v.labels.source, v.labels.status, v.value]);
    expect(values).toEqual(
      expect.arrayContaining([
        ['salesforce', 'ok', 1],
        ['sap', 'disabled', 1],
        ['servicenow', 'rate_limited', 1],
      ]),
    );
  });
});

describe('AggregationService: invalidation and idling go to the cache', () => {
  it('invalidates the customer for every registered source, disabled ones included', async () => {
    const h = harness({ sapEnabled: false });
    await h.svc.invalidate(ID);
    expect(h.cache.invalidated).toEqual([[ID, ['salesforce', 'sap', 'servicenow']]]);
  });

  it('whenIdle is the cache\'s', async () => {
    const h = harness();
    await h.svc.whenIdle();
    expect(h.cache.idle).toBe(true);
  });
});

describe('sourceOutcome: what the answer says of one source', () => {
  const NOW = T0 + 10_000;

  it.each<['hit' | 'miss' | 'wait', number]>([
    ['hit', 0],
    ['miss', 120],
    ['wait', 200],
  ])('an entry (cache: %s) is ok with its data, when it was fetched, and the wait', (cache, latencyMs) => {
    expect(sourceOutcome('sap', { outcome: 'answered', entry: entry('sap'), cache, latencyMs }, NOW)).toEqual({ source: 'sap', state: { status: 'ok', fetchedAt: iso(T0), latencyMs, cache }, data: DATA.sap });
  });

  it('a fresh hit on the same entry says the same thing each time, worked out once (frozen: answers share it)', () => {
    const cached = entry('sap');
    const first = sourceOutcome('sap', { outcome: 'answered', entry: cached, cache: 'hit', latencyMs: 0 }, NOW);
    const again = sourceOutcome('sap', { outcome: 'answered', entry: cached, cache: 'hit', latencyMs: 0 }, NOW + 5000);
    expect(again).toBe(first);
    expect(Object.isFrozen(first) && Object.isFrozen(first.state)).toBe(true);
    // another entry, or the same entry reached by a call, is described anew
    expect(sourceOutcome('sap', { outcome: 'answered', entry: entry('sap'), cache: 'hit', latencyMs: 0 }, NOW)).not.toBe(first);
    expect(sourceOutcome('sap', { outcome: 'answered', entry: cached, cache: 'miss', latencyMs: 30 }, NOW)).toEqual({ source: 'sap', state: { status: 'ok', fetchedAt: iso(T0), latencyMs: 30, cache: 'miss' }, data: DATA.sap });
  });

  it('a "not found" entry is not_found, without data, live or cached alike', () => {
    expect(sourceOutcome('sap', { outcome: 'answered', entry: { found: false, fetchedAt: T0 }, cache: 'hit', latencyMs: 0 }, NOW)).toEqual({ source: 'sap', state: { status: 'not_found', fetchedAt: iso(T0), latencyMs: 0, cache: 'hit' } });
  });

  it('a failure with a kept "not found" is not_found with its age and the reason (the source failed now)', () => {
    expect(sourceOutcome('sap', { outcome: 'failed', reason: 'timeout', latencyMs: 801, stale: { found: false, fetchedAt: T0 } }, NOW)).toEqual({
      source: 'sap',
      state: { status: 'not_found', fetchedAt: iso(T0), ageMs: 10_000, latencyMs: 801, reason: 'timeout' },
    });
  });

  it.each([
    ['timeout', 'timeout'],
    ['rate_limited', 'rate_limited'],
    ['not_found', 'not_found'],
    ['unavailable', 'unavailable'],
    ['auth', 'unavailable'],
    ['bad_response', 'unavailable'],
    ['circuit_open', 'unavailable'],
  ])('without a kept copy, a %s failure is status %s with that reason', (reason, status) => {
    expect(sourceOutcome('sap', { outcome: 'failed', reason, latencyMs: 7 }, NOW)).toEqual({ source: 'sap', state: { status, latencyMs: 7, reason } });
  });
});
