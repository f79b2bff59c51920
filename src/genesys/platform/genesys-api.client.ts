import { Inject, Injectable, Logger, Optional, type OnApplicationShutdown } from '@nestjs/common';
import type { AxiosInstance } from 'axios';
import { ConnectorError } from '../../connectors/connector.errors.js';
import { createVendorHttp, destroyVendorHttp, expectShape, parseJson, retryAfterMs, send, statusError } from '../../connectors/vendor-http.js';
import { deadlineOf, sleep } from '../../resilience/deadline.js';
import { Resilient } from '../../resilience/resilient.decorator.js';
import { GenesysConfig } from '../genesys.config.js';
import { cancelled, exponentialBackoff, GENESYS_PLATFORM_CLOCK, withJitter, type GenesysPlatformClock } from './genesys-backoff.js';
import { GenesysPlatformConfig } from './genesys-platform.config.js';
import { GenesysTokenService } from './genesys-token.service.js';

const SOURCE = 'genesys';

export interface CreatedCall {
  /** The placed call's conversation id (`id` of Genesys's CreateCallResponse). */
  conversationId: string;
}

/** The part of a Genesys conversation (`GET /api/v2/conversations/{id}`) this service reads. */
export interface ConversationParticipants {
  conversationId: string;
  participants: Array<{ purpose?: string; ani?: string; address?: string }>;
}

/**
 * Genesys Cloud Platform API calls made by this service (click-to-dial, and reading a conversation
 * to find the caller for the agent side panel).
 *
 * The vendor-specific part of resilience lives here, because the generic policy never retries a
 * write: a 401 means the token was not accepted (the call was not placed), so the token is
 * discarded and the call retried with a fresh one after base, 2×base, 4×base (+ jitter); a 429 means
 * the call was refused, so it is retried after its Retry-After (+ jitter). Both share one budget of
 * GENESYS_API_MAX_RETRIES retries. Anything else — including timeouts and 5xx, after which a call
 * may have been placed — is not retried here.
 */
@Injectable()
export class GenesysApiClient implements OnApplicationShutdown {
  private readonly logger = new Logger(GenesysApiClient.name);
  private readonly http: AxiosInstance;
  private readonly random: () => number;

  constructor(
    config: GenesysConfig,
    private readonly platform: GenesysPlatformConfig,
    private readonly tokens: GenesysTokenService,
    @Optional() @Inject(GENESYS_PLATFORM_CLOCK) clock?: GenesysPlatformClock,
  ) {
    this.http = createVendorHttp(config.resolvedApiUrl, config.timeoutMs);
    this.random = clock?.random ?? Math.random;
  }

  onApplicationShutdown(): void {
    destroyVendorHttp(this.http);
  }

  /** False when no Genesys OAuth client is configured (Platform API calls are then disabled). */
  get enabled(): boolean {
    return this.tokens.enabled;
  }

  /** Places an outbound call to `phoneNumber` (`POST /api/v2/conversations/calls` → CreateCallResponse). */
  @Resilient('genesys', { idempotent: false })
  async createCall(phoneNumber: string, signal?: AbortSignal): Promise<CreatedCall> {
    const body = JSON.stringify({ phoneNumber });
    for (let retry = 0; ; retry++) {
      const token = await this.tokens.getToken(signal);
      const response = await send(SOURCE, this.http, {
        method: 'POST',
        url: '/api/v2/conversations/calls',
        data: body,
        signal,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json' },
      });
      if (response.status >= 200 && response.status < 300) {
        // Genesys answers a CreateCallResponse {id, name?, selfUri}: `id` is the new conversation's id
        const parsed = parseJson(SOURCE, response) as { id?: unknown } | null;
        const conversationId = parsed?.id;
        expectShape(SOURCE, typeof conversationId === 'string' && conversationId !== '', 'id');
        return { conversationId };
      }

      let error: ConnectorError;
      let delay: number;
      if (response.status === 401) {
        this.tokens.invalidate(token);
        error = new ConnectorError(SOURCE, 'auth', `authentication rejected (401) after ${retry} ${retry === 1 ? 'retry' : 'retries'}`, 401);
        delay = exponentialBackoff(this.platform.retryBaseMs, retry, this.random);
      } else if (response.status === 429) {
        const after = retryAfterMs(response, Date.now());
        error = new ConnectorError(SOURCE, 'rate_limited', 'rate limited (429)', 429, after);
        delay = after !== undefined ? withJitter(after, this.random) : exponentialBackoff(this.platform.retryBaseMs, retry, this.random);
      } else {
        throw statusError(SOURCE, response);
      }

      if (retry >= this.platform.apiMaxRetries) throw error;
      const deadline = deadlineOf(signal);
      if (deadline !== undefined && Date.now() + delay >= deadline) throw error;
      this.logger.debug({ msg: 'Genesys Platform API call refused; retrying', source: SOURCE, status: response.status, retry: retry + 1, delayMs: delay });
      if (!(await sleep(delay, signal))) throw cancelled(SOURCE, error);
    }
  }

  /**
   * A conversation's participants (`GET /api/v2/conversations/{id}`), or undefined when Genesys
   * does not know the id. A read: the 'genesys' policy may retry it; a token Genesys rejects (401)
   * is dropped and the call made once more with a new one.
   */
  @Resilient('genesys')
  async getConversation(conversationId: string, signal?: AbortSignal): Promise<ConversationParticipants | undefined> {
    for (let attempt = 0; ; attempt++) {
      const token = await this.tokens.getToken(signal);
      const response = await send(SOURCE, this.http, {
        method: 'GET',
        url: `/api/v2/conversations/${encodeURIComponent(conversationId)}`,
        signal,
        headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
      });
      if (response.status === 200) {
        const parsed = parseJson(SOURCE, response) as { participants?: unknown } | null;
        const participants = parsed?.participants;
        expectShape(SOURCE, Array.isArray(participants), 'participants');
        return {
          conversationId,
          participants: participants
            .filter((p): p is Record<string, unknown> => typeof p === 'object' && p !== null)
            .map((p) => ({ purpose: text(p.purpose), ani: text(p.ani), address: text(p.address) })),
        };
      }
      if (response.status === 404) return undefined;
      if (response.status === 401 && attempt === 0) {
        this.tokens.invalidate(token);
        continue;
      }
      throw statusError(SOURCE, response);
    }
  }
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
