import { Global, Inject, Injectable, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';

import { type Redis, redisFor } from './redis.client.js';
import { RedisConfig, type RedisConnectionSettings, redisConnectionSettings } from './redis.config.js';

/** DI token: the shared Redis (`Redis`), or null when none is configured (in-memory mode). */
export const REDIS = Symbol('REDIS');

/**
 * One Redis connection per process, shared by the cache, locks, rate limits and replay
 * protection, on any topology. It never blocks start-up and never queues commands while
 * disconnected (they fail at once, and callers treat that as a miss), so a Redis outage costs
 * latency nothing; it reconnects by itself with backoff. A plain string is a `redis://` URL.
 */
export function createRedis(settings: RedisConnectionSettings | string, logger: Logger): Redis {
  const redis = redisFor(typeof settings === 'string' ? { topology: 'single', url: settings } : settings);
  let down = false;
  redis.on('error', (err: unknown) => {
    if (!down) logger.warn({ msg: 'redis unavailable; serving without cache until it returns', topology: redis.topology, err: err instanceof Error ? err.message : String(err) });
    down = true;
  });
  redis.on('ready', () => {
    if (down) logger.log({ msg: 'redis reachable again', topology: redis.topology });
    down = false;
  });
  redis.connect().catch(() => undefined); // failures are reported by the 'error' handler; attempts continue until close
  return redis;
}

@Injectable()
class RedisLifecycle implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis | null) {}

  /** Closes gracefully, or forcibly when that does not finish in time (shutdown never hangs on Redis). */
  async onApplicationShutdown(): Promise<void> {
    await this.redis?.close();
  }
}

@Global()
@Module({
  providers: [
    {
      provide: REDIS,
      // a module composed without the Redis settings (a test of one part) runs without Redis
      useFactory: (config: RedisConfig | undefined): Redis | null => {
        const settings = config && redisConnectionSettings(config);
        return settings ? createRedis(settings, new Logger('Redis')) : null;
      },
      inject: [{ token: RedisConfig, optional: true }],
    },
    RedisLifecycle,
  ],
  exports: [REDIS],
})
export class RedisModule {}
