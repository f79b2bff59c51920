import { type DynamicModule, Module, type ModuleMetadata, type Type } from '@nestjs/common';

import { RedisModule } from '../cache/redis.provider.js';
import { AgentCheckBudget } from './agent-check-budget.js';
import { AgentTokenVerifier } from './agent-token.verifier.js';
import { HmacSignatureGuard } from './hmac-signature.guard.js';
import { InboundAuthGuard } from './inbound-auth.guard.js';
import { ReplayStore } from './replay-store.js';
import { SignatureVerifier } from './signature-verifier.js';
import { SigningKeys } from './signing-keys.js';
import { TokenController } from './token.controller.js';
import { TokenService } from './token.service.js';

export interface AuthModuleOptions {
  /** Modules that provide the ports below (they are imported here, by the composition root's choice). */
  imports: NonNullable<ModuleMetadata['imports']>;
  /** The implementation of AgentTokenVerifier (the genesys-agent mechanism), from one of `imports`. */
  agentTokenVerifier: Type<AgentTokenVerifier>;
}

/**
 * Inbound authentication only: the guards, the token endpoint and its signing keys, HMAC
 * signatures with their replay store, and the agent-token check budget. Global, so every
 * controller can use `@Authenticated` and the HMAC guard. What auth/ needs from outside (checking
 * an agent token with Genesys) it declares as ports, bound here from the composition root:
 * `AuthModule.forRoot({ imports: [GenesysPlatformModule], agentTokenVerifier: GenesysAgentVerifier })`.
 */
@Module({})
export class AuthModule {
  static forRoot(options: AuthModuleOptions): DynamicModule {
    const exported = [AgentCheckBudget, ReplayStore, SignatureVerifier, HmacSignatureGuard, SigningKeys, TokenService, InboundAuthGuard, AgentTokenVerifier];
    return {
      module: AuthModule,
      global: true,
      imports: [RedisModule, ...options.imports],
      controllers: [TokenController],
      providers: [AgentCheckBudget, ReplayStore, SignatureVerifier, HmacSignatureGuard, SigningKeys, TokenService, InboundAuthGuard, { provide: AgentTokenVerifier, useExisting: options.agentTokenVerifier }],
      exports: exported,
    };
  }
}
