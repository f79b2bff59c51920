import { Inject, Injectable, Logger, type OnApplicationShutdown,Optional } from '@nestjs/common';

import { GenesysConfig } from '../../config/genesys.config.js';
import { Resilient } from '../../resilience/resilient.decorator.js';
import { exponentialBackoff, withJitter } from '../../upstream/backoff.js';
import { bearerCredentials } from '../../upstream/credentials.js';
import { deadlineOf } from '../../upstream/deadline.js';
import { cancelled, sleep } from '../../upstream/timers.js';
import { UpstreamError } from '../../upstream/upstream-error.js';
import { VendorClient } from '../../upstream/vendor-client.js';
import { createVendorHttp, expectShape, parseJson, retryAfterMs, send, statusError } from '../../upstream/vendor-http.js';
import { GENESYS_PLATFORM_CLOCK, type GenesysPlatformClock } from './genesys-clock.js';
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
  private readonly api: VendorClient;
  private readonly random: () => number;

  constructor(
    config: GenesysConfig,
    private readonly platform: GenesysPlatformConfig,
    private readonly tokens: GenesysTokenService,
    @Optional() @Inject(GENESYS_PLATFORM_CLOCK) clock?: GenesysPlatformClock,
  ) {
    const credentials = bearerCredentials({ get: (signal) => tokens.getToken(signal), invalidate: (token) => tokens.invalidate(token) });
    this.api = new VendorClient(SOURCE, createVendorHttp(config.resolvedApiUrl, config.timeoutMs), credentials);
    this.random = clock?.random ?? Math.random;
  }

  onApplicationShutdown(): void {
    this.api.close();
  }

  /** False when no Genesys OAuth client is configured (Platform API calls are then disabled). */
  get enabled(): boolean {
    return this.tokens.enabled;
  }

  /** Places an outbound call to `phoneNumber` (`POST /api/v2/conversations/calls` → CreateCallResponse). */
  @Resilient(SOURCE, { idempotent: false, settings: GenesysPlatformConfig })
  async createCall(phoneNumber: string, signal?: AbortSignal): Promise<CreatedCall> {
    const body = JSON.stringify({ phoneNumber });
    for (let retry = 0; ; retry++) {
      const token = await this.tokens.getToken(signal);
      const response = await send(SOURCE, this.api.http, {
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

      let error: UpstreamError;
      let delay: number;
      if (response.status === 401) {
        this.tokens.invalidate(token);
        error = new UpstreamError(SOURCE, 'auth', `authentication rejected (401) after ${retry} ${retry === 1 ? 'retry' : 'retries'}`, 401);
        delay = exponentialBackoff(this.platform.retryBaseMs, retry, this.random);
      } else if (response.status === 429) {
        const after = retryAfterMs(response, Date.now());
        error = new UpstreamError(SOURCE, 'rate_limited', 'rate limited (429)', 429, after);
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
  @Resilient(SOURCE, { settings: GenesysPlatformConfig })
  async getConversation(conversationId: string, signal?: AbortSignal): Promise<ConversationParticipants | undefined> {
    const response = await this.api.send({ method: 'GET', url: `/api/v2/conversations/${encodeURIComponent(conversationId)}`, signal, headers: { accept: 'application/json' } });
    if (response.status === 404) return undefined;
    if (response.status !== 200) throw statusError(SOURCE, response);
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
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
