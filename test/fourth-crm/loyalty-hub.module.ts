import { Module } from '@nestjs/common';

import { registration } from '../../src/connectors/connector-registration.js';
import { VendorClients, vendorHttpModule } from '../../src/connectors/vendor-clients.js';
import { LoyaltyHubClient } from './loyalty-hub.client.js';
import { LoyaltyHubConfig } from './loyalty-hub.config.js';
import { LoyaltyHubConnector } from './loyalty-hub.connector.js';

@Module({
  imports: [vendorHttpModule(LoyaltyHubConfig, (config) => ({ baseUrl: config.baseUrl, timeoutMs: config.timeoutMs }))],
  providers: [VendorClients, LoyaltyHubClient, LoyaltyHubConnector],
  exports: [LoyaltyHubConnector],
})
export class LoyaltyHubModule {}

/** The Loyalty Hub, a fourth system that exists only for the test proving "one folder and one line". */
export const LOYALTY_HUB = registration({ source: 'loyaltyhub', config: LoyaltyHubConfig, module: LoyaltyHubModule, connector: LoyaltyHubConnector });
