import { IsInt, IsOptional, IsString, IsUrl, Matches, Max, Min } from 'class-validator';

import { Env } from './env.decorator.js';

/**
 * The Genesys Cloud organization this service works for: where its APIs are, the service's own
 * OAuth client, the organization id and the OAuth client agents sign in with. Read by several
 * layers (inbound auth, the Platform API client, the side panel, the data action definition),
 * so it sits with the ground settings rather than in one of them.
 */
export class GenesysConfig {
  @Env('GENESYS_REGION', { doc: 'Genesys Cloud region domain, e.g. mypurecloud.com, mypurecloud.ie, euw2.pure.cloud' })
  @Matches(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/)
  region = 'mypurecloud.com';

  @Env('GENESYS_LOGIN_URL', { doc: 'Override of https://login.<region> (the sandbox points it at the simulator)' })
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  loginUrl?: string;

  @Env('GENESYS_API_URL', { doc: 'Override of https://api.<region>' })
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  apiUrl?: string;

  @Env('GENESYS_CLIENT_ID', { doc: 'OAuth client (client credentials) for Platform API calls such as click-to-dial; empty disables them' })
  @IsString()
  clientId = '';

  @Env('GENESYS_CLIENT_SECRET', { doc: 'Secret of that OAuth client', secret: true })
  @IsString()
  clientSecret = '';

  @Env('GENESYS_ORG_ID', { doc: 'Your Genesys Cloud organization id' })
  @IsOptional()
  @IsString()
  orgId?: string;

  @Env('WIDGET_OAUTH_CLIENT_ID', {
    doc: "Client id (public, not a secret) of the Genesys Cloud OAuth client of grant type Code Authorization with PKCE, redirect URI <PUBLIC_BASE_URL>/widget, that the side panel signs the agent in with; the service then accepts only that client's agent tokens (needs genesys-agent in INTERNAL_AUTH). Empty: the panel needs a #access_token",
  })
  @IsOptional()
  @Matches(/^[A-Za-z0-9._-]{1,128}$/, { message: 'WIDGET_OAUTH_CLIENT_ID must be an OAuth client id (letters, digits, . _ -)' })
  agentOauthClientId?: string;

  @Env('PUBLIC_BASE_URL', { doc: 'URL at which Genesys reaches this service; used in the generated data action definition' })
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  publicBaseUrl = 'https://customer360.example.com';

  @Env('GENESYS_TIMEOUT_MS', { doc: 'Per-call timeout for the Genesys Platform API' })
  @IsInt()
  @Min(100)
  @Max(60_000)
  timeoutMs = 3000;

  get resolvedLoginUrl(): string {
    return this.loginUrl ?? `https://login.${this.region}`;
  }

  get resolvedApiUrl(): string {
    return this.apiUrl ?? `https://api.${this.region}`;
  }
}
