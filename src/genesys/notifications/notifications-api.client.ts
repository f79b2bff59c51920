import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { AxiosInstance, AxiosRequestConfig, AxiosResponse } from 'axios';
import { ConnectorError } from '../../connectors/connector.errors.js';
import { createVendorHttp, destroyVendorHttp, expectShape, parseJson, send, statusError } from '../../connectors/vendor-http.js';
import { Deadline } from '../../resilience/deadline.js';
import { Resilient } from '../../resilience/resilient.decorator.js';
import { GenesysConfig } from '../genesys.config.js';
import { GenesysTokenService } from '../platform/genesys-token.service.js';

const SOURCE = 'genesys';
/** Queues per page when listing them all (a page is one Platform API call). */
const QUEUE_PAGE_SIZE = 100;
/** A listing longer than this many pages is cut (2,000 pages of 100: far past any organization). */
const MAX_QUEUE_PAGES = 2000;

/** A notification channel (`POST /api/v2/notifications/channels`). */
export interface NotificationChannel {
  id: string;
  /** `wss://streaming.<region>/channels/<id>`: whoever has it receives the channel's events, so it is never logged. */
  connectUri: string;
  /** Epoch ms when Genesys ends the channel (24 h after its creation or last subscription). */
  expiresAt: number;
}

/** Topics Genesys did not subscribe (`state: Rejected`), with its reason. */
export interface SubscriptionResult {
  rejected: Array<{ topic: string; reason: string }>;
}

/**
 * The Notifications API and the routing queue list, called with the service's own OAuth client.
 * Every call is one Platform API call under the 'genesys' policy (shared per-minute limit, breaker);
 * a token Genesys rejects (401) is dropped and the call made once more with a new one.
 *
 * Permissions the OAuth client's role needs: see README "Pre-fetch before the agent answers".
 */
@Injectable()
export class NotificationsApiClient implements OnApplicationShutdown {
  private readonly http: AxiosInstance;

  constructor(
    private readonly config: GenesysConfig,
    private readonly tokens: GenesysTokenService,
  ) {
    this.http = createVendorHttp(config.resolvedApiUrl, config.timeoutMs, 8);
  }

  onApplicationShutdown(): void {
    destroyVendorHttp(this.http);
  }

  get enabled(): boolean {
    return this.tokens.enabled;
  }

  /** A signal carrying this client's timeout as the call's deadline. */
  signal(): AbortSignal {
    return Deadline.after(this.config.timeoutMs).signal; // its timer ends itself at the timeout
  }

  /** `POST /api/v2/notifications/channels` → a new channel. Not retried by the policy (a retry would make another channel). */
  @Resilient('genesys', { idempotent: false })
  async createChannel(signal?: AbortSignal): Promise<NotificationChannel> {
    const response = await this.call({ method: 'POST', url: '/api/v2/notifications/channels', data: '{}', headers: { 'content-type': 'application/json' } }, signal);
    if (response.status !== 200 && response.status !== 201) throw statusError(SOURCE, response);
    const body = parseJson(SOURCE, response) as Record<string, unknown> | null;
    const id = body?.id;
    const connectUri = body?.connectUri;
    expectShape(SOURCE, typeof id === 'string' && id !== '' && typeof connectUri === 'string' && /^wss?:\/\//.test(connectUri), 'id, connectUri');
    const expires = typeof body?.expires === 'string' ? Date.parse(body.expires) : Number.NaN;
    // Genesys documents 24 h; without a readable date, assume it
    return { id, connectUri, expiresAt: Number.isNaN(expires) ? Date.now() + 24 * 3_600_000 : expires };
  }

  /**
   * `PUT …/channels/{id}/subscriptions?ignoreErrors=true`: the channel's topics become exactly
   * `topics` (a subscription call also extends the channel's life). A topic Genesys refuses (a queue
   * the client may not see) is reported instead of failing the others. A channel Genesys no longer
   * has is a `not_found` ConnectorError.
   */
  @Resilient('genesys')
  async subscribe(channelId: string, topics: string[], signal?: AbortSignal): Promise<SubscriptionResult> {
    const response = await this.call(
      {
        method: 'PUT',
        url: `/api/v2/notifications/channels/${encodeURIComponent(channelId)}/subscriptions`,
        params: { ignoreErrors: 'true' },
        data: JSON.stringify(topics.map((id) => ({ id }))),
        headers: { 'content-type': 'application/json' },
      },
      signal,
    );
    if (response.status !== 200) throw statusError(SOURCE, response);
    const body = parseJson(SOURCE, response) as { entities?: unknown } | null;
    const entities = Array.isArray(body?.entities) ? body.entities : [];
    const rejected = entities
      .filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null && (e as Record<string, unknown>).state === 'Rejected')
      .map((e) => ({ topic: String(e.id), reason: typeof e.rejectionReason === 'string' ? e.rejectionReason : 'rejected' }));
    return { rejected };
  }

  /** Ids of one page of `GET /api/v2/routing/queues` (pages from 1), and how many pages there are. */
  @Resilient('genesys')
  async queuePage(pageNumber: number, signal?: AbortSignal): Promise<{ ids: string[]; pageCount: number }> {
    const response = await this.call({ method: 'GET', url: '/api/v2/routing/queues', params: { pageSize: String(QUEUE_PAGE_SIZE), pageNumber: String(pageNumber) } }, signal);
    if (response.status !== 200) throw statusError(SOURCE, response);
    const body = parseJson(SOURCE, response) as { entities?: unknown; pageCount?: unknown } | null;
    expectShape(SOURCE, Array.isArray(body?.entities), 'entities');
    const ids = (body.entities as unknown[]).map((q) => (typeof q === 'object' && q !== null ? (q as { id?: unknown }).id : undefined)).filter((id): id is string => typeof id === 'string' && id !== '');
    const pageCount = typeof body.pageCount === 'number' && Number.isInteger(body.pageCount) ? body.pageCount : pageNumber;
    return { ids, pageCount };
  }

  /** Every queue id of the organization, page by page (each page under its own deadline). */
  async allQueueIds(): Promise<string[]> {
    const ids: string[] = [];
    for (let page = 1; page <= MAX_QUEUE_PAGES; page++) {
      const { ids: more, pageCount } = await this.queuePage(page, this.signal());
      ids.push(...more);
      if (page >= pageCount || more.length === 0) break;
    }
    return [...new Set(ids)];
  }

  private async call(request: AxiosRequestConfig, signal: AbortSignal | undefined): Promise<AxiosResponse<string>> {
    for (let attempt = 0; ; attempt++) {
      const token = await this.tokens.getToken(signal);
      const response = await send(SOURCE, this.http, { ...request, signal, headers: { ...(request.headers as Record<string, string>), authorization: `Bearer ${token}`, accept: 'application/json' } });
      if (response.status === 401 && attempt === 0) {
        this.tokens.invalidate(token);
        continue;
      }
      if (response.status === 401) throw new ConnectorError(SOURCE, 'auth', 'authentication rejected (401)', 401);
      return response;
    }
  }
}
