import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Resilient } from '../../resilience/resilient.decorator.js';
import type { AxiosInstance, AxiosResponse } from 'axios';
import { ConnectorError } from '../connector.errors.js';
import { basicHeader } from '../../auth/credentials.factory.js';
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
  private readonly authorization: string;

  constructor(config: SapConfig) {
    this.http = createVendorHttp(config.baseUrl, config.timeoutMs);
    this.authorization = basicHeader(config.username, config.password);
  }
  onApplicationShutdown(): void {
    destroyVendorHttp(this.http);
  }


  private csrf: CsrfSession | undefined;

  /** GETs a URL (path + query, already encoded) and returns the parsed body; 404 resolves to undefined. */
  @Resilient('sap')
  async get(url: string, signal: AbortSignal): Promise<unknown> {
    const response = await send(SOURCE, this.http, { method: 'GET', url, signal, headers: { authorization: this.authorization, accept: 'application/json' } });
    if (response.status === 200) return parseJson(SOURCE, response);
    if (response.status === 404) return undefined;
    throw statusError(SOURCE, response);
  }

  /**
   * PATCHes an entity with SAP's CSRF protection: the token and the session cookies from a
   * `X-CSRF-Token: Fetch` read go with the write, with `If-Match` set to the ETag that read
   * returned; on `403 X-CSRF-Token: Required` the token is fetched again once and the write retried.
   */
  @Resilient('sap', { idempotent: false })
  async patch(entityPath: string, body: Record<string, string>, signal: AbortSignal): Promise<void> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const { session, etag } = await this.fetchCsrf(entityPath, signal, attempt > 0 || this.csrf === undefined);
      const response = await send(SOURCE, this.http, {
        method: 'PATCH',
        url: entityPath,
        data: JSON.stringify(body),
        signal,
        headers: {
          authorization: this.authorization,
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
      if (response.status === 404) throw new ConnectorError(SOURCE, 'not_found', 'entity not found', 404);
      if (response.status === 412) throw new ConnectorError(SOURCE, 'conflict', 'changed by someone else (ETag mismatch)', 412);
      throw statusError(SOURCE, response);
    }
    throw new ConnectorError(SOURCE, 'auth', 'CSRF token refused twice', 403);
  }

  /** Reads the entity with `X-CSRF-Token: Fetch` (reusing a known session unless `fresh`), returning the session and the ETag. */
  private async fetchCsrf(entityPath: string, signal: AbortSignal, fresh: boolean): Promise<{ session: CsrfSession; etag?: string }> {
    const headers: Record<string, string> = { authorization: this.authorization, accept: 'application/json' };
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
