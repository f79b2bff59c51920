import { IsBoolean, IsIn, IsInt, IsString, IsUrl, Matches, Max, Min, MinLength, ValidateIf } from 'class-validator';

import { Env } from '../../config/env.decorator.js';
import type { RateLimit } from '../../resilience/resilient.decorator.js';
import type { ConnectorSettings } from '../connector.js';

export class SapConfig implements ConnectorSettings {
  @Env('SAP_ENABLED', { doc: 'Call SAP S/4HANA at all' })
  @IsBoolean()
  enabled = true;

  @Env('SAP_BASE_URL', { doc: 'Base URL of the S/4HANA OData gateway, e.g. https://s4.example.com' })
  @ValidateIf((c: SapConfig) => c.enabled)
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  baseUrl = '';

  @Env('SAP_CLIENT', { doc: 'SAP client (sap-client), three digits' })
  @Matches(/^\d{3}$/)
  sapClient = '100';

  @Env('SAP_AUTH', { doc: 'basic (technical user) or oauth (client credentials, e.g. through SAP BTP / XSUAA)' })
  @IsIn(['basic', 'oauth'])
  authMode: 'basic' | 'oauth' = 'basic';

  @Env('SAP_TOKEN_URL', { doc: 'OAuth token endpoint (oauth mode), e.g. https://<subaccount>.authentication.<region>.hana.ondemand.com/oauth/token' })
  @ValidateIf((c: SapConfig) => c.enabled && c.authMode === 'oauth')
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  tokenUrl = '';

  @Env('SAP_OAUTH_CLIENT_ID', { doc: 'OAuth client id (oauth mode)' })
  @ValidateIf((c: SapConfig) => c.enabled && c.authMode === 'oauth')
  @IsString()
  @MinLength(1)
  oauthClientId = '';

  @Env('SAP_OAUTH_CLIENT_SECRET', { doc: 'OAuth client secret (oauth mode)', secret: true })
  @ValidateIf((c: SapConfig) => c.enabled && c.authMode === 'oauth')
  @IsString()
  @MinLength(1)
  oauthClientSecret = '';

  @Env('SAP_USERNAME', { doc: 'Technical user for Basic authentication' })
  @ValidateIf((c: SapConfig) => c.enabled && c.authMode === 'basic')
  @IsString()
  @MinLength(1)
  username = '';

  @Env('SAP_PASSWORD', { doc: 'Password of the technical user', secret: true })
  @ValidateIf((c: SapConfig) => c.enabled && c.authMode === 'basic')
  @IsString()
  @MinLength(1)
  password = '';

  @Env('SAP_OPEN_ITEMS_MAX_PAGES', { doc: 'Most pages of open items read for one customer (the gateway pages them); a customer with more gets no balance (SAP bad_response), never a partial one' })
  @IsInt()
  @Min(1)
  @Max(1000)
  openItemsMaxPages = 10;

  @Env('SAP_TIMEOUT_MS', { doc: 'Per-call timeout for SAP' })
  @IsInt()
  @Min(50)
  @Max(60_000)
  timeoutMs = 700;

  @Env('SAP_BATCH_MAX_CUSTOMERS', { doc: 'Most customers one batched SAP look-up carries (1 turns batching off); they go out as OData $batch calls of many queries, bounded by SAP_BATCH_MAX_OPERATIONS and SAP_BATCH_MAX_BYTES' })
  @IsInt()
  @Min(1)
  @Max(5000)
  batchMaxCustomers = 1000;

  @Env('SAP_QUERY_MAX_CUSTOMERS', { doc: 'Most customers one query inside a $batch names (an `or` chain); small enough that a query\'s open items usually fit one gateway page, so a batch needs one round' })
  @IsInt()
  @Min(1)
  @Max(500)
  queryMaxCustomers = 40;

  @Env('SAP_BATCH_MAX_OPERATIONS', { doc: 'Most queries (retrieve operations) in one OData $batch call; more go out as further $batch calls at the same time' })
  @IsInt()
  @Min(1)
  @Max(1000)
  batchMaxOperations = 50;

  @Env('SAP_BATCH_MAX_BYTES', { doc: 'Largest $batch request body sent to the gateway, in bytes (the ICM and any proxy in front bound request bodies); more queries go out as further $batch calls' })
  @IsInt()
  @Min(16_384)
  @Max(50_000_000)
  batchMaxBytes = 512_000;

  @Env('SAP_MAX_URL_BYTES', { doc: 'Longest request target sent to the SAP gateway; a batch is split below it, leaving room for the $skiptoken a gateway adds (8,192 bytes is a common gateway bound)' })
  @IsInt()
  @Min(1024)
  @Max(65_536)
  maxUrlBytes = 7000;

  @Env('SAP_RATE_LIMIT_PER_SEC', { doc: 'Calls per second to SAP, shared by all replicas' })
  @IsInt()
  @Min(1)
  @Max(10_000)
  ratePerSec = 20;

  get rateLimit(): RateLimit {
    return { points: this.ratePerSec, windowSec: 1 };
  }
}
