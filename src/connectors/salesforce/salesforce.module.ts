import { Module } from '@nestjs/common';
import { SalesforceClient } from './salesforce.client.js';
import { SalesforceConnector } from './salesforce.connector.js';

@Module({
  providers: [SalesforceClient, SalesforceConnector],
  exports: [SalesforceConnector],
})
export class SalesforceModule {}
