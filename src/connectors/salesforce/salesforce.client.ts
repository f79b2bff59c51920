import { Injectable } from '@nestjs/common';
import type { AxiosResponse } from 'axios';

import { Resilient } from '../../resilience/resilient.decorator.js';
import { UpstreamError } from '../../upstream/upstream-error.js';
import type { VendorClient } from '../../upstream/vendor-client.js';
import { parseJson, retryAfterMs, statusError } from '../../upstream/vendor-http.js';
import { VendorClients } from '../vendor-clients.js';
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
export class SalesforceClient {
  private readonly vendor: VendorClient;

  constructor(
    private readonly config: SalesforceConfig,
    clients: VendorClients,
  ) {
    this.vendor = clients.create(SOURCE, {
      enabled: config.enabled,
      auth: { mode: 'client-credentials', tokenUrl: '/services/oauth2/token', clientId: config.clientId, clientSecret: config.clientSecret, style: 'form', classifyError: (response) => this.error(response), resilientLogIn: (signal) => this.logIn(signal) },
    });
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

  /** The log-in, a call under Salesforce's policy like any other (VendorClients makes it at start-up). */
  @Resilient(SOURCE, { settings: SalesforceConfig })
  private async logIn(signal: AbortSignal): Promise<void> {
    await this.vendor.credentials.authorize(signal);
  }

  @Resilient(SOURCE, { settings: SalesforceConfig })
  private async get(url: string, params: Record<string, string> | undefined, signal: AbortSignal): Promise<unknown> {
    const response = await this.vendor.send({ method: 'GET', url, params, signal, headers: { accept: 'application/json' } });
    if (response.status === 200) return parseJson(SOURCE, response);
    throw this.error(response);
  }

  private error(response: AxiosResponse<string>): UpstreamError {
    let code: string | undefined;
    try {
      code = errorCode(JSON.parse(response.data));
    } catch {
      code = undefined;
    }
    if (code === 'REQUEST_LIMIT_EXCEEDED') return new UpstreamError(SOURCE, 'rate_limited', 'API request limit exceeded', response.status, retryAfterMs(response));
    if (code === 'INVALID_SESSION_ID') return new UpstreamError(SOURCE, 'auth', 'session expired or invalid', response.status);
    if (code === 'MALFORMED_QUERY' || code === 'MALFORMED_SEARCH' || code === 'INVALID_FIELD') {
      return new UpstreamError(SOURCE, 'bad_request', `query rejected (${code})`, response.status);
    }
    return statusError(SOURCE, response);
  }
}
