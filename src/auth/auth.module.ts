import { Global, Module } from '@nestjs/common';
import { CredentialsFactory } from './credentials.factory.js';

/** Outbound credentials (tokens, Basic headers) for every connector; inbound guards join in later. */
@Global()
@Module({
  providers: [CredentialsFactory],
  exports: [CredentialsFactory],
})
export class AuthModule {}
