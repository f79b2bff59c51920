import { Inject, Injectable } from '@nestjs/common';

import { CacheConfig } from '../cache/cache.config.js';
import { REDIS, type Redis } from '../cache/redis.provider.js';
import { Metrics } from '../observability/metrics.js';
import { ATTR, spanEvent } from '../observability/tracing-spans.js';
import { ResilienceConfig } from './resilience.config.js';
import type { ResilienceSettings } from './resilient.decorator.js';
import { SharedRateLimiter } from './shared-rate-limiter.js';
import { type BreakerState,SourcePolicy } from './source-policy.js';

/** One policy per external system, built on first use from the shared settings and the system's own (its rate limit). */
@Injectable()
export class PolicyRegistry {
  private readonly policies = new Map<string, SourcePolicy>();

  constructor(
    private readonly config: ResilienceConfig,
    private readonly cache: CacheConfig,
    @Inject(REDIS) private readonly redis: Redis | null,
    private readonly metrics: Metrics,
  ) {}

  /** The system's policy; `settings` (its own configuration) counts when the policy is first made. */
  get(source: string, settings?: ResilienceSettings): SourcePolicy {
    let policy = this.policies.get(source);
    if (!policy) {
      policy = new SourcePolicy({
        source,
        limiter: this.limiterFor(source, settings),
        breaker: { errorPercent: this.config.breakerErrorPercent, windowMs: this.config.breakerWindowMs, minCalls: this.config.breakerMinCalls, openMs: this.config.breakerOpenMs },
        retry: { maxAttempts: this.config.retryMaxAttempts, baseMs: this.config.retryBaseMs },
        bulkhead: { maxConcurrent: this.config.bulkheadMaxConcurrent, queue: this.config.bulkheadQueue },
        onTransition: (to) => this.metrics.breaker(source, to),
        onResult: (outcome, seconds) => this.metrics.crmCallDuration.observe({ source, outcome }, seconds),
      });
      this.metrics.breakerState.set({ source }, 0);
      this.policies.set(source, policy);
    }
    return policy;
  }

  /** Breaker state of every system called so far (for health and metrics). */
  states(): Record<string, BreakerState> {
    return Object.fromEntries([...this.policies].map(([source, policy]) => [source, policy.state]));
  }

  private limiterFor(source: string, settings: ResilienceSettings | undefined): SharedRateLimiter | undefined {
    const limit = settings?.rateLimit;
    if (limit === undefined) return undefined;
    return new SharedRateLimiter({
      source,
      points: limit.points,
      durationSec: limit.windowSec,
      burstShare: this.config.rateLimitBurstPercent / 100,
      redis: this.redis,
      keyPrefix: this.cache.keyPrefix,
      expectedReplicas: this.config.expectedReplicas,
      maxWaitMs: this.config.rateLimitMaxWaitMs,
      opTimeoutMs: this.cache.opTimeoutMs,
      maxQueue: this.config.bulkheadQueue,
      onWait: (ms) => {
        this.metrics.rateLimitWaits.inc({ source });
        spanEvent('rate limit wait', { [ATTR.source]: source, [ATTR.waitMs]: ms });
      },
      onRefuse: () => {
        this.metrics.rateLimitRefusals.inc({ source });
        spanEvent('rate limit refused the call', { [ATTR.source]: source });
      },
      onFallback: () => this.metrics.rateLimitFallbacks.inc({ source }),
      onLateSlot: () => this.metrics.rateLimitLateSlots.inc({ source }),
    });
  }
}
