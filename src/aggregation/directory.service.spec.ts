import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { CacheConfig } from '../cache/cache.config.js';
import { NearCache } from '../cache/near-cache.js';
import type { ReplicaLock } from '../cache/replica-lock.js';
import type { LookupKind, SourceCache } from '../cache/source-cache.js';
import type { CustomerDirectory } from '../connectors/connector.js';
import { E164 } from '../connectors/identifiers.js';
import { Metrics } from '../observability/metrics.js';
import { Deadline, deadlineOf } from '../upstream/deadline.js';
import { AggregationConfig } from './aggregation.config.js';
import { DirectoryService, toE164 } from './directory.service.js';

describe('toE164', () => {
  it.each([
    ['+1 415-555-0100', 'US', '+14155550100'],
    ['(415) 555-0100', 'US', '+14155550100'],
    ['415.555.0100', 'US', '+14155550100'],
    ['020 7946 0000', 'GB', '+442079460000'],
    ['+44 20 7946 0000', 'US', '+442079460000'],
    ['+14155550100', 'GB', '+14155550100'],
  ])('%j (region %s) → %s', (input, region, expected) => {
    expect(toE164(input, region)).toBe(expected);
  });

  it('reads a national number by the given region', () => {
    // the same digits are a different number in another region
    expect(toE164('020 7946 0000', 'US')).toBeUndefined();
  });

  it.each(['', '12', 'abc', '+1 415-555-010', '+999 1234567', '0000000000', '+'])('refuses the invalid number %j', (input) => {
    expect(toE164(input, 'US')).toBeUndefined();
  });

  // BUG: parsePhoneNumberFromString extracts a number from surrounding text by default (extract: true).
  it.each(["+14155550100' OR '1'='1", '+14155550100; DROP TABLE Account', '4155550100^ORactive=true', '+14155550100} OR {x', 'call +1 415 555 0100 now'])(
    'refuses the injection-shaped %j instead of extracting a number from it',
    (input) => {
      expect(toE164(input, 'US')).toBeUndefined();
    },
  );

  it('whatever it returns is plain E.164, safe to place in a query', () => {
    for (const input of ['+1 (415) 555-0100', "+14155550100' OR '1'='1", '+14155550100; DROP TABLE Account', '(415) 555-0100 ext. 7', '+1 415 555 0100\n']) {
      const out = toE164(input, 'US');
      if (out !== undefined) expect(out).toMatch(E164);
    }
  });
});

describe('DirectoryService', () => {
  const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);

  /** The directory CRM: records each call's signal, answers when the test says. */
  class FakeDirectory implements CustomerDirectory {
    readonly calls: Array<{ by: 'phone' | 'email'; value: string; signal: AbortSignal }> = [];
    answer: Promise<string[]> = Promise.resolve(['0010100001']);

    findByPhone(e164: string, signal: AbortSignal): Promise<string[]> {
      this.calls.push({ by: 'phone', value: e164, signal });
      return this.answer;
    }

    findByEmail(email: string, signal: AbortSignal): Promise<string[]> {
      this.calls.push({ by: 'email', value: email, signal });
      return this.answer;
    }
  }

  /** The look-up side of the cache (Redis), in memory: each look-up stored for TTL_MS, reads counted. */
  class FakeLookups {
    readonly kept = new Map<string, { ids: string[]; expires: number }>();
    reads = 0;
    /** Whether a write reaches the store (false: Redis is away). */
    up = true;
    readLookup(kind: LookupKind, value: string): Promise<{ ids: string[]; expires?: number } | undefined> {
      this.reads++;
      const kept = this.up ? this.kept.get(`${kind}:${value}`) : undefined;
      return Promise.resolve(kept && kept.expires > Date.now() ? kept : undefined);
    }
    putLookup(kind: LookupKind, value: string, ids: string[]): Promise<number | undefined> {
      if (!this.up) return Promise.resolve(undefined);
      const expires = Date.now() + TTL_MS;
      this.kept.set(`${kind}:${value}`, { ids, expires });
      return Promise.resolve(expires);
    }
  }
  const TTL_MS = 300_000;

  function harness() {
    const directory = new FakeDirectory();
    const lookups = new FakeLookups();
    // the near tier as it is (its coherence link is not started: look-ups need none)
    const near = new NearCache(new CacheConfig(), {} as ReplicaLock, new Metrics());
    const svc = new DirectoryService(directory, lookups as unknown as SourceCache, near, Object.assign(new AggregationConfig(), { defaultPhoneRegion: 'GB' }));
    return { svc, directory, lookups, near };
  }

  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('normalizes a notation once, and gives the same answer when asked again (valid or not)', () => {
    const { svc } = harness();
    for (let i = 0; i < 2; i++) {
      expect(svc.normalizePhone('020 7946 0000')).toBe('+442079460000');
      expect(svc.normalizePhone('+1 (415) 555-0100')).toBe('+14155550100');
      expect(svc.normalizePhone('4155550100^ORactive=true')).toBeUndefined();
      expect(svc.normalizePhone('0000000000')).toBeUndefined();
    }
  });

  it('normalizes phone numbers by DEFAULT_PHONE_REGION', () => {
    expect(harness().svc.normalizePhone('020 7946 0000')).toBe('+442079460000');
  });

  it('asks the CRM on a miss, with the deadline\'s signal, and remembers the answer', async () => {
    const h = harness();
    const deadline = Deadline.after(800);
    expect(await h.svc.byPhone('+14155550100', deadline)).toEqual(['0010100001']);
    expect(h.directory.calls).toEqual([{ by: 'phone', value: '+14155550100', signal: deadline.signal }]);
    expect(deadlineOf(h.directory.calls[0].signal)).toBe(T0 + 800);
    expect(h.lookups.kept.get('phone:+14155550100')?.ids).toEqual(['0010100001']);
    deadline.dispose();
  });

  it('a remembered look-up calls nothing', async () => {
    const h = harness();
    h.lookups.kept.set('email:ann@example.com', { ids: ['0010100009'], expires: T0 + TTL_MS });
    expect(await h.svc.byEmail('Ann@Example.com', Deadline.after(800))).toEqual(['0010100009']);
    expect(h.directory.calls).toHaveLength(0);
  });

  it('a look-up read from Redis is kept in this process until its Redis copy expires: no read before, a read after', async () => {
    const h = harness();
    h.lookups.kept.set('phone:+14155550100', { ids: ['0010100001'], expires: T0 + 1000 });
    expect(await h.svc.byPhone('+14155550100', Deadline.after(800))).toEqual(['0010100001']);
    vi.setSystemTime(T0 + 999);
    expect(await h.svc.byPhone('+14155550100', Deadline.after(800))).toEqual(['0010100001']);
    expect(h.lookups.reads).toBe(1);
    vi.setSystemTime(T0 + 1000);
    expect(await h.svc.byPhone('+14155550100', Deadline.after(800))).toEqual(['0010100001']); // asked the CRM again
    expect(h.lookups.reads).toBe(2);
    expect(h.directory.calls).toHaveLength(1);
  });

  it('a look-up the CRM answered is kept as long as its stored copy; it outlives Redis going away, and is not kept when it could not be stored', async () => {
    const h = harness();
    await h.svc.byPhone('+14155550100', Deadline.after(800));
    h.lookups.up = false;
    vi.setSystemTime(T0 + TTL_MS - 1);
    expect(await h.svc.byPhone('+14155550100', Deadline.after(800))).toEqual(['0010100001']);
    expect(h.directory.calls).toHaveLength(1);
    await h.svc.byEmail('ann@example.com', Deadline.after(800));
    await h.svc.byEmail('ann@example.com', Deadline.after(800));
    expect(h.directory.calls.filter((c) => c.by === 'email')).toHaveLength(2);
  });

  it('with the near cache off, every look-up reads Redis', async () => {
    const h = harness();
    const svc = new DirectoryService(h.directory, h.lookups as unknown as SourceCache, new NearCache(Object.assign(new CacheConfig(), { nearEnabled: false }), {} as ReplicaLock, new Metrics()), new AggregationConfig());
    await svc.byPhone('+14155550100', Deadline.after(800));
    await svc.byPhone('+14155550100', Deadline.after(800));
    expect(h.lookups.reads).toBe(2);
    expect(h.directory.calls).toHaveLength(1);
  });

  it('the CRM call is cancelled at the deadline', async () => {
    const h = harness();
    h.directory.answer = new Promise<string[]>(() => undefined);
    void h.svc.byEmail('ann@example.com', Deadline.after(800));
    await vi.advanceTimersByTimeAsync(799);
    expect(h.directory.calls[0].signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.directory.calls[0].signal.aborted).toBe(true);
  });
});
