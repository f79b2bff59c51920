import { Module } from '@nestjs/common';
import { GenesysApiClient } from './genesys-api.client.js';
import { GenesysTokenService } from './genesys-token.service.js';

/**
 * Outbound Genesys Cloud Platform API: tokens and calls. Needs GenesysConfig and
 * GenesysPlatformConfig (from the global ConfigModule); createCall is wrapped by the
 * ResilienceModule's 'genesys' policy (shared 300/min limit, breaker, bulkhead).
 */
@Module({
  providers: [GenesysTokenService, GenesysApiClient],
  exports: [GenesysTokenService, GenesysApiClient],
})
export class GenesysPlatformModule {}
