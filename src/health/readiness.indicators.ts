import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorFunction } from '@nestjs/terminus';
import { CONNECTORS, type CustomerConnector } from '../connectors/connector.js';
import { PolicyRegistry } from '../resilience/policy.registry.js';
import { ShutdownState } from './shutdown.state.js';

/**
 * What readiness looks at. A CRM being unreachable never makes the pod unready (that would take
 * every replica out at once during one SAP outage); each connector is reported for information.
 */
@Injectable()
export class ReadinessIndicators {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly shutdown: ShutdownState,
    @Inject(CONNECTORS) private readonly connectors: CustomerConnector[],
    private readonly policies: PolicyRegistry,
  ) {}

  checks(): HealthIndicatorFunction[] {
    return [
      () => {
        const check = this.indicators.check('lifecycle');
        return this.shutdown.draining ? check.down({ draining: true }) : check.up();
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
