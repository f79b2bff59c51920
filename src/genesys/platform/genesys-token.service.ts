import { Inject, Injectable, Logger, Optional, type OnApplicationShutdown } from '@nestjs/common';
import type { AxiosInstance } from 'axios';
import { requestClientCredentialsToken } from '../../auth/credentials.factory.js';
import { TokenCache, type IssuedToken } from '../../auth/token-cache.js';
import { ConnectorError, isConnectorError } from '../../connectors/connector.errors.js';
import { Metrics } from '../../observability/metrics.js';
import { createVendorHttp, destroyVendorHttp, retryAfterMs, statusError } from '../../connectors/vendor-http.js';
import { sleep } from '../../resilience/deadline.js';
import { GenesysConfig } from '../genesys.config.js';
import { exponentialBackoff, GENESYS_PLATFORM_CLOCK, unlessAborted, withJitter, type GenesysPlatformClock } from './genesys-backoff.js';
import { GenesysPlatformConfig } from './genesys-platform.config.js';

const SOURCE = 'genesys';
/** Tries of one token request (the first plus two retries), for transient failures only. */
export const TOKEN_ATTEMPTS = 3;

/** An OAuth client of one Genesys Cloud org (login host + client credentials). */
export interface GenesysOAuthClient {
  loginUrl: string;
  clientId: string;
  clientSecret: string;
}

interface Entry {
  http: AxiosInstance;
  cache: TokenCache;
}

/**
 * Client-credentials tokens for the Genesys Cloud Platform API, one cache per (login URL, client id).
 * Each cache fetches one token at a time (concurrent callers share the request), refreshes in the
 * background when less than GENESYS_TOKEN_REFRESH_BEFORE_MS remains of `expires_in`, and forgets a
 * token the API rejected. A token request that fails transiently (timeout, 5xx, 429) is tried again
 * with jittered exponential backoff (429: after its Retry-After), at most TOKEN_ATTEMPTS times.
 */
@Injectable()
export class GenesysTokenService implements OnApplicationShutdown {
  private readonly logger = new Logger(GenesysTokenService.name);
  private readonly entries = new Map<string, Entry>();
  private readonly shutdown = new AbortController();
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(
    private readonly config: GenesysConfig,
    private readonly platform: GenesysPlatformConfig,
    @Optional() @Inject(GENESYS_PLATFORM_CLOCK) clock?: GenesysPlatformClock,
    @Optional() private readonly metrics?: Metrics,
  ) {
    this.now = clock?.now ?? Date.now;
    this.random = clock?.random ?? Math.random;
  }

  /** The configured org's OAuth client (GENESYS_LOGIN_URL or login.<GENESYS_REGION>, GENESYS_CLIENT_ID/SECRET). */
  get defaultClient(): GenesysOAuthClient {
    return { loginUrl: this.config.resolvedLoginUrl, clientId: this.config.clientId, clientSecret: this.config.clientSecret };
  }

  /** Whether Platform API calls are configured at all (an empty GENESYS_CLIENT_ID disables them). */
  get enabled(): boolean {
    return this.config.clientId !== '';
  }

  /**
   * A valid access token. `signal` only stops this caller from waiting: the shared token request
   * carries on for the others.
   */
  async getToken(signal?: AbortSignal, client: GenesysOAuthClient = this.defaultClient): Promise<string> {
    if (client.clientId === '') throw new ConnectorError(SOURCE, 'auth', 'Platform API client not configured (GENESYS_CLIENT_ID is empty)');
    return unlessAborted(SOURCE, this.entry(client).cache.get(), signal);
  }

  /** Drops `token` (the API answered 401 to it) so the next getToken fetches a new one. */
  invalidate(token: string, client: GenesysOAuthClient = this.defaultClient): void {
    this.entries.get(keyOf(client))?.cache.invalidate(token);
  }

  /** Whether an unexpired token is held (for health detail). */
  hasValidToken(client: GenesysOAuthClient = this.defaultClient): boolean {
    return this.entries.get(keyOf(client))?.cache.hasValidToken ?? false;
  }

  onApplicationShutdown(): void {
    this.shutdown.abort();
    for (const entry of this.entries.values()) destroyVendorHttp(entry.http);
    this.entries.clear();
  }

  private entry(client: GenesysOAuthClient): Entry {
    const key = keyOf(client);
    let entry = this.entries.get(key);
    if (!entry) {
      const http = createVendorHttp(client.loginUrl, this.config.timeoutMs);
      const cache = new TokenCache({
        now: this.now,
        refreshBeforeMs: this.platform.tokenRefreshBeforeMs,
        fetch: () => this.requestWithRetries(http, client),
        onFetched: (outcome) => this.metrics?.tokenRefreshes.inc({ system: SOURCE, outcome }),
        onRefreshError: (err) =>
          this.logger.warn({ msg: 'background Genesys token refresh failed; the current token is used until it expires', source: SOURCE, clientId: client.clientId, kind: isConnectorError(err) ? err.kind : 'unknown' }),
      });
      entry = { http, cache };
      this.entries.set(key, entry);
    }
    return entry;
  }

  private async requestWithRetries(http: AxiosInstance, client: GenesysOAuthClient): Promise<IssuedToken> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await requestClientCredentialsToken({
          source: SOURCE,
          http,
          tokenPath: '/oauth/token',
          clientId: client.clientId,
          clientSecret: client.clientSecret,
          style: 'basic',
          // a 429 keeps its Retry-After (the generic mapping would drop it)
          classifyError: (response) =>
            response.status === 429
              ? new ConnectorError(SOURCE, 'rate_limited', 'token endpoint rate limited', 429, retryAfterMs(response, this.now()))
              : statusError(SOURCE, response),
        });
      } catch (err) {
        if (!isConnectorError(err) || !err.transient || attempt >= TOKEN_ATTEMPTS || this.shutdown.signal.aborted) throw err;
        const delay = err.retryAfterMs !== undefined ? withJitter(err.retryAfterMs, this.random) : exponentialBackoff(this.platform.retryBaseMs, attempt - 1, this.random);
        this.logger.debug({ msg: 'Genesys token request failed; retrying', source: SOURCE, kind: err.kind, status: err.status, attempt, delayMs: delay });
        if (!(await sleep(delay, this.shutdown.signal))) throw err;
      }
    }
  }
}

function keyOf(client: GenesysOAuthClient): string {
  return `${client.loginUrl.replace(/\/+$/, '')}\n${client.clientId}`;
}
