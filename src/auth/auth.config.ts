import { ArrayNotEmpty, IsBoolean, IsIn, IsInt, IsOptional, IsString, Max, Min, MinLength } from 'class-validator';

import { Env } from '../config/env.decorator.js';

export const GENESYS_AUTH_MODES = ['jwt', 'apikey', 'hmac', 'none'] as const;
export const INTERNAL_AUTH_MODES = ['jwt', 'genesys-agent', 'none'] as const;

export class AuthConfig {
  @Env('GENESYS_AUTH', { doc: 'How Genesys-facing calls authenticate, any of: jwt (User Defined OAuth), apikey (User Defined), hmac, none (refused in production)', type: 'list' })
  @ArrayNotEmpty()
  @IsIn(GENESYS_AUTH_MODES, { each: true, message: `GENESYS_AUTH entries must be among: ${GENESYS_AUTH_MODES.join(', ')}` })
  genesysAuth: string[] = ['jwt', 'apikey'];

  @Env('INTERNAL_AUTH', {
    doc: "How /v1 consumers authenticate, any of: jwt (scopes per route), genesys-agent (an agent's Genesys Cloud token, e.g. the side panel's, verified with GET /api/v2/tokens/me, organization GENESYS_ORG_ID, customer:read only), none (refused in production)",
    type: 'list',
  })
  @ArrayNotEmpty()
  @IsIn(INTERNAL_AUTH_MODES, { each: true, message: `INTERNAL_AUTH entries must be among: ${INTERNAL_AUTH_MODES.join(', ')}` })
  internalAuth: string[] = ['jwt'];

  @Env('GENESYS_API_KEY', { doc: 'Static key Genesys sends in x-api-key (User Defined credential)', secret: true })
  @IsOptional()
  @IsString()
  @MinLength(24, { message: 'GENESYS_API_KEY must be at least 24 characters' })
  genesysApiKey?: string;

  @Env('GENESYS_REQUIRE_ORG', { doc: 'Refuse Genesys-facing calls whose ININ-Organization-Id is not GENESYS_ORG_ID' })
  @IsBoolean()
  requireGenesysOrg = false;

  @Env('TOKEN_CLIENT_ID', { doc: 'Client id Genesys presents to POST /oauth/token (User Defined OAuth); unset disables the endpoint' })
  @IsOptional()
  @IsString()
  tokenClientId?: string;

  @Env('TOKEN_CLIENT_SECRET', { doc: 'Its secret', secret: true })
  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'TOKEN_CLIENT_SECRET must be at least 16 characters' })
  tokenClientSecret?: string;

  @Env('TOKEN_CLIENT_SCOPES', { doc: 'Scopes granted to tokens issued by /oauth/token', type: 'list' })
  tokenClientScopes: string[] = ['genesys:action', 'customer:read'];

  @Env('JWT_SIGNING_KEY', { doc: 'PKCS#8 PEM (EC P-256 or RSA) signing issued tokens; unset = an ephemeral key (one replica only, not in production)', secret: true })
  @IsOptional()
  @IsString()
  jwtSigningKey?: string;

  @Env('JWT_SIGNING_KEY_PREVIOUS', { doc: 'The previous signing key: still published in the JWKS and accepted, no longer used to sign', secret: true })
  @IsOptional()
  @IsString()
  jwtSigningKeyPrevious?: string;

  @Env('JWT_JWKS_URL', { doc: 'JWKS of an external identity provider whose tokens are also accepted (internal consumers)' })
  @IsOptional()
  @IsString()
  jwtJwksUrl?: string;

  @Env('JWT_ISSUER', { doc: 'iss of issued tokens, and required of accepted ones' })
  @IsString()
  jwtIssuer = 'customer360';

  @Env('JWT_AUDIENCE', { doc: 'aud of issued tokens, and required of accepted ones' })
  @IsString()
  jwtAudience = 'customer360';

  @Env('JWT_TTL_SECONDS', { doc: 'Lifetime of issued tokens' })
  @IsInt()
  @Min(60)
  @Max(86_400)
  jwtTtlSeconds = 900;

  @Env('JWT_MAX_LIFETIME_SECONDS', {
    doc: "Longest lifetime an accepted token may have (exp − iat, and exp − now): a token without exp, living longer, or issued in the future is refused. 5400 admits Microsoft Entra ID's default 60–90 min; at least JWT_TTL_SECONDS",
  })
  @IsInt()
  @Min(60)
  @Max(86_400)
  jwtMaxLifetimeSeconds = 5400;

  @Env('AGENT_TOKEN_REFUSALS_PER_MIN', {
    doc: 'genesys-agent: opaque tokens one client address may have checked with Genesys per minute without one being accepted (per replica); beyond, unknown tokens from it get 429 without asking Genesys',
  })
  @IsInt()
  @Min(1)
  @Max(10_000)
  agentTokenRefusalsPerMin = 20;

  @Env('WEBHOOK_HMAC_SECRET', { doc: 'Key for HMAC-SHA256 signatures on change webhooks (x-signature: t=…,v1=…); unset refuses every webhook', secret: true })
  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'WEBHOOK_HMAC_SECRET must be at least 16 characters' })
  webhookSecret?: string;

  @Env('WEBHOOK_HMAC_SECRET_PREVIOUS', { doc: 'The previous key, still accepted during a rotation', secret: true })
  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'WEBHOOK_HMAC_SECRET_PREVIOUS must be at least 16 characters' })
  webhookSecretPrevious?: string;

  @Env('SIGNATURE_TOLERANCE_SECONDS', { doc: 'How old (or early) a signature timestamp may be; also the replay window' })
  @IsInt()
  @Min(5)
  @Max(3600)
  signatureToleranceSeconds = 300;
}
