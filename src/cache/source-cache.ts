import { CACHE_MANAGER } from '@nestjs/cache-manager';
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

  async getAll(customerId: string, sources: string[]): Promise<Map<string, CachedSource>> {
    const found = new Map<string, CachedSource>();
    if (sources.length === 0) return found;
    try {
      const values = await bounded(this.cache.mget<CachedSource>(sources.map((s) => this.key(customerId, s))), this.config.opTimeoutMs);
      values.forEach((value, i) => {
        if (value && typeof value.fetchedAt === 'number') found.set(sources[i], value);
      });
    } catch (err) {
      this.metrics?.cacheErrors.inc({ operation: 'read' });
      this.logger.warn({ msg: 'cache read failed; serving live', err: (err as Error).message });
    }
    return found;
  }

  async get(customerId: string, source: string): Promise<CachedSource | undefined> {
    const entry = await this.read(customerId, source);
    return entry === 'unavailable' ? undefined : entry;
  }

  /** Like `get`, but says 'unavailable' when the cache could not be read (rather than calling that a miss). */
  async read(customerId: string, source: string): Promise<CachedSource | undefined | 'unavailable'> {
    try {
      const value = await bounded(this.cache.get<CachedSource>(this.key(customerId, source)), this.config.opTimeoutMs);
      return value && typeof value.fetchedAt === 'number' ? value : undefined;
    } catch {
      this.metrics?.cacheErrors.inc({ operation: 'read' });
      return 'unavailable';
    }
  }

  async put(customerId: string, source: string, entry: CachedSource): Promise<void> {
    try {
      await bounded(this.cache.set(this.key(customerId, source), { found: entry.found, data: entry.data, fetchedAt: entry.fetchedAt }, this.config.freshTtlMs + this.config.staleTtlMs), this.config.opTimeoutMs);
    } catch (err) {
      this.metrics?.cacheErrors.inc({ operation: 'write' });
      this.logger.warn({ msg: 'cache write failed', err: (err as Error).message });
    }
  }

  private invalidationKey(customerId: string): string {
    return `${this.config.keyPrefix}:${SCHEMA_VERSION}:inv:${customerId}`;
  }

  /**
   * Drops every cached part of a customer and remembers when, so that a fetch which started
   * before the change cannot put the old data back (see `invalidatedSince`).
   */
  async invalidate(customerId: string, sources: string[], guardMs: number): Promise<void> {
    await this.cache.set(this.invalidationKey(customerId), Date.now(), Math.max(1000, guardMs));
    await this.cache.mdel(sources.map((s) => this.key(customerId, s)));
  }

  /** Whether the customer was invalidated at or after `since` (epoch ms). A failed read says yes: better a miss than old data. */
  async invalidatedSince(customerId: string, since: number): Promise<boolean> {
    try {
      const at = await bounded(this.cache.get<number>(this.invalidationKey(customerId)), this.config.opTimeoutMs);
      return typeof at === 'number' && at >= since;
    } catch {
      this.metrics?.cacheErrors.inc({ operation: 'read' });
      return true;
    }
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
