import { CACHE_MANAGER } from '@nestjs/cache-manager';
import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { Cache } from 'cache-manager';
import type { CustomerPartial } from '../connectors/connector.js';
import { Metrics } from '../observability/metrics.js';
import { bounded } from './bounded.js';
import { CacheConfig } from './cache.config.js';

/** One source's answer for one customer, as kept in the cache. */
export interface CachedSource {
  found: boolean;
  data?: CustomerPartial;
  /** Epoch ms when the source answered. */
  fetchedAt: number;
  /** Not stored: set when this process got the entry by waiting for another replica's call. */
  viaReplica?: boolean;
}


/**
 * A customer's cache generation: a new one starts at each invalidation. NEVER_INVALIDATED when no
 * invalidation is remembered; null when the cache could not be read.
 */
export type Generation = string | null;
const NEVER_INVALIDATED = '';

export interface CachedParts {
  parts: Map<string, CachedSource>;
  generation: Generation;
}

/** Bumped whenever the cached shape changes, so a new release never reads old entries. */
export const SCHEMA_VERSION = 'v2';

/** Remembered look-ups: phone or e-mail → customer numbers; a Genesys conversation → its caller's number. */
export type LookupKind = 'phone' | 'email' | 'conversation';

/**
 * Per-source profile parts, so a fresh Salesforce part can sit beside a stale SAP part. An
 * entry lives for fresh TTL + stale grace; freshness is judged from `fetchedAt`. Cache errors
 * never fail a request: a read that fails is a miss, a write that fails is skipped.
 */
@Injectable()
export class SourceCache {
  private readonly logger = new Logger(SourceCache.name);

  constructor(
    @Inject(CACHE_MANAGER) private readonly cache: Cache,
    private readonly config: CacheConfig,
    @Optional() private readonly metrics?: Metrics,
  ) {}

  key(customerId: string, source: string): string {
    return `${this.config.keyPrefix}:${SCHEMA_VERSION}:cust:${customerId}:${source}`;
  }

  isFresh(entry: CachedSource, now: number): boolean {
    return now - entry.fetchedAt < this.config.freshTtlMs;
  }

  /**
   * Every cached part of a customer still inside its grace period, and the customer's generation
   * (what a fetch started now must still find when it writes; see `put`), in one round trip.
   * `generation` is null when the cache could not be read: nothing fetched then is written.
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
      this.logger.warn({ msg: 'cache read failed; serving live', err: (err as Error).message });
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
  async put(customerId: string, source: string, entry: CachedSource, generation: Generation): Promise<void> {
    if (generation === null) return;
    try {
      const current = await bounded(this.cache.get<string>(this.generationKey(customerId)), this.config.opTimeoutMs);
      if ((typeof current === 'string' ? current : NEVER_INVALIDATED) !== generation) return;
      await bounded(this.cache.set(this.key(customerId, source), { found: entry.found, data: entry.data, fetchedAt: entry.fetchedAt }, this.config.freshTtlMs + this.config.staleTtlMs), this.config.opTimeoutMs);
    } catch (err) {
      this.metrics?.cacheErrors.inc({ operation: 'write' });
      this.logger.warn({ msg: 'cache write failed', err: (err as Error).message });
    }
  }

  private generationKey(customerId: string): string {
    return `${this.config.keyPrefix}:${SCHEMA_VERSION}:gen:${customerId}`;
  }

  /**
   * Drops every cached part of a customer and starts a new generation, so that a fetch which
   * started before the change cannot put the old data back (see `put`). The generation outlives
   * any fetch that could still be running (`guardMs`).
   */
  async invalidate(customerId: string, sources: string[], guardMs: number): Promise<void> {
    await this.cache.set(this.generationKey(customerId), randomUUID(), Math.max(1000, guardMs));
    await this.cache.mdel(sources.map((s) => this.key(customerId, s)));
  }

  /** A stored value that is an entry still inside fresh time + grace, by this process's clock (whatever Redis's own expiry says). */
  private isKept(value: unknown, now: number): value is CachedSource {
    const entry = value as CachedSource | undefined;
    return typeof entry === 'object' && entry !== null && typeof entry.fetchedAt === 'number' && now - entry.fetchedAt < this.config.freshTtlMs + this.config.staleTtlMs;
  }

  async getLookup(kind: LookupKind, value: string): Promise<string[] | undefined> {
    try {
      const ids = (await bounded(this.cache.get<string[]>(`${this.config.keyPrefix}:${SCHEMA_VERSION}:${kind}:${value.toLowerCase()}`), this.config.opTimeoutMs)) ?? undefined;
      this.metrics?.cacheLookups.inc({ cache: kind, result: ids ? 'hit' : 'miss' });
      return ids;
    } catch {
      this.metrics?.cacheErrors.inc({ operation: 'read' });
      this.metrics?.cacheLookups.inc({ cache: kind, result: 'miss' });
      return undefined;
    }
  }

  async putLookup(kind: LookupKind, value: string, values: string[]): Promise<void> {
    try {
      await bounded(this.cache.set(`${this.config.keyPrefix}:${SCHEMA_VERSION}:${kind}:${value.toLowerCase()}`, values, this.config.lookupTtlMs), this.config.opTimeoutMs);
    } catch {
      this.metrics?.cacheErrors.inc({ operation: 'write' }); // a lost look-up write only costs a later SOSL call
    }
  }
}
