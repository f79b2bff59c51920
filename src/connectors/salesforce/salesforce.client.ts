import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Resilient } from '../../resilience/resilient.decorator.js';
import type { AxiosInstance, AxiosResponse } from 'axios';
import { CredentialsFactory } from '../../auth/credentials.factory.js';
import type { TokenCache } from '../../auth/token-cache.js';
import { ConnectorError } from '../connector.errors.js';
import { createVendorHttp, destroyVendorHttp, parseJson, retryAfterMs, send, statusError } from '../vendor-http.js';
import { SalesforceConfig } from './salesforce.config.js';
import { errorCode, queryRecords, searchRecords } from './salesforce.mapper.js';

const SOURCE = 'salesforce';
const MAX_PAGES = 10;

/**
 * Salesforce REST I/O: client-credentials login (no expiry is given, so a 401 INVALID_SESSION_ID
 * means "log in again": once, then retry), SOQL with `nextRecordsUrl` paging, SOSL, and the
 * vendor's error array mapped to typed errors (403 REQUEST_LIMIT_EXCEEDED is rate limiting).
 */
@Injectable()
export class SalesforceClient implements OnApplicationShutdown {
  private readonly http: AxiosInstance;
  private readonly token: TokenCache;

  constructor(
    private readonly config: SalesforceConfig,
    credentials: CredentialsFactory,
  ) {
    this.http = createVendorHttp(config.loginUrl, config.timeoutMs);
    this.token = credentials.clientCredentials({
      source: SOURCE,
      http: this.http,
      tokenPath: '/services/oauth2/token',
      clientId: config.clientId,
      clientSecret: config.clientSecret,
      style: 'form',
      classifyError: (response) => this.error(response),
    });
  }
  onApplicationShutdown(): void {
    destroyVendorHttp(this.http);
  }


  /** Runs a SOQL query and follows `nextRecordsUrl` (bounded) to collect every record. */
  async query(soql: string, signal: AbortSignal): Promise<Record<string, unknown>[]> {
    const first = queryRecords(await this.get(this.queryTarget(soql), undefined, signal));
    const records = [...first.records];
    let next = first.nextRecordsUrl;
    for (let page = 1; next !== undefined && page < MAX_PAGES; page++) {
      const more = queryRecords(await this.get(next, undefined, signal));
      records.push(...more.records);
      next = more.nextRecordsUrl;
    }
    return records;
  }

  /** The request target a query is sent as, exactly (what the URI bound applies to). */
  queryTarget(soql: string): string {
    return `/services/data/${this.config.apiVersion}/query?q=${encodeURIComponent(soql)}`;
  }

  async search(sosl: string, signal: AbortSignal): Promise<Record<string, unknown>[]> {
    return searchRecords(await this.get(`/services/data/${this.config.apiVersion}/search/`, { q: sosl }, signal));
  }

  @Resilient('salesforce')
  private async get(url: string, params: Record<string, string> | undefined, signal: AbortSignal): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      const token = await this.token.get();
      const response = await send(SOURCE, this.http, { method: 'GET', url, params, signal, headers: { authorization: `Bearer ${token}`, accept: 'application/json' } });
      if (response.status === 200) return parseJson(SOURCE, response);
      const error = this.error(response);
      if (error.kind === 'auth' && response.status === 401 && attempt === 0) {
        this.token.invalidate(token); // session expired: log in again once
        continue;
      }
      throw error;
    }
  }

  private error(response: AxiosResponse<string>): ConnectorError {
    let code: string | undefined;
    try {
      code = errorCode(JSON.parse(response.data));
    } catch {
      code = undefined;
    }
    if (code === 'REQUEST_LIMIT_EXCEEDED') return new ConnectorError(SOURCE, 'rate_limited', 'API request limit exceeded', response.status, retryAfterMs(response));
    if (code === 'INVALID_SESSION_ID') return new ConnectorError(SOURCE, 'auth', 'session expired or invalid', response.status);
    if (code === 'MALFORMED_QUERY' || code === 'MALFORMED_SEARCH' || code === 'INVALID_FIELD') {
      return new ConnectorError(SOURCE, 'bad_request', `query rejected (${code})`, response.status);
    }
    return statusError(SOURCE, response);
  }
}
