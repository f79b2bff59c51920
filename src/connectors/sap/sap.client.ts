import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Resilient } from '../../resilience/resilient.decorator.js';
import type { AxiosInstance, AxiosResponse } from 'axios';
import { ConnectorError } from '../connector.errors.js';
import { basicHeader, CredentialsFactory } from '../../auth/credentials.factory.js';
import type { TokenCache } from '../../auth/token-cache.js';
import { createVendorHttp, destroyVendorHttp, parseJson, send, statusError } from '../vendor-http.js';
import { SapConfig } from './sap.config.js';

const SOURCE = 'sap';

interface CsrfSession {
  token: string;
  cookie: string;
}

/** SAP OData V2 I/O with Basic authentication; OData error envelopes mapped to typed errors. */
@Injectable()
export class SapClient implements OnApplicationShutdown {
  private readonly http: AxiosInstance;
  private readonly basic: string | undefined;
  private readonly token: TokenCache | undefined;

  constructor(config: SapConfig, credentials: CredentialsFactory) {
    this.http = createVendorHttp(config.baseUrl, config.timeoutMs);
    if (config.authMode === 'oauth') {
      // XSUAA takes the client credentials in a Basic header; the token URL is absolute
      this.token = credentials.clientCredentials({ source: SOURCE, http: this.http, tokenPath: config.tokenUrl, clientId: config.oauthClientId, clientSecret: config.oauthClientSecret, style: 'basic' });
    } else {
      this.basic = basicHeader(config.username, config.password);
    }
  }

  /** The Authorization header for the next request, and the token it carries (to drop it on a 401). */
  private async authorization(): Promise<{ header: string; token?: string }> {
    if (!this.token) return { header: this.basic as string };
    const token = await this.token.get();
    return { header: `Bearer ${token}`, token };
  }

  /** A 401 on a Bearer token: forget it so the retry logs in again (true when a retry makes sense). */
  private rejected(status: number, token: string | undefined): boolean {
    if (status !== 401 || token === undefined || !this.token) return false;
    this.token.invalidate(token);
    return true;
  }
  onApplicationShutdown(): void {
    destroyVendorHttp(this.http);
  }


  private csrf: CsrfSession | undefined;

  /** GETs a URL (path + query, already encoded) and returns the parsed body; 404 resolves to undefined. */
  @Resilient('sap')
  async get(url: string, signal: AbortSignal): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      const auth = await this.authorization();
      const response = await send(SOURCE, this.http, { method: 'GET', url, signal, headers: { authorization: auth.header, accept: 'application/json' } });
      if (response.status === 200) return parseJson(SOURCE, response);
      if (response.status === 404) return undefined;
      if (attempt === 0 && this.rejected(response.status, auth.token)) continue;
      throw statusError(SOURCE, response);
    }
  }

  /**
   * PATCHes an entity with SAP's CSRF protection: the token and the session cookies from a
   * `X-CSRF-Token: Fetch` read go with the write, with `If-Match` set to the ETag that read
   * returned; on `403 X-CSRF-Token: Required` the token is fetched again once and the write retried.
   */
  @Resilient('sap', { idempotent: false })
  async patch(entityPath: string, body: Record<string, string>, signal: AbortSignal): Promise<void> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const auth = await this.authorization();
      const { session, etag } = await this.fetchCsrf(entityPath, signal, attempt > 0 || this.csrf === undefined, auth.header);
      const response = await send(SOURCE, this.http, {
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
      if (this.rejected(response.status, auth.token)) continue;
      if (response.status === 404) throw new ConnectorError(SOURCE, 'not_found', 'entity not found', 404);
      if (response.status === 412) throw new ConnectorError(SOURCE, 'conflict', 'changed by someone else (ETag mismatch)', 412);
      throw statusError(SOURCE, response);
    }
    throw new ConnectorError(SOURCE, 'auth', 'CSRF token refused twice', 403);
  }

  /** Reads the entity with `X-CSRF-Token: Fetch` (reusing a known session unless `fresh`), returning the session and the ETag. */
  private async fetchCsrf(entityPath: string, signal: AbortSignal, fresh: boolean, authorization: string): Promise<{ session: CsrfSession; etag?: string }> {
    const headers: Record<string, string> = { authorization, accept: 'application/json' };
    if (fresh || !this.csrf) headers['x-csrf-token'] = 'Fetch';
    else headers.cookie = this.csrf.cookie;
    const separator = entityPath.includes('?') ? '&' : '?';
    const response = await send(SOURCE, this.http, { method: 'GET', url: `${entityPath}${separator}$format=json`, signal, headers });
    if (response.status === 404) throw new ConnectorError(SOURCE, 'not_found', 'entity not found', 404);
    if (response.status !== 200) throw statusError(SOURCE, response);
    if (headers['x-csrf-token'] === 'Fetch') {
      const token = response.headers['x-csrf-token'] as string | undefined;
      if (!token) throw new ConnectorError(SOURCE, 'bad_response', 'no CSRF token in the response');
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
