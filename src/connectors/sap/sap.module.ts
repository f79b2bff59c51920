import { Module } from '@nestjs/common';

import { BillingWriter } from '../connector.js';
import { registration } from '../connector-registration.js';
import { VendorClients, vendorHttpModule } from '../vendor-clients.js';
import { SapClient } from './sap.client.js';
import { SapConfig } from './sap.config.js';
import { SapConnector } from './sap.connector.js';

@Module({
  imports: [vendorHttpModule(SapConfig, (config) => ({ baseUrl: config.baseUrl, timeoutMs: config.timeoutMs }))],
  providers: [VendorClients, SapClient, SapConnector, { provide: BillingWriter, useExisting: SapConnector }],
  exports: [SapConnector, BillingWriter],
})
export class SapModule {}

/** SAP S/4HANA: the open balance per currency; billing writes (BillingWriter). */
export const SAP = registration({ source: 'sap', config: SapConfig, module: SapModule, connector: SapConnector });
