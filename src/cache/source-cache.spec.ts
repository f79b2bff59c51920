import KeyvRedis from '@keyv/redis';
import { Logger } from '@nestjs/common';
import { createClient } from '@redis/client';
import { type Cache, createCache } from 'cache-manager';
import { Keyv, type KeyvStoreAdapter } from 'keyv';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

import { RedisServer } from '../../test/support/redis-server.js';
import { Metrics } from '../observability/metrics.js';
import { sameSlot, slotOf } from '../redis/redis-keys.js';
import { CacheConfig } from './cache.config.js';
import { CacheKeys } from './cache-keys.js';
import { createRedis, type Redis } from './redis.provider.js';
import { type CachedSource, InvalidationDeferred, SourceCache } from './source-cache.js';

/**
 * SourceCache over real cache-manager: an in-memory Keyv store for the logic (the store the service
 * uses without REDIS_URL), a store that fails or never answers for the error paths, and the
 * production Redis store on a real redis-server for an outage (what Redis does when it is gone is
 * not something a fake should decide).
 */

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);
/** The generation of a customer never invalidated (what getAll reads for it). */
const NEVER = '';
const SAP_PART: CachedSource = { found: true, data: { balances: [{ amount: '12.50', currency: 'EUR' }], accountName: 'Acme' }, fetchedAt: T0 };

function config(overrides: Partial<CacheConfig> = {}): CacheConfig {
  return Object.assign(new CacheConfig(), { freshTtlMs: 30_000, staleTtlMs: 86_400_000, lookupTtlMs: 300_000, opTimeoutMs: 100, keyPrefix: 'c360' }, overrides);
}

function memoryCache(): Cache {
  return createCache({ stores: [new Keyv()] });
}

/** A store that fails every operation (what cache-manager sees when its backend errors). */
function failingStore(): KeyvStoreAdapter {
  const fail = () => Promise.reject(new Error('store down'));
  return { opts: {}, namespace: undefined, get: fail, set: fail, delete: fail, clear: fail, getMany: fail, deleteMany: fail, has: fail, on: () => undefined } as unknown as KeyvStoreAdapter;
}

/** A cache whose every operation hangs (a blocked Redis). */
function stalledCache(): Cache {
  const never = () => new Promise<never>(() => undefined);
  return { get: never, mget: never, set: never, mdel: never, del: never } as unknown as Cache;
}

async function counted(metrics: Metrics, operation: 'read' | 'write'): Promise<number> {
  return (await metrics.cacheErrors.get()).values.find((v) => v.labels.operation === operation)?.value ?? 0;
}

async function lookups(metrics: Metrics, cache: string, result: string): Promise<number> {
  return (await metrics.cacheLookups.get()).values.find((v) => v.labels.cache === cache && v.labels.result === result)?.value ?? 0;
}

beforeAll(() => {
  Logger.overrideLogger(false);
});

describe('SourceCache over an in-memory store', () => {
  let store: Cache;
  let metrics: Metrics;
  let cache: SourceCache;
  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
    store = memoryCache();
    metrics = new Metrics();
    cache = new SourceCache(store, config(), metrics);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('keys each part by prefix, customer (its hash tag), schema version and source', () => {
    expect(cache.key('0010100001', 'sap')).toBe('c360:{0010100001}:v3:part:sap');
    expect(new SourceCache(store, config({ keyPrefix: 'blue' })).key('7', 'salesforce')).toBe('blue:{7}:v3:part:salesforce');
  });

  it('gives back what was put, only the entry\'s own fields, and a "not found" as not found', async () => {
    await cache.put('0010100001', 'sap', { ...SAP_PART, inProcessOnly: true } as CachedSource, NEVER);
    await cache.put('0010100001', 'servicenow', { found: false, fetchedAt: T0 }, NEVER);
    expect(await store.get(cache.key('0010100001', 'sap'))).toEqual({ found: true, data: SAP_PART.data, fetchedAt: T0 });
    expect(await cache.get('0010100001', 'sap')).toEqual(SAP_PART);
    expect(await cache.read('0010100001', 'servicenow')).toEqual({ found: false, fetchedAt: T0 });
    expect(await cache.get('0010100001', 'salesforce')).toBeUndefined();
  });

  it('reads several parts at once and leaves out what is missing or not an entry', async () => {
    await cache.put('0010100001', 'sap', SAP_PART, NEVER);
    await store.set(cache.key('0010100001', 'salesforce'), { found: true, data: {} }); // no fetchedAt: not ours
    const { parts, generation } = await cache.getAll('0010100001', ['salesforce', 'sap', 'servicenow']);
    expect([...parts.entries()]).toEqual([['sap', SAP_PART]]);
    expect(generation).toBe(NEVER);
    expect((await cache.getAll('0010100001', [])).parts.size).toBe(0);
  });

  it('judges freshness from fetchedAt: fresh for exactly CACHE_FRESH_TTL_MS', () => {
    expect(cache.isFresh(SAP_PART, T0 + 29_999)).toBe(true);
    expect(cache.isFresh(SAP_PART, T0 + 30_000)).toBe(false);
  });

  it('keeps a part for fresh TTL + stale grace, then forgets it', async () => {
    const short = new SourceCache(store, config({ freshTtlMs: 1_000, staleTtlMs: 5_000 }));
    await short.put('0010100001', 'sap', SAP_PART, NEVER);
    vi.setSystemTime(T0 + 5_999);
    expect(await short.get('0010100001', 'sap')).toEqual(SAP_PART); // stale, still kept
    vi.setSystemTime(T0 + 6_001);
    expect(await short.get('0010100001', 'sap')).toBeUndefined();
  });

  it('invalidation drops every part of the customer and starts a new generation', async () => {
    for (const source of ['salesforce', 'sap', 'servicenow']) await cache.put('0010100001', source, SAP_PART, NEVER);
    await cache.put('0010100002', 'sap', SAP_PART, NEVER);
    vi.setSystemTime(T0 + 10_000);
    await cache.invalidate('0010100001', ['salesforce', 'sap', 'servicenow'], 6_000);
    const after = await cache.getAll('0010100001', ['salesforce', 'sap', 'servicenow']);
    expect(after.parts.size).toBe(0);
    expect(after.generation).toMatch(/^[0-9a-f-]{36}$/);
    expect(await cache.get('0010100002', 'sap')).toEqual(SAP_PART); // another customer is untouched
    expect((await cache.getAll('0010100002', [])).generation).toBe(NEVER);
  });

  it('a part fetched under the generation read before an invalidation is not written; one read after it is', async () => {
    const before = (await cache.getAll('0010100001', [])).generation;
    await cache.invalidate('0010100001', ['sap'], 6_000);
    await cache.put('0010100001', 'sap', SAP_PART, before);
    expect(await cache.get('0010100001', 'sap')).toBeUndefined();
    const after = (await cache.getAll('0010100001', [])).generation;
    await cache.put('0010100001', 'sap', SAP_PART, after); // in the same millisecond: a generation, not a clock
    expect(await cache.get('0010100001', 'sap')).toEqual(SAP_PART);
  });

  it('writes nothing under a generation it could not read (null)', async () => {
    await cache.put('0010100001', 'sap', SAP_PART, null);
    expect(await cache.get('0010100001', 'sap')).toBeUndefined();
  });

  it('keeps the generation as long as a part can live (a fetch must never find it gone and write old data)', async () => {
    const short = new SourceCache(store, config({ freshTtlMs: 1_000, staleTtlMs: 5_000 }));
    await short.invalidate('0010100001', ['sap'], 10);
    const generation = (await short.getAll('0010100001', [])).generation;
    vi.setSystemTime(T0 + 5_999);
    expect((await short.getAll('0010100001', [])).generation).toBe(generation);
  });

  it('remembers look-ups case-insensitively for CACHE_LOOKUP_TTL_MS, counting hits and misses', async () => {
    await cache.putLookup('email', 'Contact1@Acme.example.com', ['0010100001']);
    expect(await cache.getLookup('email', 'contact1@acme.EXAMPLE.com')).toEqual(['0010100001']);
    expect(await cache.getLookup('phone', '+14155550100')).toBeUndefined();
    expect(await lookups(metrics, 'email', 'hit')).toBe(1);
    expect(await lookups(metrics, 'phone', 'miss')).toBe(1);
    vi.setSystemTime(T0 + 300_001);
    expect(await cache.getLookup('email', 'contact1@acme.example.com')).toBeUndefined();
  });

  it('reads a look-up with the moment its stored copy expires, and says when a stored one will', async () => {
    vi.setSystemTime(T0 + 1000);
    expect(await cache.putLookup('phone', '+14155550100', ['0010100001'])).toBe(T0 + 301_000);
    expect(await cache.readLookup('phone', '+14155550100')).toEqual({ ids: ['0010100001'], expires: T0 + 301_000 });
    expect(await cache.readLookup('phone', '+14155550199')).toBeUndefined();
  });
});

/**
 * An in-memory store that records the keys of every call it gets. A call for several keys is what
 * @keyv/redis sends as one MGET (or one MULTI of deletes) per Cluster slot: in one slot, it is one
 * command on one node.
 */
class RecordingStore {
  readonly opts = {};
  readonly namespace = undefined;
  readonly calls: Array<{ operation: string; keys: string[] }> = [];
  private readonly map = new Map<string, unknown>();

  on(): this {
    return this;
  }
  get(key: string): Promise<unknown> {
    this.calls.push({ operation: 'get', keys: [key] });
    return Promise.resolve(this.map.get(key));
  }
  getMany(keys: string[]): Promise<unknown[]> {
    this.calls.push({ operation: 'getMany', keys });
    return Promise.resolve(keys.map((k) => this.map.get(k)));
  }
  set(key: string, value: unknown): Promise<boolean> {
    this.calls.push({ operation: 'set', keys: [key] });
    this.map.set(key, value);
    return Promise.resolve(true);
  }
  setMany(entries: Array<{ key: string; value: unknown }>): Promise<boolean[]> {
    this.calls.push({ operation: 'setMany', keys: entries.map((e) => e.key) });
    return Promise.resolve(entries.map((e) => this.map.set(e.key, e.value) !== undefined));
  }
  delete(key: string): Promise<boolean> {
    this.calls.push({ operation: 'delete', keys: [key] });
    return Promise.resolve(this.map.delete(key));
  }
  deleteMany(keys: string[]): Promise<boolean> {
    this.calls.push({ operation: 'deleteMany', keys });
    return Promise.resolve(keys.map((k) => this.map.delete(k)).some(Boolean));
  }
  has(key: string): Promise<boolean> {
    return Promise.resolve(this.map.has(key));
  }
  clear(): Promise<void> {
    this.map.clear();
    return Promise.resolve();
  }
}

describe('SourceCache on a Redis Cluster: everything of one customer stays in the customer\'s slot', () => {
  it('reads, writes and invalidations of a customer touch only its slot; its parts and generation are read in one call', async () => {
    vi.useFakeTimers({ now: T0 });
    const recording = new RecordingStore();
    // as ProfileCacheModule builds it: our own key namespace, nothing added by Keyv
    const keyv = new Keyv({ store: recording as unknown as KeyvStoreAdapter, throwOnErrors: true, useKeyPrefix: false });
    keyv.namespace = undefined;
    const cache = new SourceCache(createCache({ stores: [keyv] }), config());
    const sources = ['salesforce', 'sap', 'servicenow'];
    const customer = '0010100001';
    const { generation } = await cache.getAll(customer, sources);
    for (const source of sources) await cache.put(customer, source, SAP_PART, generation);
    expect((await cache.getAll(customer, sources)).parts.size).toBe(3);
    await cache.invalidate(customer, sources, 6_000);
    expect((await cache.getAll(customer, sources)).parts.size).toBe(0);

    const calls = recording.calls;
    // getAll: the generation and every part in one call; the invalidation reads back in one call
    const many = calls.filter((c) => c.operation.endsWith('Many'));
    expect(many.map((c) => [c.operation, c.keys.length])).toEqual([['getMany', 4], ['getMany', 4], ['getMany', 4], ['getMany', 4]]);
    for (const call of many) expect(sameSlot(call.keys), `${call.operation} ${call.keys.join(' ')}`).toBe(true);
    // every key touched, the lock and its channel (ReplicaLock names them the same way) share the customer's slot
    const touched = calls.flatMap((c) => c.keys);
    expect(touched).toContain(cache.keys.generation(customer));
    expect(new Set(touched.map(slotOf))).toEqual(new Set([slotOf(cache.key(customer, 'sap'))]));
    expect(sameSlot([cache.keys.lock(customer, 'sap'), cache.keys.landed(customer, 'sap'), ...touched])).toBe(true);
    vi.useRealTimers();
  });
});

describe('SourceCache when the store fails: a miss or a skipped write, never an error', () => {
  let metrics: Metrics;
  let cache: SourceCache;
  beforeEach(() => {
    metrics = new Metrics();
    cache = new SourceCache(createCache({ stores: [new Keyv({ store: failingStore(), throwOnErrors: true })] }), config(), metrics);
  });

  it('reads are misses', async () => {
    expect((await cache.getAll('0010100001', ['sap'])).parts.size).toBe(0);
    expect(await cache.get('0010100001', 'sap')).toBeUndefined();
    expect(await cache.getLookup('phone', '+14155550100')).toBeUndefined();
  });

  // Known gap (cache-manager 7 turns a store's read errors into misses): the generation reads as
  // "never invalidated" instead of unknown. Fails today (it.fails); it will say so when fixed.
  it.fails('a failed read gives no generation (null), so nothing fetched then is written', async () => {
    expect((await cache.getAll('0010100001', ['sap'])).generation).toBeNull();
  });

  it('writes are skipped and counted', async () => {
    await expect(cache.put('0010100001', 'sap', SAP_PART, NEVER)).resolves.toBe('skipped');
    await expect(cache.putLookup('phone', '+14155550100', ['0010100001'])).resolves.toBeUndefined();
    expect(await counted(metrics, 'write')).toBe(2);
  });

  it('an invalidation that cannot be recorded rejects (deferred and retried): the caller must not report the change as applied', async () => {
    await expect(cache.invalidate('0010100001', ['sap'], 1000)).rejects.toBeInstanceOf(InvalidationDeferred);
    cache.onApplicationShutdown();
  });
});

describe('SourceCache when the store hangs: each operation is bounded by CACHE_OP_TIMEOUT_MS', () => {
  let metrics: Metrics;
  let cache: SourceCache;
  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
    metrics = new Metrics();
    cache = new SourceCache(stalledCache(), config({ opTimeoutMs: 100 }), metrics);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /**
   * `p`, which must still be pending 1 ms before `ms` of fake time and settle once `ms` have passed
   * and the loop has turned once (the bound judges after pending I/O: one more fake millisecond here).
   */
  async function within<T>(p: Promise<T>, ms: number): Promise<T> {
    let settled = false;
    void p.then(
      () => (settled = true),
      () => (settled = true),
    );
    await vi.advanceTimersByTimeAsync(ms - 1);
    expect(settled, `settled before ${ms} ms`).toBe(false);
    await vi.advanceTimersByTimeAsync(2);
    return p;
  }

  it('a read gives up at the bound: a miss for get and getAll, "unavailable" for read', async () => {
    expect(await within(cache.read('0010100001', 'sap'), 100)).toBe('unavailable');
    expect(await within(cache.get('0010100001', 'sap'), 100)).toBeUndefined();
    expect(await within(cache.getAll('0010100001', ['sap', 'servicenow']), 100)).toEqual({ parts: new Map(), generation: null });
    expect(await counted(metrics, 'read')).toBe(3);
  });

  it('a write gives up at the bound without failing', async () => {
    await expect(within(cache.put('0010100001', 'sap', SAP_PART, NEVER), 100)).resolves.toBe('skipped');
    expect(await counted(metrics, 'write')).toBe(1);
  });

  it('a write under a generation it cannot check is not made', async () => {
    await expect(within(cache.put('0010100001', 'sap', SAP_PART, NEVER), 100)).resolves.toBe('skipped');
  });
});

describe('SourceCache on the production Redis store', () => {
  let redis: RedisServer;
  let client: Redis;
  let cache: SourceCache;
  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterAll(async () => {
    await redis.stop();
  });
  beforeEach(async () => {
    await redis.flush();
    client = createRedis(redis.url, new Logger('test'));
    if (!client.isReady) await new Promise<void>((resolve) => client.once('ready', () => resolve()));
    // as ProfileCacheModule builds it: @keyv/redis on the shared client, our own key namespace
    const keyv = new Keyv({ store: new KeyvRedis(client.client, { throwOnConnectError: false, throwOnErrors: true }), useKeyPrefix: false });
    keyv.namespace = undefined;
    // and, as in production, the same client for the scripts that land a write in one round trip
    cache = new SourceCache(createCache({ stores: [keyv] }), config({ freshTtlMs: 1_000, staleTtlMs: 9_000 }), undefined, client);
  });
  afterEach(() => {
    if (client.isOpen) client.destroy();
  });

  /** Takes the single-flight lock as ReplicaLock does, and listens on its landed channel. */
  async function heldLock(customerId: string, source: string, token: string) {
    const keys = new CacheKeys('c360');
    const probe = createClient({ url: redis.url });
    await probe.connect();
    await probe.set(keys.lock(customerId, source), token, { PX: 10_000 });
    const listener = probe.duplicate();
    await listener.connect();
    const messages: string[] = [];
    const heard = new Promise<void>((resolve) => void listener.subscribe(keys.landed(customerId, source), (m) => (messages.push(m), resolve())));
    await new Promise((resolve) => setImmediate(resolve));
    return {
      messages,
      heard,
      lockValue: () => probe.get(keys.lock(customerId, source)),
      close: async () => {
        await listener.close();
        await probe.close();
      },
    };
  }

  it('a landing write stores the part, releases the lock it holds and tells the waiting replicas, in one round trip', async () => {
    const lock = await heldLock('0010100001', 'sap', 'token-1');
    const part = { ...SAP_PART, fetchedAt: Date.now() };
    expect(await cache.land('0010100001', 'sap', part, NEVER, { token: 'token-1', message: 'ok' })).toEqual({ outcome: 'written', released: true });
    await lock.heard;
    expect(lock.messages).toEqual(['ok']);
    expect(await lock.lockValue()).toBeNull();
    expect(await cache.get('0010100001', 'sap'), 'written in the store\'s own format: read back through cache-manager').toEqual(part);
    await lock.close();
  });

  it('a landing write under a generation that moved on is not made, but the lock is still handed over', async () => {
    const lock = await heldLock('0010100001', 'sap', 'token-1');
    await cache.invalidate('0010100001', ['sap'], 1_000); // a new generation since the read
    expect(await cache.land('0010100001', 'sap', { ...SAP_PART, fetchedAt: Date.now() }, NEVER, { token: 'token-1', message: 'ok' })).toEqual({ outcome: 'superseded', released: true });
    expect(await cache.get('0010100001', 'sap')).toBeUndefined();
    await lock.heard;
    expect(lock.messages).toEqual(['ok']);
    await lock.close();
  });

  it('a landing write whose lock expired and was taken by another replica leaves that lock alone and says nothing', async () => {
    const lock = await heldLock('0010100001', 'sap', 'someone-else');
    expect(await cache.land('0010100001', 'sap', { ...SAP_PART, fetchedAt: Date.now() }, NEVER, { token: 'token-1', message: 'ok' })).toEqual({ outcome: 'written', released: false });
    expect(await lock.lockValue()).toBe('someone-else');
    expect(lock.messages).toEqual([]);
    await lock.close();
  });

  it('a landing write under the generation it read is made after an invalidation too', async () => {
    await cache.invalidate('0010100001', ['sap'], 1_000);
    const { generation } = await cache.getAll('0010100001', ['sap']);
    expect(generation).not.toBe(NEVER);
    expect((await cache.land('0010100001', 'sap', { ...SAP_PART, fetchedAt: Date.now() }, generation)).outcome).toBe('written');
    expect(await cache.get('0010100001', 'sap')).toMatchObject({ found: true });
  });

  it('stores a part under its plain key with a TTL of fresh + stale', async () => {
    const part = { ...SAP_PART, fetchedAt: Date.now() }; // this block runs on the real clock
    await cache.put('0010100001', 'sap', part, NEVER);
    const probe = createClient({ url: redis.url });
    await probe.connect();
    expect(await probe.keys('*')).toEqual([cache.key('0010100001', 'sap')]);
    const ttl = await probe.pTTL(cache.key('0010100001', 'sap'));
    await probe.close();
    expect(ttl).toBeGreaterThan(9_000);
    expect(ttl).toBeLessThanOrEqual(10_000);
    expect(await cache.get('0010100001', 'sap')).toEqual(part);
  });

  it('with Redis gone, reads are misses and writes are skipped, without an error', async () => {
    await cache.put('0010100001', 'sap', SAP_PART, NEVER);
    await redis.kill();
    expect(await cache.get('0010100001', 'sap')).toBeUndefined();
    expect((await cache.getAll('0010100001', ['sap'])).parts.size).toBe(0);
    // (the store under cache-manager does not report every failed write, so this may say 'written')
    await expect(cache.put('0010100001', 'sap', SAP_PART, NEVER)).resolves.not.toBe('superseded');
  });

  // Known gaps, reported: cache-manager 7 turns a store's read errors into misses (it only emits an
  // event) and @keyv/redis skips writes while disconnected, so an outage that errors (rather than
  // hangs) is invisible here. These state what SourceCache documents; they fail today (it.fails),
  // and will say so when it is fixed.
  it.fails('with Redis gone, read says "unavailable" (not a miss), so a waiting replica calls the source itself', async () => {
    await redis.kill();
    expect(await cache.read('0010100001', 'sap')).toBe('unavailable');
  });

  it('with Redis gone, an invalidation rejects (deferred, retried) rather than being lost silently', async () => {
    await redis.kill();
    await expect(cache.invalidate('0010100001', ['sap'], 1000)).rejects.toBeInstanceOf(InvalidationDeferred);
    cache.onApplicationShutdown();
  });

});
