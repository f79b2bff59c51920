import { createHash } from 'node:crypto';

import { type DynamicModule,Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import type { FastifyRequest } from 'fastify';

import { AggregationModule } from './aggregation/aggregation.module.js';
import type { AppConfig } from './app.config.js';
import { AuthModule } from './auth/auth.module.js';
import { AddressSet } from './auth/ip-allowlist/cidr.js';
import { clientBudgetKey, clientIp } from './auth/ip-allowlist/client-ip.js';
import { IpAllowlistModule } from './auth/ip-allowlist/ip-allowlist.module.js';
import { REDIS, type Redis,RedisModule } from './cache/redis.provider.js';
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
import { RedisThrottlerStorage } from './observability/throttler-redis.storage.js';
import { ResilienceModule } from './resilience/resilience.module.js';
import { WidgetModule } from './widget/widget.module.js';

/** The inbound throttle's key: the client address as the IP allowlist sees it (an IPv6 client's /64). */
function throttleTracker(trusted: AddressSet) {
  return (req: Record<string, any>): string => { // eslint-disable-line @typescript-eslint/no-explicit-any
    const request = req as FastifyRequest;
    return clientBudgetKey(clientIp(request.raw.socket?.remoteAddress, request.headers['x-forwarded-for'], trusted));
  };
}

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
            // per real client: behind the ingress (TRUSTED_PROXY_CIDRS) the X-Forwarded-For hop, not the proxy pod
            getTracker: throttleTracker(AddressSet.parse(config.ipAllowlist.trustedProxyCidrs)),
            generateKey: throttleKey,
            storage: redis ? new RedisThrottlerStorage(redis, config.cache.keyPrefix, config.cache.opTimeoutMs) : undefined,
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
      providers: [{ provide: APP_GUARD, useClass: ThrottlerGuard }],
    };
  }
}
