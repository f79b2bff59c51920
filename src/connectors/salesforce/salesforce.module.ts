import { Module } from '@nestjs/common';

import { registration } from '../connector-registration.js';
import { VendorClients, vendorHttpModule } from '../vendor-clients.js';
import { SalesforceClient } from './salesforce.client.js';
import { SalesforceConfig } from './salesforce.config.js';
import { SalesforceConnector } from './salesforce.connector.js';

@Module({
  imports: [vendorHttpModule(SalesforceConfig, (config) => ({ baseUrl: config.loginUrl, timeoutMs: config.timeoutMs }))],
  providers: [VendorClients, SalesforceClient, SalesforceConnector],
  exports: [SalesforceConnector],
})
export class SalesforceModule {}

/** Salesforce: account name, loyalty tier, last interaction, contact details; the phone/e-mail directory. */
export const SALESFORCE = registration({ source: 'salesforce', config: SalesforceConfig, module: SalesforceModule, connector: SalesforceConnector, directory: true });
