import { Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';

import { RedisModule } from '../cache/redis.provider.js';
import { MetricsModule } from '../observability/metrics.js';
import { PolicyRegistry } from './policy.registry.js';
import { ResilienceExplorer } from './resilience.explorer.js';

@Global()
@Module({
  imports: [DiscoveryModule, RedisModule, MetricsModule],
  providers: [PolicyRegistry, ResilienceExplorer],
  exports: [PolicyRegistry],
})
export class ResilienceModule {}
