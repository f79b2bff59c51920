import { Inject, Injectable } from '@nestjs/common';
import { type HealthIndicatorFunction,HealthIndicatorService } from '@nestjs/terminus';

import { REDIS, type Redis } from '../cache/redis.provider.js';
import { CONNECTORS, type CustomerConnector } from '../connectors/connector.js';
import { PolicyRegistry } from '../resilience/policy.registry.js';
import { ShutdownState } from './shutdown.state.js';

/**
 * What readiness looks at. A CRM being unreachable never makes the pod unready (that would take
 * every replica out at once during one SAP outage); each connector is reported for information.
 * With REDIS_URL set, a new process is ready only once Redis has answered once: before that it
 * would cache alone and count rate limits on its own share while its peers share theirs. A later
 * Redis outage is reported but keeps the pod ready (it serves live, fail open).
 */
@Injectable()
export class ReadinessIndicators {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly shutdown: ShutdownState,
    @Inject(CONNECTORS) private readonly connectors: CustomerConnector[],
    private readonly policies: PolicyRegistry,
    @Inject(REDIS) private readonly redis: Redis | null,
  ) {
    if (redis && !redis.isReady) redis.once('ready', () => (this.redisSeen = true));
    this.redisSeen = redis?.isReady ?? false;
  }

  private redisSeen: boolean;

  checks(): HealthIndicatorFunction[] {
    return [
      () => {
        const check = this.indicators.check('lifecycle');
        return this.shutdown.draining ? check.down({ draining: true }) : check.up();
      },
      () => {
        const check = this.indicators.check('cache');
        if (!this.redis) return check.up({ mode: 'in-memory' });
        if (!this.redisSeen) return check.down({ redis: 'connecting' });
        return check.up({ redis: this.redis.isReady ? 'up' : 'unavailable (serving live)' });
      },
      () => {
        // a CRM's open breaker is reported as degraded (still HTTP 200), never down: one SAP outage
        // must not take every replica out of service
        const check = this.indicators.check('sources');
        const breakers = this.policies.states();
        const detail = Object.fromEntries(this.connectors.map((c) => [c.source, c.enabled ? (breakers[c.source] ?? 'closed') : 'disabled']));
        return Object.values(detail).some((s) => s === 'open' || s === 'half-open') ? check.degraded(detail) : check.up(detail);
      },
    ];
  }
}
