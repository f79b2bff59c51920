import { Global, Module } from '@nestjs/common';
import { RedisModule } from '../cache/redis.provider.js';
import { CredentialsFactory } from './credentials.factory.js';
import { HmacSignatureGuard } from './hmac-signature.guard.js';
import { ReplayStore } from './replay-store.js';

/** Outbound credentials (tokens, Basic headers) for every connector; inbound guards join in later. */
@Global()
@Module({
  imports: [RedisModule],
  providers: [CredentialsFactory, ReplayStore, HmacSignatureGuard],
  exports: [CredentialsFactory, ReplayStore, HmacSignatureGuard],
})
export class AuthModule {}
