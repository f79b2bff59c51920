import { Module } from '@nestjs/common';
import { AggregationModule } from '../aggregation/aggregation.module.js';
import { ProfileCacheModule } from '../cache/profile-cache.module.js';
import { ConversationCallerService } from './conversation-caller.service.js';
import { ConversationCustomerController } from './conversation-customer.controller.js';
import { CustomActionController } from './custom-action.controller.js';
import { NotificationsModule } from './notifications/notifications.module.js';
import { GenesysPlatformModule } from './platform/genesys-platform.module.js';

@Module({
  imports: [AggregationModule, GenesysPlatformModule, ProfileCacheModule, NotificationsModule],
  controllers: [CustomActionController, ConversationCustomerController],
  providers: [ConversationCallerService],
})
export class GenesysModule {}
