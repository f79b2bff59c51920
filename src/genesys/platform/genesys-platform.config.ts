import { IsInt, Max, Min } from 'class-validator';

import { Env } from '../../config/env.decorator.js';
import type { RateLimit, ResilienceSettings } from '../../resilience/resilient.decorator.js';

/** Outbound Genesys Cloud Platform API (click-to-dial, conversations): token refresh, the vendor-specific retry budget and the rate limit. */
export class GenesysPlatformConfig implements ResilienceSettings {
  @Env('GENESYS_TOKEN_REFRESH_BEFORE_MS', { doc: 'Refresh the Platform API token in the background when less than this remains of its lifetime' })
  @IsInt()
  @Min(0)
  @Max(86_400_000)
  tokenRefreshBeforeMs = 300_000;

  @Env('GENESYS_API_MAX_RETRIES', { doc: 'Retries of a Platform API call after a 401 (re-authenticating) or a 429 (after Retry-After); then it fails' })
  @IsInt()
  @Min(0)
  @Max(10)
  apiMaxRetries = 3;

  @Env('GENESYS_RETRY_BASE_MS', { doc: 'Base of the jittered exponential backoff (base, 2×base, 4×base, …) of Platform API and token retries' })
  @IsInt()
  @Min(10)
  @Max(60_000)
  retryBaseMs = 1000;

  @Env('GENESYS_RATE_LIMIT_PER_MIN', { doc: 'Platform API calls per minute per OAuth client (Genesys default 300)' })
  @IsInt()
  @Min(1)
  @Max(100_000)
  ratePerMin = 300;

  get rateLimit(): RateLimit {
    return { points: this.ratePerMin, windowSec: 60 };
  }
}
