import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorFunction } from '@nestjs/terminus';
import { CONNECTORS, type CustomerConnector } from '../connectors/connector.js';
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
  ) {}

  checks(): HealthIndicatorFunction[] {
    return [
      () => {
        const check = this.indicators.check('lifecycle');
        return this.shutdown.draining ? check.down({ draining: true }) : check.up();
      },
      () => {
        const check = this.indicators.check('sources');
        return check.up(Object.fromEntries(this.connectors.map((c) => [c.source, c.enabled ? 'enabled' : 'disabled'])));
      },
    ];
  }
}
