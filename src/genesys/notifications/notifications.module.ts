import { Module } from '@nestjs/common';
import { AggregationModule } from '../../aggregation/aggregation.module.js';
import { ProfileCacheModule } from '../../cache/profile-cache.module.js';
import { GenesysPlatformModule } from '../platform/genesys-platform.module.js';
import { NotificationsApiClient } from './notifications-api.client.js';
import { NotificationMetrics } from './notifications.metrics.js';
import { NotificationsService } from './notifications.service.js';
import { Prefetcher } from './prefetcher.js';

/**
 * Genesys queue notifications and the pre-fetch they drive (GENESYS_NOTIFICATIONS_ENABLED). The
 * pre-fetch goes through the aggregation's public look-up; its lower priority is applied by the
 * resilience layer (resilience/background.ts).
 */
@Module({
  imports: [AggregationModule, GenesysPlatformModule, ProfileCacheModule],
  providers: [NotificationsApiClient, NotificationMetrics, Prefetcher, NotificationsService],
  exports: [NotificationMetrics, NotificationsService, Prefetcher],
})
export class NotificationsModule {}
