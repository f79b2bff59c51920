import { Global, Inject, Injectable, Logger, Module, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';

import { type Redis, redisFor } from './redis.client.js';
import { RedisConfig, type RedisConnectionSettings, redisConnectionSettings } from './redis.config.js';

/** DI token: the shared Redis (`Redis`), or null when none is configured (in-memory mode). */
export const REDIS = Symbol('REDIS');

/** How long start-up waits for the first connection to Redis (see RedisLifecycle.onModuleInit). */
export const FIRST_CONNECTION_WAIT_MS = 1000;

/**
 * One Redis connection per process, shared by the cache, locks, rate limits and replay
 * protection, on any topology. Start-up waits for it briefly, never fails for it, and it never queues commands while
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
class RedisLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis | null) {}

  /**
   * Waits up to FIRST_CONNECTION_WAIT_MS for the first connection, so what runs at start-up (the
   * CRM log-ins, under the shared rate limits) and the first requests find Redis instead of
   * falling back to each process's share; a Redis still away after that does not hold start-up.
   */
  async onModuleInit(): Promise<void> {
    const redis = this.redis;
    if (!redis || redis.isReady) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([redis.connect().catch(() => undefined), new Promise<void>((resolve) => (timer = setTimeout(resolve, FIRST_CONNECTION_WAIT_MS)))]);
    clearTimeout(timer);
  }

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
