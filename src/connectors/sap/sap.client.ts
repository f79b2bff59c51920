import { Injectable } from '@nestjs/common';
import type { AxiosResponse } from 'axios';

import { Resilient } from '../../resilience/resilient.decorator.js';
import { UpstreamError } from '../../upstream/upstream-error.js';
import type { VendorClient } from '../../upstream/vendor-client.js';
import { parseJson, send, statusError } from '../../upstream/vendor-http.js';
import { VendorClients } from '../vendor-clients.js';
import { SapConfig } from './sap.config.js';

const SOURCE = 'sap';

interface CsrfSession {
  token: string;
  cookie: string;
}

/** SAP OData V2 I/O with Basic authentication or OAuth (XSUAA); OData error envelopes mapped to typed errors. */
@Injectable()
export class SapClient {
  private readonly vendor: VendorClient;
  private csrf: CsrfSession | undefined;

  constructor(config: SapConfig, clients: VendorClients) {
    this.vendor = clients.create(SOURCE, {
      baseUrl: config.baseUrl,
      timeoutMs: config.timeoutMs,
      // XSUAA takes the client credentials in a Basic header; the token URL is absolute
      auth:
        config.authMode === 'oauth'
          ? { mode: 'client-credentials', tokenUrl: config.tokenUrl, clientId: config.oauthClientId, clientSecret: config.oauthClientSecret, style: 'basic' }
          : { mode: 'basic', username: config.username, password: config.password },
    });
  }

  /** GETs a URL (path + query, already encoded) and returns the parsed body; 404 resolves to undefined. */
  @Resilient(SOURCE, { settings: SapConfig })
  async get(url: string, signal: AbortSignal): Promise<unknown> {
    const response = await this.vendor.send({ method: 'GET', url, signal, headers: { accept: 'application/json' } });
    if (response.status === 200) return parseJson(SOURCE, response);
    if (response.status === 404) return undefined;
    throw statusError(SOURCE, response);
  }

  /**
   * PATCHes an entity with SAP's CSRF protection: the token and the session cookies from a
   * `X-CSRF-Token: Fetch` read go with the write, with `If-Match` set to the ETag that read
   * returned; on `403 X-CSRF-Token: Required` the token is fetched again once and the write retried,
   * and a 401 to a bearer token logs in again once (a new CSRF round trip goes with it).
   */
  @Resilient(SOURCE, { idempotent: false, settings: SapConfig })
  async patch(entityPath: string, body: Record<string, string>, signal: AbortSignal): Promise<void> {
    const { http, credentials } = this.vendor;
    for (let attempt = 0; attempt < 2; attempt++) {
      const auth = await credentials.authorize(signal);
      const { session, etag } = await this.fetchCsrf(entityPath, signal, attempt > 0 || this.csrf === undefined, auth.header);
      const response = await send(SOURCE, http, {
        method: 'PATCH',
        url: entityPath,
        data: JSON.stringify(body),
        signal,
        headers: {
          authorization: auth.header,
          accept: 'application/json',
          'content-type': 'application/json',
          'x-csrf-token': session.token,
          cookie: session.cookie,
          ...(etag ? { 'if-match': etag } : {}),
        },
      });
      if (response.status === 204 || response.status === 200) return;
      if (response.status === 403 && String(response.headers['x-csrf-token'] ?? '').toLowerCase() === 'required') {
        this.csrf = undefined;
        continue;
      }
      if (response.status === 401 && credentials.refused(auth)) continue;
      if (response.status === 404) throw new UpstreamError(SOURCE, 'not_found', 'entity not found', 404);
      if (response.status === 412) throw new UpstreamError(SOURCE, 'conflict', 'changed by someone else (ETag mismatch)', 412);
      throw statusError(SOURCE, response);
    }
    throw new UpstreamError(SOURCE, 'auth', 'CSRF token refused twice', 403);
  }

  /** Reads the entity with `X-CSRF-Token: Fetch` (reusing a known session unless `fresh`), returning the session and the ETag. */
  private async fetchCsrf(entityPath: string, signal: AbortSignal, fresh: boolean, authorization: string): Promise<{ session: CsrfSession; etag?: string }> {
    const headers: Record<string, string> = { authorization, accept: 'application/json' };
    if (fresh || !this.csrf) headers['x-csrf-token'] = 'Fetch';
    else headers.cookie = this.csrf.cookie;
    const separator = entityPath.includes('?') ? '&' : '?';
    const response = await send(SOURCE, this.vendor.http, { method: 'GET', url: `${entityPath}${separator}$format=json`, signal, headers });
    if (response.status === 404) throw new UpstreamError(SOURCE, 'not_found', 'entity not found', 404);
    if (response.status !== 200) throw statusError(SOURCE, response);
    if (headers['x-csrf-token'] === 'Fetch') {
      const token = response.headers['x-csrf-token'] as string | undefined;
      if (!token) throw new UpstreamError(SOURCE, 'bad_response', 'no CSRF token in the response');
      this.csrf = { token, cookie: cookiesOf(response) };
    }
    const etag = (response.headers.etag as string | undefined) ?? etagFromBody(parseJson(SOURCE, response));
    return { session: this.csrf as CsrfSession, etag };
  }
}

/** `Set-Cookie` headers → one `Cookie` header value (name=value pairs only). */
function cookiesOf(response: AxiosResponse): string {
  const raw = response.headers['set-cookie'] as string[] | string | undefined;
  const list = Array.isArray(raw) ? raw : raw ? [raw] : [];
  return list.map((c) => c.split(';')[0].trim()).filter((c) => c.includes('=')).join('; ');
}

function etagFromBody(body: unknown): string | undefined {
  const etag = (body as { d?: { __metadata?: { etag?: unknown } } } | null)?.d?.__metadata?.etag;
  return typeof etag === 'string' ? etag : undefined;
}
