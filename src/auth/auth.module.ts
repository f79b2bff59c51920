import { Global, Module } from '@nestjs/common';
import { RedisModule } from '../cache/redis.provider.js';
import { CredentialsFactory } from './credentials.factory.js';
import { HmacSignatureGuard } from './hmac-signature.guard.js';
import { InboundAuthGuard } from './inbound-auth.guard.js';
import { ReplayStore } from './replay-store.js';
import { SignatureVerifier } from './signature-verifier.js';
import { SigningKeys } from './signing-keys.js';
import { TokenController } from './token.controller.js';
import { TokenService } from './token.service.js';

/** Outbound credentials (tokens, Basic headers) for every connector; inbound guards join in later. */
@Global()
@Module({
  imports: [RedisModule],
  controllers: [TokenController],
  providers: [CredentialsFactory, ReplayStore, SignatureVerifier, HmacSignatureGuard, SigningKeys, TokenService, InboundAuthGuard],
  exports: [CredentialsFactory, ReplayStore, SignatureVerifier, HmacSignatureGuard, SigningKeys, TokenService, InboundAuthGuard],
})
export class AuthModule {}
