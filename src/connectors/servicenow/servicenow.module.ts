import { Module } from '@nestjs/common';

import { registration } from '../connector-registration.js';
import { VendorClients, vendorHttpModule } from '../vendor-clients.js';
import { ServiceNowClient } from './servicenow.client.js';
import { ServiceNowConfig } from './servicenow.config.js';
import { ServiceNowConnector } from './servicenow.connector.js';

@Module({
  imports: [vendorHttpModule(ServiceNowConfig, (config) => ({ baseUrl: config.baseUrl, timeoutMs: config.timeoutMs }))],
  providers: [VendorClients, ServiceNowClient, ServiceNowConnector],
  exports: [ServiceNowConnector],
})
export class ServiceNowModule {}

/** ServiceNow: the count of open (active) incidents. */
export const SERVICENOW = registration({ source: 'servicenow', config: ServiceNowConfig, module: ServiceNowModule, connector: ServiceNowConnector });
