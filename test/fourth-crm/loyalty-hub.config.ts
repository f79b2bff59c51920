import { IsBoolean, IsInt, IsString, IsUrl, Max, Min, MinLength, ValidateIf } from 'class-validator';

import { Env } from '../../src/config/env.decorator.js';
import type { ConnectorSettings } from '../../src/connectors/connector.js';
import type { RateLimit } from '../../src/resilience/resilient.decorator.js';

/** The test-only fourth system's own settings: the same shape every connector's configuration has. */
export class LoyaltyHubConfig implements ConnectorSettings {
  @Env('LOYALTYHUB_ENABLED', { doc: 'Call the Loyalty Hub at all' })
  @IsBoolean()
  enabled = true;

  @Env('LOYALTYHUB_BASE_URL', { doc: 'Base URL of the Loyalty Hub API' })
  @ValidateIf((c: LoyaltyHubConfig) => c.enabled)
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  baseUrl = '';

  @Env('LOYALTYHUB_USERNAME', { doc: 'Integration user (Basic auth)' })
  @ValidateIf((c: LoyaltyHubConfig) => c.enabled)
  @IsString()
  @MinLength(1)
  username = '';

  @Env('LOYALTYHUB_PASSWORD', { doc: 'Its password', secret: true })
  @ValidateIf((c: LoyaltyHubConfig) => c.enabled)
  @IsString()
  @MinLength(1)
  password = '';

  @Env('LOYALTYHUB_TIMEOUT_MS', { doc: 'Per-call timeout for the Loyalty Hub' })
  @IsInt()
  @Min(50)
  @Max(60_000)
  timeoutMs = 700;

  @Env('LOYALTYHUB_RATE_LIMIT_PER_SEC', { doc: 'Calls per second to the Loyalty Hub, shared by all replicas' })
  @IsInt()
  @Min(1)
  @Max(10_000)
  ratePerSec = 10;

  get rateLimit(): RateLimit {
    return { points: this.ratePerSec, windowSec: 1 };
  }
}
