import { Module } from '@nestjs/common';
import { FetchBudget, ProfileCache } from '../cache/profile-cache.js';
import { ProfileCacheModule } from '../cache/profile-cache.module.js';
import { ConnectorsModule } from '../connectors/connectors.module.js';
import { AggregationConfig } from './aggregation.config.js';
import { AggregationService } from './aggregation.service.js';
import { BillingController } from './billing.controller.js';
import { CustomerLookupService } from './customer-lookup.service.js';
import { CustomersController } from './customers.controller.js';
import { DirectoryService } from './directory.service.js';
import { SourceBatches } from './source-batches.js';
import { WebhooksController } from './webhooks.controller.js';

@Module({
  imports: [ConnectorsModule, ProfileCacheModule],
  controllers: [CustomersController, BillingController, WebhooksController],
  providers: [
    AggregationService,
    DirectoryService,
    CustomerLookupService,
    SourceBatches,
    // the cache policy, timed by this use case's deadline and late-completion budget
    ProfileCache,
    { provide: FetchBudget, inject: [AggregationConfig], useFactory: (c: AggregationConfig): FetchBudget => ({ answerMs: c.deadlineMs, lateMs: c.lateCompletionMs }) },
  ],
  exports: [AggregationService, CustomerLookupService, DirectoryService],
})
export class AggregationModule {}
