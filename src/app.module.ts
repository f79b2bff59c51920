import { Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { InboundThrottleGuard, InboundThrottleStorage, throttleKey, throttleTracker } from './auth/inbound-throttle.js';
import { IpAllowlistModule } from './auth/ip-allowlist/ip-allowlist.module.js';
import { REDIS, RedisModule, type Redis } from './cache/redis.provider.js';
import { BareRouteController } from './observability/bare-route.controller.js';
import { MetricsModule } from './observability/metrics.js';
import { AggregationModule } from './aggregation/aggregation.module.js';
import { AuthModule } from './auth/auth.module.js';
import type { AppConfig } from './config/app-config.js';
import { ConfigModule } from './config/config.module.js';
import { ConnectorsModule } from './connectors/connectors.module.js';
import { GenesysModule } from './genesys/genesys.module.js';
import { HealthModule } from './health/health.module.js';
import { ResilienceModule } from './resilience/resilience.module.js';
import { WidgetModule } from './widget/widget.module.js';

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
            // counted in this process, shared with the other replicas every THROTTLE_SYNC_MS: no Redis call per request
            storage: new InboundThrottleStorage({ redis, keyPrefix: config.cache.keyPrefix, syncIntervalMs: config.server.throttleSyncMs, opTimeoutMs: config.cache.opTimeoutMs }),
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
      providers: [{ provide: APP_GUARD, useClass: InboundThrottleGuard }],
    };
  }
}
