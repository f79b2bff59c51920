import { Controller, Get, Global, Header, Injectable, Module, VERSION_NEUTRAL } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { SkipThrottle } from '@nestjs/throttler';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';

const BREAKER_VALUE = { closed: 0, 'half-open': 1, open: 2, isolated: 3 } as const;

/** The service's Prometheus metrics (one registry per app instance, so tests and replicas never mix). */
@Injectable()
export class Metrics {
  readonly registry = new Registry();
  readonly breakerState = new Gauge({ name: 'c360_breaker_state', help: 'Circuit breaker per CRM: 0 closed, 1 half-open, 2 open', labelNames: ['source'], registers: [this.registry] });
  readonly breakerTransitions = new Counter({ name: 'c360_breaker_transitions_total', help: 'Breaker state changes per CRM', labelNames: ['source', 'to'], registers: [this.registry] });
  readonly rateLimitWaits = new Counter({ name: 'c360_rate_limit_waits_total', help: 'Calls that waited for an outbound rate-limit slot', labelNames: ['source'], registers: [this.registry] });
  readonly rateLimitRefusals = new Counter({ name: 'c360_rate_limit_refusals_total', help: 'Calls refused by the outbound rate limit (source marked rate_limited)', labelNames: ['source'], registers: [this.registry] });
  readonly rateLimitFallbacks = new Counter({ name: 'c360_rate_limit_local_fallbacks_total', help: 'Times the shared limit fell back to the per-process share (Redis unavailable)', labelNames: ['source'], registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'c360_' });
  }

  breaker(source: string, to: keyof typeof BREAKER_VALUE): void {
    this.breakerState.set({ source }, BREAKER_VALUE[to]);
    this.breakerTransitions.inc({ source, to });
  }
}

@ApiExcludeController()
@SkipThrottle()
@Controller({ path: 'metrics', version: VERSION_NEUTRAL })
export class MetricsController {
  constructor(private readonly metrics: Metrics) {}

  @Get()
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  @Header('cache-control', 'no-store')
  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}

@Global()
@Module({ controllers: [MetricsController], providers: [Metrics], exports: [Metrics] })
export class MetricsModule {}
