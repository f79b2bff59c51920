import { Injectable, Optional } from '@nestjs/common';
import { Metrics } from '../observability/metrics.js';
import type { AxiosInstance, AxiosResponse } from 'axios';
import { ConnectorError } from '../connectors/connector.errors.js';
import { parseJson, send } from '../connectors/vendor-http.js';
import { TokenCache, type IssuedToken } from './token-cache.js';

export interface ClientCredentials {
  source: string;
  http: AxiosInstance;
  tokenPath: string;
  clientId: string;
  clientSecret: string;
  /** Where the client credentials go: the form body (Salesforce, ServiceNow) or a Basic header (Genesys). */
  style: 'form' | 'basic';
  refreshBeforeMs?: number;
  /** The vendor's reading of an error response (e.g. Salesforce's 403 REQUEST_LIMIT_EXCEEDED is rate limiting). */
  classifyError?: (response: AxiosResponse<string>) => ConnectorError;
}

/** A header value for HTTP Basic authentication. */
export function basicHeader(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}

/**
 * Builds the credential sources the connectors use: OAuth2 client-credentials token caches with
 * proactive refresh and single-flight, and Basic headers.
 */
@Injectable()
export class CredentialsFactory {
  constructor(@Optional() private readonly metrics?: Metrics) {}

  clientCredentials(c: ClientCredentials, now?: () => number): TokenCache {
    return new TokenCache({
      now,
      refreshBeforeMs: c.refreshBeforeMs ?? 60_000,
      fetch: () => requestClientCredentialsToken(c),
      onFetched: (outcome) => this.metrics?.tokenRefreshes.inc({ system: c.source, outcome }),
    });
  }
}

/** One client-credentials token request; maps the vendors' token responses to an IssuedToken. */
export async function requestClientCredentialsToken(c: ClientCredentials): Promise<IssuedToken> {
  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  if (c.style === 'form') {
    form.set('client_id', c.clientId);
    form.set('client_secret', c.clientSecret);
  } else {
    headers.authorization = basicHeader(c.clientId, c.clientSecret);
  }
  const response = await send(c.source, c.http, { method: 'POST', url: c.tokenPath, data: form.toString(), headers });
  if (response.status !== 200) {
    const classified = c.classifyError?.(response);
    if (classified?.kind === 'rate_limited') throw classified;
  }
  if (response.status === 429) throw new ConnectorError(c.source, 'rate_limited', 'token endpoint rate limited', 429);
  if (response.status >= 500) throw new ConnectorError(c.source, 'unavailable', `token endpoint failed (${response.status})`, response.status);
  if (response.status !== 200) throw new ConnectorError(c.source, 'auth', `token request rejected (${response.status})`, response.status);
  const body = parseJson(c.source, response) as { access_token?: unknown; expires_in?: unknown };
  if (typeof body.access_token !== 'string' || body.access_token.length === 0) {
    throw new ConnectorError(c.source, 'bad_response', 'token response without access_token');
  }
  const expiresIn = typeof body.expires_in === 'number' ? body.expires_in : typeof body.expires_in === 'string' ? Number(body.expires_in) : undefined;
  return { accessToken: body.access_token, expiresInMs: expiresIn !== undefined && Number.isFinite(expiresIn) ? expiresIn * 1000 : undefined };
}
