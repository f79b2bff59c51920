import { Inject, Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { bounded } from '../cache/bounded.js';
import { CacheConfig } from '../cache/cache.config.js';
import { REDIS, type Redis } from '../cache/redis.provider.js';
import { WALL_CLOCK } from './wall-clock.js';

/**
 * How many signatures this process remembers at most (the least recently used go first): about
 * 15 MB, and far above what one replica verifies in a replay window (a signed request every 6 ms
 * for the default 10 minutes). Redis, when configured, remembers every one.
 */
export const REPLAY_MEMORY_MAX = 100_000;

/**
 * Remembers signatures already used, for the replay window: in Redis (shared by every replica)
 * when configured, and in this process (an lru-cache bounded in size, each entry expiring with
 * its window on the wall clock). If Redis fails, this process's memory still refuses replays it
 * has seen.
 */
@Injectable()
export class ReplayStore {
  private readonly local = new LRUCache<string, true>({ max: REPLAY_MEMORY_MAX, perf: WALL_CLOCK, ttlResolution: 0 });

  constructor(
    @Inject(REDIS) private readonly redis: Redis | null,
    private readonly cache: CacheConfig,
  ) {}

  /** True the first time `id` is seen within `ttlMs`; false for a replay. */
  async firstUse(id: string, ttlMs: number): Promise<boolean> {
    if (this.local.has(id)) return false;
    this.local.set(id, true, { ttl: ttlMs });
    if (!this.redis?.isReady) return true;
    try {
      return (await bounded(this.redis.set(`${this.cache.keyPrefix}:sig:${id}`, '1', { NX: true, PX: ttlMs }), this.cache.opTimeoutMs)) === 'OK';
    } catch {
      return true;
    }
  }
}
