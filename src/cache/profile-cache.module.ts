import KeyvRedis, { Keyv } from '@keyv/redis';
import { CacheModule } from '@nestjs/cache-manager';
import { Module } from '@nestjs/common';

import { NearCache } from './near-cache.js';
import { REDIS, type Redis, RedisModule } from './redis.provider.js';
import { ReplicaLock } from './replica-lock.js';
import { SourceCache } from './source-cache.js';

/**
 * The profile cache through @nestjs/cache-manager (cache-manager 7 on Keyv): Redis via
 * `@keyv/redis` on the shared client when REDIS_URL is set, else in memory. Keys carry our
 * own namespace (`c360:{<customerId>}:v3:…`, see CacheKeys), so nothing here ever needs to flush a database.
 */
function redisStore(redis: Redis): Keyv {
  const keyv = new Keyv({ store: new KeyvRedis(redis.client, { throwOnConnectError: false, throwOnErrors: true }), useKeyPrefix: false });
  keyv.namespace = undefined; // our keys are namespaced already; no "keyv:" prefix on top
  return keyv;
}

@Module({
  imports: [
    RedisModule,
    CacheModule.registerAsync({
      imports: [RedisModule],
      inject: [REDIS],
      useFactory: (redis: Redis | null) => ({ stores: [redis ? redisStore(redis) : new Keyv()] }),
    }),
  ],
  providers: [SourceCache, ReplicaLock, NearCache],
  exports: [SourceCache, ReplicaLock, NearCache],
})
export class ProfileCacheModule {}
