import { Module } from '@nestjs/common';

import { GenesysAgentVerifier } from './genesys-agent.verifier.js';
import { GenesysApiClient } from './genesys-api.client.js';
import { GenesysTokenService } from './genesys-token.service.js';
import { GenesysTokenInfoClient } from './genesys-token-info.client.js';

/**
 * Outbound Genesys Cloud Platform API: tokens and calls, and the check of an agent's token
 * (`/api/v2/tokens/me`: GenesysAgentVerifier, bound to auth's AgentTokenVerifier port by the
 * composition root). Needs GenesysConfig and GenesysPlatformConfig (from the global
 * ConfigModule); its calls are wrapped by the ResilienceModule's 'genesys' policy (shared
 * GENESYS_RATE_LIMIT_PER_MIN limit, breaker, bulkhead).
 */
@Module({
  providers: [GenesysTokenService, GenesysApiClient, GenesysTokenInfoClient, GenesysAgentVerifier],
  exports: [GenesysTokenService, GenesysApiClient, GenesysTokenInfoClient, GenesysAgentVerifier],
})
export class GenesysPlatformModule {}
