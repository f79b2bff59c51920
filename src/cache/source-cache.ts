import { randomUUID } from 'node:crypto';

import { CACHE_MANAGER } from '@nestjs/cache-manager';
import { Inject, Injectable, Logger, type OnApplicationShutdown,Optional } from '@nestjs/common';
import type { Cache } from 'cache-manager';

import type { CustomerPartial } from '../connectors/connector.js';
import { Metrics } from '../observability/metrics.js';
import { SampledWarning } from '../observability/sampled-warning.js';
import { defineScript } from '../redis/redis.client.js';
import { bounded } from './bounded.js';
import { CacheConfig } from './cache.config.js';
import { CacheKeys, type LookupKind } from './cache-keys.js';
import { REDIS, type Redis } from './redis.provider.js';

export { type LookupKind, SCHEMA_VERSION } from './cache-keys.js';

/** One source's answer for one customer, as kept in the cache. */
export interface CachedSource {
  found: boolean;
  data?: CustomerPartial;
  /** Epoch ms when the source answered. */
  fetchedAt: number;
}

/**
 * A customer's cache generation: a new one starts at each invalidation. NEVER_INVALIDATED when no
 * invalidation is remembered; null when the cache could not be read.
 */
export type Generation = string | null;
export const NEVER_INVALIDATED = '';

export interface CachedParts {
  parts: Map<string, CachedSource>;
  generation: Generation;
}

/** What became of a write: stored; dropped because the customer was invalidated since the read; or not attempted / failed (Redis unavailable). */
export type PutOutcome = 'written' | 'superseded' | 'skipped';

/**
 * An invalidation the cache could not apply now (Redis down, or slower than CACHE_OP_TIMEOUT_MS):
 * it has been logged and is retried in the background until Redis takes it.
 */
export class InvalidationDeferred extends Error {
  constructor(readonly customerId: string) {
    super('cache invalidation deferred');
  }
}

/**
 * A fetched part lands in one round trip: written unless the customer's generation has moved on
 * since the read (the generation guard, atomic here), and the single-flight lock released with its
 * "landed" message when this call still holds it (compare-and-delete). All keys carry the
 * customer's hash tag, and so does the channel (one Cluster slot).
 * KEYS: generation, part, lock. ARGV: the generation expected ('' when none is remembered), the part
 * as the store keeps it, its lifetime in ms, the lock's token ('' for none), the message, the
 * landed channel, the publish command (SPUBLISH on a Cluster). Returns 1 when written (+2 when
 * the lock was released).
 */
const LAND = defineScript(`
local raw = redis.call('GET', KEYS[1])
local current = ''
if raw then
  local ok, stored = pcall(cjson.decode, raw)
  if ok and type(stored) == 'table' and type(stored.value) == 'string' then current = stored.value end
end
local result = 0
if current == ARGV[1] then
  redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
  result = 1
end
if ARGV[4] ~= '' and redis.call('GET', KEYS[3]) == ARGV[4] then
  redis.call('DEL', KEYS[3])
  redis.call(ARGV[7], ARGV[6], ARGV[5])
  result = result + 2
end
return result`);

/** The single-flight lock a landing write also releases: its token, and what to tell the replicas waiting. */
export interface LockHandOver {
  token: string;
  message: string;
}

/** Deferred invalidations are retried after this, doubling up to INVALIDATION_RETRY_MAX_MS. */
const INVALIDATION_RETRY_FIRST_MS = 250;
const INVALIDATION_RETRY_MAX_MS = 2_000;
/** Most customers with a deferred invalidation kept at once (the oldest is dropped, with an error log). */
const MAX_DEFERRED_INVALIDATIONS = 10_000;

/**
 * Per-source profile parts, so a fresh Salesforce part can sit beside a stale SAP part. An
 * entry lives for fresh TTL + stale grace; freshness is judged from `fetchedAt`. Cache errors
 * never fail a request: a read that fails is a miss, a write that fails is skipped.
 */
@Injectable()
export class SourceCache implements OnApplicationShutdown {
  private readonly logger = new Logger(SourceCache.name);
  /** Once per request in a burst when Redis is slow: logged at most once a second (counted in the metrics). */
  private readonly readFailed = new SampledWarning(this.logger);
  private readonly writeFailed = new SampledWarning(this.logger);
  /** The key names (every key of one customer in the customer's Cluster slot). */
  readonly keys: CacheKeys;

  constructor(
    @Inject(CACHE_MANAGER) private readonly cache: Cache,
    private readonly config: CacheConfig,
    @Optional() private readonly metrics?: Metrics,
    @Optional() @Inject(REDIS) private readonly redis?: Redis | null,
  ) {
    this.keys = new CacheKeys(config.keyPrefix);
  }

  /** Where one source's part of a customer is kept. */
  key(customerId: string, source: string): string {
    return this.keys.part(customerId, source);
  }

  isFresh(entry: CachedSource, now: number): boolean {
    return now - entry.fetchedAt < this.config.freshTtlMs;
  }

  /**
   * Every cached part of a customer still inside its grace period, and the customer's generation
   * (what a fetch started now must still find when it writes; see `put`), in one round trip.
   * `generation` is null when the cache could not be read: nothing fetched then is written.
   * The keys share the customer's hash tag: on a Cluster too this is one MGET on one node.
   */
  async getAll(customerId: string, sources: string[]): Promise<CachedParts> {
    const parts = new Map<string, CachedSource>();
    try {
      const [generation, ...values] = await bounded(this.cache.mget<unknown>([this.generationKey(customerId), ...sources.map((s) => this.key(customerId, s))]), this.config.opTimeoutMs);
      const now = Date.now();
      values.forEach((value, i) => {
        if (this.isKept(value, now)) parts.set(sources[i], value);
      });
      return { parts, generation: typeof generation === 'string' ? generation : NEVER_INVALIDATED };
    } catch (err) {
      this.metrics?.cacheErrors.inc({ operation: 'read' });
      this.readFailed.warn({ msg: 'cache read failed; serving live', err: (err as Error).message });
      return { parts, generation: null };
    }
  }

  async get(customerId: string, source: string): Promise<CachedSource | undefined> {
    const entry = await this.read(customerId, source);
    return entry === 'unavailable' ? undefined : entry;
  }

  /** Like `get`, but says 'unavailable' when the cache could not be read (rather than calling that a miss). */
  async read(customerId: string, source: string): Promise<CachedSource | undefined | 'unavailable'> {
    try {
      const value = await bounded(this.cache.get<unknown>(this.key(customerId, source)), this.config.opTimeoutMs);
      return this.isKept(value, Date.now()) ? value : undefined;
    } catch {
      this.metrics?.cacheErrors.inc({ operation: 'read' });
      return 'unavailable';
    }
  }

  /**
   * Stores a fetched part, unless the customer was invalidated since the fetch started (its
   * generation changed): that change wins, as our data may predate it.
   */
  async put(customerId: string, source: string, entry: CachedSource, generation: Generation): Promise<PutOutcome> {
    return (await this.land(customerId, source, entry, generation)).outcome;
  }

  /**
   * `put`, and the hand-over of the single-flight lock in the same round trip when `lock` is given
   * and Redis is there (`released` then says whether it was done: if not, release it apart).
   */
  async land(customerId: string, source: string, entry: CachedSource, generation: Generation, lock?: LockHandOver): Promise<{ outcome: PutOutcome; released: boolean }> {
    if (generation === null) return { outcome: 'skipped', released: false };
    const redis = this.redis;
    const store = redis?.isReady ? this.cache.stores?.[0] : undefined;
    if (redis && store) {
      try {
        const ttl = this.config.freshTtlMs + this.config.staleTtlMs;
        const value = (await store.serializeData({ value: { found: entry.found, data: entry.data, fetchedAt: entry.fetchedAt }, expires: Date.now() + ttl })) as string;
        const keys = [this.keys.generation(customerId), this.keys.part(customerId, source), this.keys.lock(customerId, source)];
        const args = [generation, value, String(ttl), lock?.token ?? '', lock?.message ?? '', this.keys.landed(customerId, source), redis.publishCommand];
        const result = Number(await bounded(redis.run(LAND, { keys, arguments: args }), this.config.opTimeoutMs));
        return { outcome: result % 2 === 1 ? 'written' : 'superseded', released: result >= 2 };
      } catch (err) {
        this.metrics?.cacheErrors.inc({ operation: 'write' });
        this.writeFailed.warn({ msg: 'cache write failed', err: (err as Error).message });
        return { outcome: 'skipped', released: false };
      }
    }
    return { outcome: await this.putThroughStore(customerId, source, entry, generation), released: false };
  }

  /** The write through cache-manager alone (no Redis client here: the in-memory store). */
  private async putThroughStore(customerId: string, source: string, entry: CachedSource, generation: string): Promise<PutOutcome> {
    try {
      const current = await bounded(this.cache.get<string>(this.generationKey(customerId)), this.config.opTimeoutMs);
      if ((typeof current === 'string' ? current : NEVER_INVALIDATED) !== generation) return 'superseded';
      await bounded(this.cache.set(this.key(customerId, source), { found: entry.found, data: entry.data, fetchedAt: entry.fetchedAt }, this.config.freshTtlMs + this.config.staleTtlMs), this.config.opTimeoutMs);
      return 'written';
    } catch (err) {
      this.metrics?.cacheErrors.inc({ operation: 'write' });
      this.writeFailed.warn({ msg: 'cache write failed', err: (err as Error).message });
      return 'skipped';
    }
  }

  private generationKey(customerId: string): string {
    return this.keys.generation(customerId);
  }

  /**
   * Drops every cached part of a customer and starts a new generation, so that a fetch which
   * started before the change cannot put the old data back (see `put`); the generation outlives any
   * fetch that could still be running (`guardMs`) and any part. Bounded like every
   * Redis operation: when it cannot be applied now it is logged, retried in the background until
   * Redis takes it, and the caller gets InvalidationDeferred (to answer accordingly), never a hang.
   */
  async invalidate(customerId: string, sources: string[], guardMs: number): Promise<void> {
    const generation = await this.applyInvalidation(customerId, sources, guardMs);
    if (generation !== undefined) {
      this.deferred.delete(customerId);
      this.onApplied?.(customerId, sources, generation, false);
      return;
    }
    this.metrics?.cacheErrors.inc({ operation: 'invalidate' });
    this.logger.warn({ msg: 'cache invalidation deferred; retried in the background until Redis takes it', customerId });
    this.defer(customerId, { sources, guardMs });
    throw new InvalidationDeferred(customerId);
  }

  /** Called when an invalidation reaches Redis, with its new generation, and whether it had been deferred (the near tier uses both). */
  onApplied: ((customerId: string, sources: string[], generation: string, deferred: boolean) => void) | undefined;

  private readonly deferred = new Map<string, { sources: string[]; guardMs: number }>();
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelayMs = INVALIDATION_RETRY_FIRST_MS;
  private closed = false;

  /**
   * One attempt: the new generation, then the deletes, each bounded. The store under cache-manager
   * reports no error on a failed write (it returns false, which cache-manager drops), so success is
   * read back in one round trip: the generation is there and no part older than it is.
   */
  private async applyInvalidation(customerId: string, sources: string[], guardMs: number): Promise<string | undefined> {
    const at = Date.now();
    const generation = randomUUID();
    const mark = this.generationKey(customerId);
    const parts = sources.map((s) => this.key(customerId, s));
    try {
      // kept as long as a part can be: a fetch that began under the old generation can never find it
      // gone and mistake that for "never invalidated" (it would then write), nor lose a write needlessly
      await bounded(this.cache.set(mark, generation, Math.max(1000, guardMs, this.config.freshTtlMs + this.config.staleTtlMs)), this.config.opTimeoutMs);
      await bounded(this.cache.mdel(parts), this.config.opTimeoutMs);
      const [seenMark, ...seenParts] = await bounded(this.cache.mget<unknown>([mark, ...parts]), this.config.opTimeoutMs);
      const newer = (part: unknown) => part === undefined || part === null || (typeof (part as CachedSource).fetchedAt === 'number' && (part as CachedSource).fetchedAt >= at);
      return seenMark === generation && seenParts.every(newer) ? generation : undefined;
    } catch {
      return undefined;
    }
  }

  private defer(customerId: string, job: { sources: string[]; guardMs: number }): void {
    this.deferred.delete(customerId);
    if (this.deferred.size >= MAX_DEFERRED_INVALIDATIONS) {
      const oldest = this.deferred.keys().next().value as string;
      this.deferred.delete(oldest);
      this.logger.error({ msg: 'deferred cache invalidation dropped (too many pending); that customer may be served from an old cached copy until it expires', customerId: oldest });
    }
    this.deferred.set(customerId, job);
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.retryTimer !== undefined || this.closed || this.deferred.size === 0) return;
    this.retryTimer = setTimeout(() => void this.retryDeferred(), this.retryDelayMs);
    this.retryTimer.unref();
  }

  private async retryDeferred(): Promise<void> {
    for (const [customerId, job] of [...this.deferred]) {
      if (this.closed) return;
      const generation = await this.applyInvalidation(customerId, job.sources, job.guardMs);
      if (generation === undefined) {
        this.retryTimer = undefined;
        this.retryDelayMs = Math.min(this.retryDelayMs * 2, INVALIDATION_RETRY_MAX_MS);
        this.scheduleRetry();
        return;
      }
      if (this.deferred.get(customerId) === job) this.deferred.delete(customerId);
      this.logger.log({ msg: 'deferred cache invalidation applied', customerId });
      this.onApplied?.(customerId, job.sources, generation, true);
    }
    this.retryTimer = undefined;
    this.retryDelayMs = INVALIDATION_RETRY_FIRST_MS;
    for (const wake of this.appliedWaiters.splice(0)) wake();
    this.scheduleRetry(); // any deferred meanwhile
  }

  /** Resolves once no invalidation is waiting for Redis (at once when none is). */
  async whenInvalidationsApplied(): Promise<void> {
    while (this.deferred.size > 0 && !this.closed) await new Promise<void>((resolve) => this.appliedWaiters.push(resolve));
  }

  private readonly appliedWaiters: Array<() => void> = [];

  onApplicationShutdown(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    if (this.deferred.size > 0) this.logger.warn({ msg: 'cache invalidations still deferred at shutdown; those customers may be served from old cached copies until they expire', count: this.deferred.size });
  }

  /** A stored value that is an entry still inside fresh time + grace, by this process's clock (whatever Redis's own expiry says). */
  private isKept(value: unknown, now: number): value is CachedSource {
    const entry = value as CachedSource | undefined;
    return typeof entry === 'object' && entry !== null && typeof entry.fetchedAt === 'number' && now - entry.fetchedAt < this.config.freshTtlMs + this.config.staleTtlMs;
  }

  async getLookup(kind: LookupKind, value: string): Promise<string[] | undefined> {
    return (await this.readLookup(kind, value, false))?.ids;
  }

  /**
   * A look-up with the moment its stored copy expires (epoch ms; undefined when the store did not
   * say). `withExpiry` asks the store for it too (a second read; only for a look-up found).
   */
  async readLookup(kind: LookupKind, value: string, withExpiry = true): Promise<{ ids: string[]; expires?: number } | undefined> {
    const key = this.keys.lookup(kind, value);
    try {
      const ids = (await bounded(this.cache.get<string[]>(key), this.config.opTimeoutMs)) ?? undefined;
      this.metrics?.cacheLookups.inc({ cache: kind, result: ids ? 'hit' : 'miss' });
      if (!ids) return undefined;
      return withExpiry ? { ids, expires: await bounded(this.cache.ttl(key), this.config.opTimeoutMs) } : { ids };
    } catch {
      this.metrics?.cacheErrors.inc({ operation: 'read' });
      this.metrics?.cacheLookups.inc({ cache: kind, result: 'miss' });
      return undefined;
    }
  }

  /**
   * Stores a look-up for CACHE_LOOKUP_TTL_MS; returns when the stored copy expires (epoch ms),
   * undefined when it was not stored. Written through the store itself: cache-manager's `set`
   * resolves even when Keyv could not write (Keyv reports that as `false`, not as an error).
   */
  async putLookup(kind: LookupKind, value: string, values: string[]): Promise<number | undefined> {
    const expires = Date.now() + this.config.lookupTtlMs;
    const key = this.keys.lookup(kind, value);
    try {
      const store = this.cache.stores?.[0];
      let stored = true;
      if (store) stored = await bounded(store.set(key, values, this.config.lookupTtlMs), this.config.opTimeoutMs);
      else await bounded(this.cache.set(key, values, this.config.lookupTtlMs), this.config.opTimeoutMs);
      if (stored) return expires;
      this.metrics?.cacheErrors.inc({ operation: 'write' });
      return undefined;
    } catch {
      this.metrics?.cacheErrors.inc({ operation: 'write' }); // a lost look-up write only costs a later SOSL call
      return undefined;
    }
  }
}
