import { Module } from '@nestjs/common';
import { SapClient } from './sap.client.js';
import { SapConnector } from './sap.connector.js';

@Module({
  providers: [SapClient, SapConnector],
  exports: [SapConnector],
})
export class SapModule {}
