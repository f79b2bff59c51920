import { Injectable } from '@nestjs/common';

import type { CustomerConnector, FetchResult } from '../../src/connectors/connector.js';
import { assertIdentifier } from '../../src/connectors/identifiers.js';
import { expectShape } from '../../src/upstream/vendor-http.js';
import { LoyaltyHubClient } from './loyalty-hub.client.js';
import { LoyaltyHubConfig } from './loyalty-hub.config.js';

/** The loyalty tier from the Loyalty Hub (the earlier-registered Salesforce wins where both have one). */
@Injectable()
export class LoyaltyHubConnector implements CustomerConnector {
  readonly source = 'loyaltyhub';

  constructor(
    private readonly config: LoyaltyHubConfig,
    private readonly client: LoyaltyHubClient,
  ) {}

  get enabled(): boolean {
    return this.config.enabled;
  }

  async fetch(customerId: string, signal: AbortSignal): Promise<FetchResult> {
    assertIdentifier(this.source, 'customer number', customerId);
    const body = await this.client.member(customerId, signal);
    if (body === undefined) return { found: false };
    const tier = (body as { member?: { tier?: unknown } } | null)?.member?.tier;
    expectShape(this.source, typeof tier === 'string' && tier.length > 0, 'member tier');
    return { found: true, data: { loyaltyTier: tier } };
  }
}
