import { createHash } from 'node:crypto';
import { Module, type DynamicModule } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import { clientAddress, clientBudgetKey } from './auth/ip-allowlist/client-ip.js';
import { IpAllowlistModule } from './auth/ip-allowlist/ip-allowlist.module.js';
import { REDIS, RedisModule, type Redis } from './cache/redis.provider.js';
import { BareRouteController } from './observability/bare-route.controller.js';
import { MetricsModule } from './observability/metrics.js';
import { RedisThrottlerStorage } from './observability/throttler-redis.storage.js';
import { AggregationModule } from './aggregation/aggregation.module.js';
import { AuthModule } from './auth/auth.module.js';
import type { AppConfig } from './config/app-config.js';
import { ConfigModule } from './config/config.module.js';
import { ConnectorsModule } from './connectors/connectors.module.js';
import { GenesysModule } from './genesys/genesys.module.js';
import { HealthModule } from './health/health.module.js';
import { ResilienceModule } from './resilience/resilience.module.js';
import { WidgetModule } from './widget/widget.module.js';

/** The inbound throttle's key: the client address as the IP allowlist sees it (an IPv6 client's /64). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const throttleTracker = (req: Record<string, any>): string => clientBudgetKey(clientAddress(req as FastifyRequest));

/**
 * The throttle's storage key: the client alone (hashed, so no address is stored in Redis), not
 * the route. @nestjs/throttler's default key includes the controller and handler, which gave each
 * client a separate budget per route instead of the one budget per client the README promises.
 */
export function throttleKey(_context: unknown, tracker: string, throttlerName: string): string {
  return createHash('sha256').update(`${throttlerName}\u0000${tracker}`).digest('base64url');
}

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        RedisModule,
        MetricsModule,
        ThrottlerModule.forRootAsync({
          imports: [RedisModule],
          inject: [REDIS],
          useFactory: (redis: Redis | null) => ({
            throttlers: [{ ttl: config.server.throttleTtlMs, limit: config.server.throttleLimit }],
            // per real client: behind the ingress (TRUSTED_PROXY_CIDRS, Fastify's trustProxy) the X-Forwarded-For hop, not the proxy pod
            getTracker: throttleTracker,
            generateKey: throttleKey,
            storage: redis ? new RedisThrottlerStorage(redis, config.cache.keyPrefix, config.cache.opTimeoutMs) : undefined,
          }),
        }),
        ResilienceModule,
        AuthModule,
        IpAllowlistModule,
        ConnectorsModule,
        AggregationModule,
        GenesysModule,
        HealthModule,
        WidgetModule,
      ],
      controllers: config.server.benchBareRoute ? [BareRouteController] : [],
      providers: [{ provide: APP_GUARD, useClass: ThrottlerGuard }],
    };
  }
}
