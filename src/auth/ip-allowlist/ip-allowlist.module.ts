import { Global, Module } from '@nestjs/common';

import { IpAllowlistGuard } from './ip-allowlist.guard.js';
import { IpRangesRefresher } from './ip-ranges.refresher.js';

/**
 * The inbound IP allowlist: `@UseGuards(IpAllowlistGuard)` on a controller or route. Global (like
 * AuthModule) so any controller can use the guard; its settings (IpAllowlistConfig, GenesysConfig)
 * come from the global ConfigModule.
 */
@Global()
@Module({
  providers: [IpRangesRefresher, IpAllowlistGuard],
  exports: [IpRangesRefresher, IpAllowlistGuard],
})
export class IpAllowlistModule {}
