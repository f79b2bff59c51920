import { CacheModule } from '@nestjs/cache-manager';
import { Module } from '@nestjs/common';
import { SourceCache } from './source-cache.js';

/** The profile cache: in-memory here; Redis-backed when REDIS_URL is set (see cache.config.ts). */
@Module({
  imports: [CacheModule.register()],
  providers: [SourceCache],
  exports: [SourceCache],
})
export class ProfileCacheModule {}
