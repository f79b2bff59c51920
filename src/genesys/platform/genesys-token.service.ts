import { Inject, Injectable, Logger, type OnApplicationShutdown,Optional } from '@nestjs/common';
import type { AxiosInstance } from 'axios';

import { GenesysConfig } from '../../config/genesys.config.js';
import { Metrics } from '../../observability/metrics.js';
import { exponentialBackoff, withJitter } from '../../upstream/backoff.js';
import { requestClientCredentialsToken } from '../../upstream/client-credentials.js';
import { sleep, unlessAborted } from '../../upstream/timers.js';
import { type IssuedToken,TokenCache } from '../../upstream/token-cache.js';
import { isUpstreamError,UpstreamError } from '../../upstream/upstream-error.js';
import { createVendorHttp, destroyVendorHttp, retryAfterMs, statusError } from '../../upstream/vendor-http.js';
import { GENESYS_PLATFORM_CLOCK, type GenesysPlatformClock } from './genesys-clock.js';
import { GenesysPlatformConfig } from './genesys-platform.config.js';

const SOURCE = 'genesys';
/** Tries of one token request (the first plus two retries), for transient failures only. */
export const TOKEN_ATTEMPTS = 3;

/**
 * Client-credentials tokens of the service's own Genesys Cloud OAuth client (GENESYS_CLIENT_ID at
 * GENESYS_LOGIN_URL or login.<GENESYS_REGION>) for the Platform API. One token is fetched at a
 * time (concurrent callers share the request), refreshed in the background when less than
 * GENESYS_TOKEN_REFRESH_BEFORE_MS remains of `expires_in`, and forgotten when the API rejects it.
 * A token request that fails transiently (timeout, 5xx, 429) is tried again with jittered
 * exponential backoff (429: after its Retry-After), at most TOKEN_ATTEMPTS times.
 */
@Injectable()
export class GenesysTokenService implements OnApplicationShutdown {
  private readonly logger = new Logger(GenesysTokenService.name);
  private readonly shutdown = new AbortController();
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly http: AxiosInstance;
  private readonly cache: TokenCache;

  constructor(
    private readonly config: GenesysConfig,
    private readonly platform: GenesysPlatformConfig,
    @Optional() @Inject(GENESYS_PLATFORM_CLOCK) clock?: GenesysPlatformClock,
    @Optional() metrics?: Metrics,
  ) {
    this.now = clock?.now ?? Date.now;
    this.random = clock?.random ?? Math.random;
    this.http = createVendorHttp(config.resolvedLoginUrl, config.timeoutMs);
    this.cache = new TokenCache({
      now: this.now,
      refreshBeforeMs: platform.tokenRefreshBeforeMs,
      fetch: () => this.requestWithRetries(),
      onFetched: (outcome) => metrics?.tokenRefreshes.inc({ system: SOURCE, outcome }),
      onRefreshError: (err) =>
        this.logger.warn({ msg: 'background Genesys token refresh failed; the current token is used until it expires', source: SOURCE, clientId: config.clientId, kind: isUpstreamError(err) ? err.kind : 'unknown' }),
    });
  }

  /** Whether Platform API calls are configured at all (an empty GENESYS_CLIENT_ID disables them). */
  get enabled(): boolean {
    return this.config.clientId !== '';
  }

  /**
   * A valid access token. `signal` only stops this caller from waiting: the shared token request
   * carries on for the others.
   */
  async getToken(signal?: AbortSignal): Promise<string> {
    if (!this.enabled) throw new UpstreamError(SOURCE, 'auth', 'Platform API client not configured (GENESYS_CLIENT_ID is empty)');
    return unlessAborted(SOURCE, this.cache.get(), signal);
  }

  /** Drops `token` (the API answered 401 to it) so the next getToken fetches a new one. */
  invalidate(token: string): void {
    this.cache.invalidate(token);
  }

  onApplicationShutdown(): void {
    this.shutdown.abort();
    destroyVendorHttp(this.http);
  }

  private async requestWithRetries(): Promise<IssuedToken> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await requestClientCredentialsToken({
          source: SOURCE,
          http: this.http,
          tokenPath: '/oauth/token',
          clientId: this.config.clientId,
          clientSecret: this.config.clientSecret,
          style: 'basic',
          // a 429 keeps its Retry-After (the generic mapping would drop it)
          classifyError: (response) =>
            response.status === 429 ? new UpstreamError(SOURCE, 'rate_limited', 'token endpoint rate limited', 429, retryAfterMs(response, this.now())) : statusError(SOURCE, response),
        });
      } catch (err) {
        if (!isUpstreamError(err) || !err.transient || attempt >= TOKEN_ATTEMPTS || this.shutdown.signal.aborted) throw err;
        const delay = err.retryAfterMs !== undefined ? withJitter(err.retryAfterMs, this.random) : exponentialBackoff(this.platform.retryBaseMs, attempt - 1, this.random);
        this.logger.debug({ msg: 'Genesys token request failed; retrying', source: SOURCE, kind: err.kind, status: err.status, attempt, delayMs: delay });
        if (!(await sleep(delay, this.shutdown.signal))) throw err;
      }
    }
  }
}
