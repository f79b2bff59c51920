import { Module } from '@nestjs/common';
import { ServiceNowClient } from './servicenow.client.js';
import { ServiceNowConnector } from './servicenow.connector.js';

@Module({
  providers: [ServiceNowClient, ServiceNowConnector],
  exports: [ServiceNowConnector],
})
export class ServiceNowModule {}
