import { Global, Module } from '@nestjs/common';
import { RedisModule } from '../cache/redis.provider.js';
import { GenesysPlatformModule } from '../genesys/platform/genesys-platform.module.js';
import { AgentCheckBudget } from './agent-check-budget.js';
import { CredentialsFactory } from './credentials.factory.js';
import { GenesysAgentVerifier } from './genesys-agent.verifier.js';
import { HmacSignatureGuard } from './hmac-signature.guard.js';
import { InboundAuthGuard } from './inbound-auth.guard.js';
import { ReplayStore } from './replay-store.js';
import { SignatureVerifier } from './signature-verifier.js';
import { SigningKeys } from './signing-keys.js';
import { TokenController } from './token.controller.js';
import { TokenService } from './token.service.js';

/** Outbound credentials (tokens, Basic headers) for every connector, and the inbound guards (agent tokens are verified through the Genesys Platform module). */
@Global()
@Module({
  imports: [RedisModule, GenesysPlatformModule],
  controllers: [TokenController],
  providers: [AgentCheckBudget, CredentialsFactory, ReplayStore, SignatureVerifier, HmacSignatureGuard, SigningKeys, TokenService, GenesysAgentVerifier, InboundAuthGuard],
  exports: [AgentCheckBudget, CredentialsFactory, ReplayStore, SignatureVerifier, HmacSignatureGuard, SigningKeys, TokenService, GenesysAgentVerifier, InboundAuthGuard],
})
export class AuthModule {}
