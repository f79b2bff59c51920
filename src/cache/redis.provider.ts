import { Global, Inject, Injectable, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { createClient, type RedisClientType } from '@redis/client';

import { CacheConfig } from './cache.config.js';

/** DI token: the shared Redis client, or null when REDIS_URL is not set (in-memory mode). */
export const REDIS = Symbol('REDIS');
export type Redis = RedisClientType;

/**
 * One Redis connection per process, shared by the cache, locks and rate limits. It never blocks
 * start-up and never queues commands while disconnected (they fail at once, and callers treat
 * that as a miss), so a Redis outage costs latency nothing; it reconnects by itself with backoff.
 */
export function createRedis(url: string, logger: Logger): Redis {
  const client = createClient({
    url,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: 1000,
      reconnectStrategy: (retries: number) => Math.min(50 * 2 ** Math.min(retries, 6), 2000),
    },
  }) as Redis;
  let down = false;
  client.on('error', (err: Error) => {
    if (!down) logger.warn({ msg: 'redis unavailable; serving without cache until it returns', err: err.message });
    down = true;
  });
  client.on('ready', () => {
    if (down) logger.log('redis reachable again');
    down = false;
  });
  client.connect().catch(() => undefined); // errors are reported by the 'error' handler; reconnects continue
  return client;
}

@Injectable()
class RedisLifecycle implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis | null) {}

  async onApplicationShutdown(): Promise<void> {
    const redis = this.redis;
    if (!redis?.isOpen) return;
    if (redis.isReady) await redis.close().catch(() => undefined);
    else redis.destroy();
  }
}

@Global()
@Module({
  providers: [
    {
      provide: REDIS,
      useFactory: (config: CacheConfig): Redis | null => (config.redisUrl ? createRedis(config.redisUrl, new Logger('Redis')) : null),
      inject: [CacheConfig],
    },
    RedisLifecycle,
  ],
  exports: [REDIS],
})
export class RedisModule {}
