import { CACHE_MANAGER } from '@nestjs/cache-manager';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Cache } from 'cache-manager';
import type { CustomerPartial } from '../connectors/connector.js';
import { CacheConfig } from './cache.config.js';

/** One source's answer for one customer, as kept in the cache. */
export interface CachedSource {
  found: boolean;
  data?: CustomerPartial;
  /** Epoch ms when the source answered. */
  fetchedAt: number;
}

/** Bumped whenever the cached shape changes, so a new release never reads old entries. */
export const SCHEMA_VERSION = 'v1';

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
      const values = await this.cache.mget<CachedSource>(sources.map((s) => this.key(customerId, s)));
      values.forEach((value, i) => {
        if (value && typeof value.fetchedAt === 'number') found.set(sources[i], value);
      });
    } catch (err) {
      this.logger.warn({ msg: 'cache read failed; serving live', err: (err as Error).message });
    }
    return found;
  }

  async get(customerId: string, source: string): Promise<CachedSource | undefined> {
    return (await this.getAll(customerId, [source])).get(source);
  }

  async put(customerId: string, source: string, entry: CachedSource): Promise<void> {
    try {
      await this.cache.set(this.key(customerId, source), entry, this.config.freshTtlMs + this.config.staleTtlMs);
    } catch (err) {
      this.logger.warn({ msg: 'cache write failed', err: (err as Error).message });
    }
  }

  async invalidate(customerId: string, sources: string[]): Promise<void> {
    await this.cache.mdel(sources.map((s) => this.key(customerId, s)));
  }

  async getLookup(kind: 'phone' | 'email', value: string): Promise<string[] | undefined> {
    try {
      return (await this.cache.get<string[]>(`${this.config.keyPrefix}:${SCHEMA_VERSION}:${kind}:${value.toLowerCase()}`)) ?? undefined;
    } catch {
      return undefined;
    }
  }

  async putLookup(kind: 'phone' | 'email', value: string, customerIds: string[]): Promise<void> {
    try {
      await this.cache.set(`${this.config.keyPrefix}:${SCHEMA_VERSION}:${kind}:${value.toLowerCase()}`, customerIds, this.config.lookupTtlMs);
    } catch {
      /* a lost look-up cache write only costs a later SOSL call */
    }
  }
}
