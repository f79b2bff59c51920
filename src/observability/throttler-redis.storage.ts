import { type ThrottlerStorage,ThrottlerStorageService } from '@nestjs/throttler';
import type { ThrottlerStorageRecord } from '@nestjs/throttler/dist/throttler-storage-record.interface.js';

import { bounded } from '../cache/bounded.js';
import type { Redis } from '../cache/redis.provider.js';

// one round trip: count the hit, start the window on the first one, report what is left
const HIT = `
local hits = redis.call('INCR', KEYS[1])
if hits == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
local blocked = redis.call('PTTL', KEYS[2])
if hits > tonumber(ARGV[2]) and blocked <= 0 and tonumber(ARGV[3]) > 0 then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
  blocked = tonumber(ARGV[3])
end
return {hits, ttl, blocked}`;

/**
 * @nestjs/throttler's storage in Redis, so the inbound limit holds across replicas. If Redis is
 * down or slow the count falls back to this process's memory (fail open, never an error).
 */
export class RedisThrottlerStorage implements ThrottlerStorage {
  private readonly local = new ThrottlerStorageService();

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly timeoutMs: number,
  ) {}

  async increment(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): Promise<ThrottlerStorageRecord> {
    if (!this.redis.isReady) return this.local.increment(key, ttl, limit, blockDuration, throttlerName);
    try {
      const base = `${this.prefix}:throttle:${throttlerName}:${key}`;
      const [hits, ttlMs, blockedMs] = (await bounded(this.redis.eval(HIT, { keys: [base, `${base}:blocked`], arguments: [String(ttl), String(limit), String(blockDuration)] }), this.timeoutMs)) as number[];
      const isBlocked = blockedMs > 0;
      return { totalHits: hits, timeToExpire: Math.ceil(Math.max(ttlMs, 0) / 1000), isBlocked, timeToBlockExpire: isBlocked ? Math.ceil(blockedMs / 1000) : 0 };
    } catch {
      return this.local.increment(key, ttl, limit, blockDuration, throttlerName);
    }
  }
}
