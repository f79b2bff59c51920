import { Inject, Injectable } from '@nestjs/common';

import { bounded } from '../cache/bounded.js';
import { CacheConfig } from '../cache/cache.config.js';
import { REDIS, type Redis } from '../cache/redis.provider.js';

/**
 * Remembers signatures already used, for the replay window: in Redis (shared by every replica)
 * when configured, else in this process. If Redis fails, this process's memory still refuses
 * replays it has seen.
 */
@Injectable()
export class ReplayStore {
  private readonly local = new Map<string, number>();
  private prunedAt = 0;

  constructor(
    @Inject(REDIS) private readonly redis: Redis | null,
    private readonly cache: CacheConfig,
  ) {}

  /** True the first time `id` is seen within `ttlMs`; false for a replay. */
  async firstUse(id: string, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    // expired entries are swept at most once a second, not on every call (the map can be large)
    if (now - this.prunedAt >= 1000) {
      this.prunedAt = now;
      for (const [key, expires] of this.local) if (expires <= now) this.local.delete(key);
    }
    const seen = this.local.get(id);
    if (seen !== undefined && seen > now) return false;
    this.local.set(id, now + ttlMs);
    if (!this.redis?.isReady) return true;
    try {
      return (await bounded(this.redis.set(`${this.cache.keyPrefix}:sig:${id}`, '1', { NX: true, PX: ttlMs }), this.cache.opTimeoutMs)) === 'OK';
    } catch {
      return true;
    }
  }
}
