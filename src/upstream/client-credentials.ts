import type { AxiosInstance, AxiosResponse } from 'axios';

import { basicHeader } from './credentials.js';
import { type IssuedToken,TokenCache } from './token-cache.js';
import { UpstreamError } from './upstream-error.js';
import { parseJson, send } from './vendor-http.js';

/** An OAuth2 client-credentials grant at one system's token endpoint. */
export interface ClientCredentials {
  source: string;
  http: AxiosInstance;
  /** Relative to the instance's base URL, or absolute (SAP's XSUAA token URL). */
  tokenPath: string;
  clientId: string;
  clientSecret: string;
  /** Where the client credentials go: the form body (Salesforce, ServiceNow) or a Basic header (SAP XSUAA, Genesys). */
  style: 'form' | 'basic';
  /** The vendor's reading of an error response (e.g. Salesforce's 403 REQUEST_LIMIT_EXCEEDED is rate limiting). */
  classifyError?: (response: AxiosResponse<string>) => UpstreamError;
}

export interface ClientCredentialsCacheOptions {
  /** Refresh in the background when less than this remains of a token's lifetime (default 60 s). */
  refreshBeforeMs?: number;
  now?: () => number;
  /** Told of every token request's outcome (metrics). */
  onFetched?: (outcome: 'ok' | 'error') => void;
}

/** A token cache fed by client-credentials grants: proactive refresh, one request at a time. */
export function clientCredentialsCache(c: ClientCredentials, options: ClientCredentialsCacheOptions = {}): TokenCache {
  return new TokenCache({ now: options.now, refreshBeforeMs: options.refreshBeforeMs ?? 60_000, fetch: () => requestClientCredentialsToken(c), onFetched: options.onFetched });
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
  if (response.status === 429) throw new UpstreamError(c.source, 'rate_limited', 'token endpoint rate limited', 429);
  if (response.status >= 500) throw new UpstreamError(c.source, 'unavailable', `token endpoint failed (${response.status})`, response.status);
  if (response.status !== 200) throw new UpstreamError(c.source, 'auth', `token request rejected (${response.status})`, response.status);
  const body = parseJson(c.source, response) as { access_token?: unknown; expires_in?: unknown };
  if (typeof body.access_token !== 'string' || body.access_token.length === 0) {
    throw new UpstreamError(c.source, 'bad_response', 'token response without access_token');
  }
  const expiresIn = typeof body.expires_in === 'number' ? body.expires_in : typeof body.expires_in === 'string' ? Number(body.expires_in) : undefined;
  return { accessToken: body.access_token, expiresInMs: expiresIn !== undefined && Number.isFinite(expiresIn) ? expiresIn * 1000 : undefined };
}
