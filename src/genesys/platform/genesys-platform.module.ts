import { Module } from '@nestjs/common';
import { GenesysApiClient } from './genesys-api.client.js';
import { GenesysTokenInfoClient } from './genesys-token-info.client.js';
import { GenesysTokenService } from './genesys-token.service.js';

/**
 * Outbound Genesys Cloud Platform API: tokens and calls, and the check of an agent's token
 * (`/api/v2/tokens/me`, used by the inbound guard). Needs GenesysConfig and
 * GenesysPlatformConfig (from the global ConfigModule); createCall is wrapped by the
 * ResilienceModule's 'genesys' policy (shared 300/min limit, breaker, bulkhead).
 */
@Module({
  providers: [GenesysTokenService, GenesysApiClient, GenesysTokenInfoClient],
  exports: [GenesysTokenService, GenesysApiClient, GenesysTokenInfoClient],
})
export class GenesysPlatformModule {}
