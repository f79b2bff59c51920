import { Body, Controller, Get, Headers, HttpCode, Post, Res, VERSION_NEUTRAL } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { SkipThrottle } from '@nestjs/throttler';
import type { FastifyReply } from 'fastify';

import { SigningKeys } from './signing-keys.js';
import { TokenService } from './token.service.js';

/**
 * The token endpoint for Genesys's "User Defined (OAuth)" credential: its generated Custom Auth
 * action posts client credentials here (form or JSON body, or a Basic header) and later data
 * actions send `Authorization: Bearer ${authResponse.access_token}`. Errors follow RFC 6749.
 */
@ApiTags('auth')
@Controller({ version: VERSION_NEUTRAL })
export class TokenController {
  constructor(
    private readonly tokens: TokenService,
    private readonly keys: SigningKeys,
  ) {}

  @Post('oauth/token')
  @HttpCode(200)
  @ApiOperation({ summary: 'Client credentials → a short-lived JWT (for Genesys User Defined OAuth); an optional scope narrows it' })
  async token(@Body() body: Record<string, unknown> | undefined, @Headers('authorization') authorization: string | undefined, @Res({ passthrough: true }) reply: FastifyReply): Promise<unknown> {
    void reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    const form = body ?? {};
    let clientId = typeof form.client_id === 'string' ? form.client_id : '';
    let clientSecret = typeof form.client_secret === 'string' ? form.client_secret : '';
    if (authorization && /^basic /i.test(authorization)) {
      const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      if (i > 0) {
        clientId = decodeURIComponent(decoded.slice(0, i));
        clientSecret = decodeURIComponent(decoded.slice(i + 1));
      }
    }
    if (form.grant_type !== 'client_credentials') {
      void reply.status(400);
      return { error: 'unsupported_grant_type' };
    }
    if (form.scope !== undefined && typeof form.scope !== 'string') {
      void reply.status(400);
      return { error: 'invalid_scope' };
    }
    const issued = await this.tokens.issue(clientId, clientSecret, form.scope);
    if (issued === 'invalid_client') {
      void reply.status(401).header('www-authenticate', 'Basic realm="customer360"');
      return { error: 'invalid_client' };
    }
    if (issued === 'invalid_scope') {
      void reply.status(400);
      return { error: 'invalid_scope' };
    }
    return issued;
  }

  @Get('.well-known/jwks.json')
  @SkipThrottle()
  @ApiOperation({ summary: 'Public keys of the tokens this service issues (current and, during a rotation, previous)' })
  jwks(): { keys: unknown[] } {
    return { keys: this.keys.published };
  }
}
