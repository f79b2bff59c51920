
import { type DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';

import { AggregationModule } from './aggregation/aggregation.module.js';
import type { AppConfig } from './app.config.js';
import { AuthModule } from './auth/auth.module.js';
import { InboundThrottleGuard, InboundThrottleStorage, throttleKey, throttleTracker } from './auth/inbound-throttle.js';
import { IpAllowlistModule } from './auth/ip-allowlist/ip-allowlist.module.js';
import { REDIS, type Redis, RedisModule } from './cache/redis.provider.js';
import { ConfigModule } from './config/config.module.js';
import type { ConnectorRegistration } from './connectors/connector-registration.js';
import { CONNECTOR_REGISTRY } from './connectors/connector-registry.js';
import { ConnectorsModule } from './connectors/connectors.module.js';
import { GenesysModule } from './genesys/genesys.module.js';
import { GenesysAgentVerifier } from './genesys/platform/genesys-agent.verifier.js';
import { GenesysPlatformModule } from './genesys/platform/genesys-platform.module.js';
import { HealthModule } from './health/health.module.js';
import { BareRouteController } from './observability/bare-route.controller.js';
import { MetricsModule } from './observability/metrics.js';
import { ResilienceModule } from './resilience/resilience.module.js';
import { WidgetModule } from './widget/widget.module.js';

@Module({})
export class AppModule {
  /** The whole service: `connectors` are the systems of record it runs with (CONNECTOR_REGISTRY; tests may add one). */
  static forRoot(config: AppConfig, connectors: readonly ConnectorRegistration[] = CONNECTOR_REGISTRY): DynamicModule {
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
        // ports auth/ declares, bound to their Genesys implementations here
        AuthModule.forRoot({ imports: [GenesysPlatformModule], agentTokenVerifier: GenesysAgentVerifier }),
        IpAllowlistModule,
        ConnectorsModule.forRoot(connectors),
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
