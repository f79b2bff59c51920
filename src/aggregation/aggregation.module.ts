import { Module } from '@nestjs/common';

import { ProfileCacheModule } from '../cache/profile-cache.module.js';
import { AggregationService } from './aggregation.service.js';
import { BillingController } from './billing.controller.js';
import { CustomerLookupService } from './customer-lookup.service.js';
import { CustomersController } from './customers.controller.js';
import { DirectoryService } from './directory.service.js';
import { WebhooksController } from './webhooks.controller.js';

/** The use cases over the registered systems (CONNECTORS, CUSTOMER_DIRECTORY and BillingWriter come from the global ConnectorsModule). */
@Module({
  imports: [ProfileCacheModule],
  controllers: [CustomersController, BillingController, WebhooksController],
  providers: [AggregationService, DirectoryService, CustomerLookupService],
  exports: [AggregationService, CustomerLookupService, DirectoryService],
})
export class AggregationModule {}
