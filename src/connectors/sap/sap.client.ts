import { Injectable } from '@nestjs/common';
import type { AxiosResponse } from 'axios';

import { Resilient } from '../../resilience/resilient.decorator.js';
import { UpstreamError } from '../../upstream/upstream-error.js';
import type { VendorClient } from '../../upstream/vendor-client.js';
import { parseJson, send, statusError } from '../../upstream/vendor-http.js';
import { queryString } from '../query-string.js';
import { VendorClients } from '../vendor-clients.js';
import { buildBatch, parseBatchResponse } from './sap.batch.js';
import { SapConfig } from './sap.config.js';

const SOURCE = 'sap';

interface CsrfSession {
  token: string;
  cookie: string;
}

/** One retrieve operation's answer in a `$batch`: its parsed body (undefined for a 404), or why it has none. */
export type BatchAnswer = { body: unknown } | { error: UpstreamError };

/** SAP OData V2 I/O with Basic authentication or OAuth (XSUAA); OData error envelopes mapped to typed errors. */
@Injectable()
export class SapClient {
  private readonly vendor: VendorClient;
  private csrf: CsrfSession | undefined;
  /** A CSRF fetch for `$batch` in flight: concurrent batches wait for the same one. */
  private csrfFetch: Promise<CsrfSession> | undefined;
  private readonly sapClient: string;

  constructor(config: SapConfig, clients: VendorClients) {
    this.sapClient = config.sapClient;
    this.vendor = clients.create(SOURCE, {
      enabled: config.enabled,
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
   * Many GETs of one service in one `POST <service>/$batch` (OData V2 multipart/mixed, retrieve
   * operations outside change sets, which the gateway runs in parallel); one answer per URL, in
   * order. A refused operation is its own answer (`error`), not a failure of the call; the call
   * fails when the batch as a whole is refused or its answer cannot be read. A POST needs the
   * CSRF token: the one this client holds (PATCH shares it), else fetched on the service root;
   * `403 X-CSRF-Token: Required` fetches a new one once.
   */
  @Resilient(SOURCE, { settings: SapConfig })
  async batch(servicePath: string, urls: readonly string[], signal: AbortSignal): Promise<BatchAnswer[]> {
    const prefix = `${servicePath}/`;
    const relative = urls.map((url) => {
      if (!url.startsWith(prefix)) throw new RangeError(`${url} is not a resource of ${servicePath}`);
      return url.slice(prefix.length);
    });
    const { http, credentials } = this.vendor;
    const client = queryString([['sap-client', this.sapClient]]);
    for (let attempt = 0; attempt < 2; attempt++) {
      const auth = await credentials.authorize(signal);
      const session = attempt === 0 && this.csrf ? this.csrf : await this.batchCsrf(`${prefix}?${client}`, signal, auth.header);
      const { contentType, body } = buildBatch(relative);
      const response = await send(SOURCE, http, {
        method: 'POST',
        url: `${prefix}$batch?${client}`,
        data: body,
        signal,
        headers: { authorization: auth.header, accept: 'multipart/mixed', 'content-type': contentType, 'x-csrf-token': session.token, cookie: session.cookie },
      });
      if (response.status === 202 || response.status === 200) {
        return parseBatchResponse(response.headers['content-type'] as string | undefined, response.data, urls.length).map((part) => answerOf(part.status, part.headers, part.body));
      }
      if (response.status === 403 && String(response.headers['x-csrf-token'] ?? '').toLowerCase() === 'required') {
        if (this.csrf === session) this.csrf = undefined;
        continue;
      }
      if (response.status === 401 && credentials.refused(auth)) continue;
      throw statusError(SOURCE, response);
    }
    throw new UpstreamError(SOURCE, 'auth', 'CSRF token refused twice', 403);
  }

  /** Whether a CSRF session is held, so a `$batch` can go without fetching one first. */
  get hasCsrfSession(): boolean {
    return this.csrf !== undefined;
  }

  /**
   * Fetches the CSRF session `$batch` calls need, as a call of its own: it counts against SAP's
   * rate limit like any other call (inside `batch` it would ride on the batch's one slot). Shared
   * by the batches that need it at once.
   */
  @Resilient(SOURCE, { settings: SapConfig })
  async openCsrfSession(servicePath: string, signal: AbortSignal): Promise<void> {
    if (this.csrf) return;
    const auth = await this.vendor.credentials.authorize(signal);
    await this.batchCsrf(`${servicePath}/?${queryString([['sap-client', this.sapClient]])}`, signal, auth.header);
  }

  /** A new CSRF session from the service root (one fetch shared by batches that need it at once). */
  private batchCsrf(serviceRoot: string, signal: AbortSignal, authorization: string): Promise<CsrfSession> {
    this.csrfFetch ??= this.fetchCsrf(serviceRoot, signal, true, authorization)
      .then(({ session }) => session)
      .finally(() => {
        this.csrfFetch = undefined;
      });
    return this.csrfFetch;
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

/** A part's status and body → the operation's answer, judged as the same GET on its own would be. */
function answerOf(status: number, headers: Record<string, string>, body: string): BatchAnswer {
  if (status === 404) return { body: undefined };
  if (status !== 200) return { error: statusError(SOURCE, { status, headers, data: body } as unknown as AxiosResponse) };
  try {
    return { body: JSON.parse(body) as unknown };
  } catch (err) {
    return { error: new UpstreamError(SOURCE, 'bad_response', 'a $batch answer is not valid JSON', status, undefined, { cause: err }) };
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
