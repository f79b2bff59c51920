import { IsBoolean, IsIn, IsInt, IsString, IsUrl, Matches, Max, Min, MinLength, ValidateIf } from 'class-validator';

import { Env } from '../../config/env.decorator.js';
import type { RateLimit } from '../../resilience/resilient.decorator.js';
import type { ConnectorSettings } from '../connector.js';

export class ServiceNowConfig implements ConnectorSettings {
  @Env('SERVICENOW_ENABLED', { doc: 'Call ServiceNow at all' })
  @IsBoolean()
  enabled = true;

  @Env('SERVICENOW_BASE_URL', { doc: 'Instance URL, e.g. https://acme.service-now.com' })
  @ValidateIf((c: ServiceNowConfig) => c.enabled)
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  baseUrl = '';

  @Env('SERVICENOW_AUTH', { doc: 'basic or oauth (client credentials against /oauth_token.do)' })
  @IsIn(['basic', 'oauth'])
  authMode: 'basic' | 'oauth' = 'basic';

  @Env('SERVICENOW_USERNAME', { doc: 'Integration user (Basic auth)' })
  @ValidateIf((c: ServiceNowConfig) => c.enabled && c.authMode === 'basic')
  @IsString()
  @MinLength(1)
  username = '';

  @Env('SERVICENOW_PASSWORD', { doc: 'Integration user password (Basic auth)', secret: true })
  @ValidateIf((c: ServiceNowConfig) => c.enabled && c.authMode === 'basic')
  @IsString()
  @MinLength(1)
  password = '';

  @Env('SERVICENOW_CLIENT_ID', { doc: 'OAuth client id (oauth mode)' })
  @ValidateIf((c: ServiceNowConfig) => c.enabled && c.authMode === 'oauth')
  @IsString()
  @MinLength(1)
  clientId = '';

  @Env('SERVICENOW_CLIENT_SECRET', { doc: 'OAuth client secret (oauth mode)', secret: true })
  @ValidateIf((c: ServiceNowConfig) => c.enabled && c.authMode === 'oauth')
  @IsString()
  @MinLength(1)
  clientSecret = '';

  @Env('SERVICENOW_CUSTOMER_NUMBER_FIELD', { doc: 'core_company field holding the enterprise customer number' })
  @Matches(/^[a-z][a-z0-9_]{0,79}$/)
  customerNumberField = 'u_customer_number';

  @Env('SERVICENOW_TIMEOUT_MS', { doc: 'Per-call timeout for ServiceNow' })
  @IsInt()
  @Min(50)
  @Max(60_000)
  timeoutMs = 700;

  @Env('SERVICENOW_BATCH_MAX_CUSTOMERS', { doc: 'Most customers one ServiceNow call carries when look-ups are batched (1 turns batching off); 500 ten-character customer numbers fit SERVICENOW_MAX_URL_BYTES, far below the 10,000 rows and 5 MB of one answer' })
  @IsInt()
  @Min(1)
  @Max(2000)
  batchMaxCustomers = 500;

  @Env('SERVICENOW_MAX_URL_BYTES', { doc: 'Longest request target sent to ServiceNow; a batch is split below it (8,192 bytes is the conservative bound)' })
  @IsInt()
  @Min(1024)
  @Max(65_536)
  maxUrlBytes = 7500;

  @Env('SERVICENOW_RATE_LIMIT_PER_SEC', { doc: 'Calls per second to ServiceNow, shared by all replicas' })
  @IsInt()
  @Min(1)
  @Max(10_000)
  ratePerSec = 10;

  get rateLimit(): RateLimit {
    return { points: this.ratePerSec, windowSec: 1 };
  }
}
