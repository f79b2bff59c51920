/**
 * Genesys Cloud as far as the middleware sees it: the login host's client-credentials token
 * endpoint and its PKCE sign-in for the side panel (`GET /oauth/authorize`, auto-approved as the
 * demo agent, then `POST /oauth/token` with `grant_type=authorization_code`, which a browser calls
 * cross-origin), who a token belongs to (`GET /api/v2/tokens/me`), the public IP-range list,
 * placing an outbound call (`POST /api/v2/conversations/calls`, answered with a CreateCallResponse
 * `{id, selfUri}`) and reading a conversation
 * (`GET /api/v2/conversations/{id}`, for the side panel's caller look-up), with Genesys' error
 * body, its `inin-*` headers on every response and its 429 format.
 *
 * The Notifications API (`/api/v2/notifications/channels…` and the WebSocket at each channel's
 * `connectUri`, on this server's port; see genesys.notifications.ts) and the routing queues
 * (`GET /api/v2/routing/queues`) let a client follow queue conversation events: a test or the
 * sandbox places an inbound call into a queue, answers it and hangs it up (the TypeScript methods
 * below, or `/__sim/inbound-calls…`), and each step is published on the queue's topics.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';

import { SANDBOX_CREDENTIALS } from '../shared/credentials.js';
import {
  basicAuth,
  bearer,
  formBody,
  type Route,
  type SimContext,
  Simulator,
  type SimulatorOptions,
} from '../shared/sim-server.js';
import { callPhase, conversationBody, demoCall, type InboundCall,later, queueCallEvent, queueConversationEvent } from './genesys.conversations.js';
import { DEFAULT_IP_RANGES, DEMO_AGENT, DEMO_CONVERSATIONS, type DemoConversation, type GenesysIpRange, HOME_DIVISION, SANDBOX_QUEUES, type SandboxQueue } from './genesys.data.js';
import { type ChannelOwner, GENESYS_NOTIFICATION_LIMITS, NotificationHub, type NotificationSettings, type NotificationStats, type TopicCheck } from './genesys.notifications.js';

export interface GenesysSimulatorOptions extends SimulatorOptions {
  clientId?: string;
  clientSecret?: string;
  orgId?: string;
  /** The OAuth client's token lifetime (Genesys allows 300..172800 s; default 86399). */
  tokenLifetimeSeconds?: number;
  /** Replaces the IP-range list served by /api/v2/ipranges. */
  ipRanges?: GenesysIpRange[];
  /** The public (PKCE) OAuth client the side panel signs in with. */
  panelClientId?: string;
  /** Its registered redirect URIs (more with allowRedirectUri once a test knows its port). */
  panelRedirectUris?: string[];
  /** Replaces the org's routing queues (default: SANDBOX_QUEUES). */
  queues?: SandboxQueue[];
  /** Notifications API lifetimes and limits (Genesys' by default: 24 h channels, 30 s heartbeats, 20 channels, 1,000 topics). */
  notifications?: Partial<NotificationSettings>;
}

/** An inbound call to place into a queue (see placeInboundCall). */
export interface InboundCallRequest {
  /** The caller: `tel:+E164` (or a `sip:` URI for a withheld number). */
  ani: string;
  queueId: string;
  /** The number dialled (default: the sandbox's main number, `tel:+18005550199`). */
  dnis?: string;
}

/** The Notifications API's faults and counters (`sim.notifications`). */
export interface NotificationControls {
  stats(): NotificationStats;
  channelIds(): string[];
  isConnected(channelId: string): boolean;
  /** Closes the channel's WebSocket abruptly: no closing message, no close frame. */
  dropSocket(channelId: string): boolean;
  stopHeartbeats(): void;
  resumeHeartbeats(): void;
  /** The next PUT/POST subscription call fails with this status (default 503). */
  refuseNextSubscription(status?: number): void;
  expireChannel(channelId: string): boolean;
  /** `v2.system.socket_closing` now, the socket closed `graceMs` later (default: a minute). */
  sendSocketClosing(channelId: string, graceMs?: number): boolean;
}

const MAIN_NUMBER = 'tel:+18005550199';
/** How long an inbound call spends in the IVR before it reaches the queue. */
const IVR_SECONDS = 25;
const QUEUE_TOPIC = /^v2\.routing\.queues\.(?<queueId>[^.]+)\.conversations(?<calls>\.calls)?$/;
const ANI = /^(tel:\+[1-9]\d{5,14}|sip:[^\s]+)$/;
/** The largest page of `GET /api/v2/routing/queues` (the simulator's choice). */
const MAX_QUEUE_PAGE = 500;

/** Who an issued access token belongs to, as `GET /api/v2/tokens/me` tells. */
interface TokenOwner {
  clientId: string;
  orgId: string;
  /** The signed-in user (PKCE tokens); client-credentials tokens have none. */
  userId?: string;
}

/** An authorization code waiting to be exchanged (single use). */
interface PendingCode {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  issuedAt: number;
}

/** How long an authorization code can be exchanged (the simulator's choice; Genesys's codes are short-lived too). */
const AUTH_CODE_TTL_MS = 5 * 60_000;
/** An S256 code challenge: BASE64URL(SHA-256(verifier)), 43 characters. */
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
/** RFC 7636 §4.1: 43 to 128 unreserved characters. */
const CODE_VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;
const OTHER_ORG_NAME = 'Another Organization';

/** A call placed through `POST /api/v2/conversations/calls`. */
export interface PlacedCall {
  /** The `id` the CreateCallResponse gave. */
  conversationId: string;
  phoneNumber: string;
  callFromQueueId?: string;
  callUserId?: string;
  /** The whole request body as sent. */
  body: Record<string, unknown>;
  /** Simulator clock at the time of the call. */
  at: number;
}

/** The Platform API's default limit: 300 requests per minute per token. */
const RATE_LIMIT_PER_MINUTE = 300;

const ERROR_CODES: Record<number, string> = {
  400: 'bad.request',
  401: 'authentication.required',
  403: 'missing.any.permissions',
  404: 'not.found',
  408: 'request.timeout',
  409: 'conflict',
  413: 'request.entity.too.large',
  415: 'unsupported.media.type',
  429: 'too.many.requests',
  500: 'internal.server.error',
  502: 'bad.gateway',
  503: 'service.unavailable',
  504: 'gateway.timeout',
};

export class GenesysSimulator extends Simulator {
  readonly name = 'genesys';
  readonly orgId: string;
  private readonly clientId: string;
  private readonly clientSecret: string;
  private readonly tokenLifetimeSeconds: number;
  private readonly ipRanges: GenesysIpRange[];
  private calls_: PlacedCall[] = [];
  private conversations = new Map<string, InboundCall>();
  private readonly queues: readonly SandboxQueue[];
  private readonly hub: NotificationHub;
  /** access token → issue time (enforces the client's lifetime; faults.tokenTtlMs is the TokenStore's). */
  private readonly issuedAt = new Map<string, number>();
  /** Per-request correlation id and rate-limit headers, fixed at the first response header computation. */
  private readonly perRequest = new WeakMap<IncomingMessage, Record<string, string>>();
  /** Fixed one-minute windows of the Platform API limit, per token (or 'anonymous'). */
  private readonly minuteWindows = new Map<string, { minute: number; count: number }>();
  readonly panelClientId: string;
  private readonly panelRedirectUris: Set<string>;
  /** access token → its client, organization and user. */
  private readonly owners = new Map<string, TokenOwner>();
  private readonly codes = new Map<string, PendingCode>();

  constructor(options: GenesysSimulatorOptions = {}) {
    super(options);
    const creds = SANDBOX_CREDENTIALS.genesys;
    this.clientId = options.clientId ?? creds.clientId;
    this.clientSecret = options.clientSecret ?? creds.clientSecret;
    this.orgId = options.orgId ?? creds.orgId;
    this.tokenLifetimeSeconds = options.tokenLifetimeSeconds ?? 86_399;
    this.ipRanges = (options.ipRanges ?? DEFAULT_IP_RANGES).map((r) => ({ ...r }));
    this.panelClientId = options.panelClientId ?? creds.panelClientId;
    this.panelRedirectUris = new Set(options.panelRedirectUris ?? []);
    this.queues = (options.queues ?? SANDBOX_QUEUES).map((q) => ({ ...q }));
    if (this.queues.length === 0) throw new Error('the Genesys simulator needs at least one queue');
    this.hub = new NotificationHub({ ...GENESYS_NOTIFICATION_LIMITS, ...options.notifications }, this.now, () => this.url.replace(/^http/, 'ws'));
    this.resetData();
  }

  /** Closes every notification WebSocket and stops its timers, then the server. */
  override async stop(): Promise<void> {
    this.hub.reset();
    await super.stop();
  }

  protected override attachToServer(server: Server): void {
    this.hub.attach(server);
  }

  override resetData(): void {
    this.calls_ = [];
    this.conversations = new Map(DEMO_CONVERSATIONS.map((c) => [c.conversationId, demoCall(c, this.queues[0])]));
    this.hub.reset();
    this.issuedAt.clear();
    this.minuteWindows.clear();
    this.owners.clear();
    this.codes.clear();
  }

  /** Registers a redirect URI of the panel's OAuth client (exact match, as Genesys compares them); its origin may then call the token endpoint from a browser. */
  allowRedirectUri(uri: string): void {
    this.panelRedirectUris.add(uri);
  }

  /**
   * A live agent token issued without the browser round trip (a test's shortcut), by default as
   * the demo agent through the panel's client in the demo org; another org or client for refusals.
   */
  issueAgentToken(owner: Partial<TokenOwner> = {}): string {
    return this.issueToken({ clientId: owner.clientId ?? this.panelClientId, orgId: owner.orgId ?? this.orgId, userId: owner.userId ?? DEMO_AGENT.id });
  }

  /** Calls placed so far (copies). */
  get placedCalls(): PlacedCall[] {
    return this.calls_.map((c) => structuredClone(c));
  }

  /** Adds a live call (a test's own caller, already with an agent); `GET /api/v2/conversations/{id}` then describes it. */
  addConversation(conversation: DemoConversation): void {
    this.conversations.set(conversation.conversationId, demoCall(conversation, this.queues[0]));
  }

  // ------------------------------------------------------------------------------ inbound calls

  /**
   * A caller reaches a queue (after the IVR): the conversation is readable through
   * `GET /api/v2/conversations/{id}` and one event is published on the queue's topics, with the
   * customer participant, the IVR leg that routed the call and the ACD leg waiting for an agent.
   * Returns the conversation id.
   */
  placeInboundCall(request: InboundCallRequest): string {
    if (typeof request.ani !== 'string' || !ANI.test(request.ani)) throw new Error('ani must be tel:+E164 (or a sip: URI)');
    const dnis = request.dnis ?? MAIN_NUMBER;
    if (typeof dnis !== 'string' || !ANI.test(dnis)) throw new Error('dnis must be tel:+E164');
    const queue = this.queues.find((q) => q.id === request.queueId);
    if (!queue) throw new Error('queueId is not a queue of the sandbox (GET /api/v2/routing/queues lists them)');
    const queuedAt = new Date(this.now()).toISOString();
    const call: InboundCall = { conversationId: randomUUID(), ani: request.ani, dnis, queue: { id: queue.id, name: queue.name }, startTime: later(queuedAt, -IVR_SECONDS), queuedAt };
    this.conversations.set(call.conversationId, call);
    this.publishCall(call);
    return call.conversationId;
  }

  /**
   * An agent answers a queued call: two events, the agent's phone ringing (purpose "agent", call
   * state "alerting") and then connected, the ACD leg ending. By default the demo agent answers.
   */
  answerInboundCall(conversationId: string, agent: { userId?: string; name?: string } = {}): void {
    const call = this.liveCall(conversationId);
    if (callPhase(call) !== 'queued') throw new Error(`the call is ${callPhase(call)}, not waiting in a queue`);
    const at = new Date(this.now()).toISOString();
    call.agent = { userId: agent.userId ?? DEMO_AGENT.id, name: agent.name ?? DEMO_AGENT.name };
    call.alertingAt = at;
    this.publishCall(call);
    call.answeredAt = at;
    this.publishCall(call);
  }

  /** The caller (default) or the agent hangs up: one event, every leg disconnected. */
  disconnectInboundCall(conversationId: string, by: 'customer' | 'agent' = 'customer'): void {
    const call = this.liveCall(conversationId);
    if (callPhase(call) === 'ended') throw new Error('the call has already ended');
    if (by !== 'customer' && by !== 'agent') throw new Error('by must be customer or agent');
    if (by === 'agent' && call.answeredAt === undefined) throw new Error('no agent has answered the call');
    call.endedAt = new Date(this.now()).toISOString();
    call.endedBy = by;
    this.publishCall(call);
  }

  /** Faults and counters of the Notifications API. */
  get notifications(): NotificationControls {
    const hub = this.hub;
    return {
      stats: () => hub.stats(),
      channelIds: () => hub.channelIds(),
      isConnected: (id) => hub.isConnected(id),
      dropSocket: (id) => hub.dropSocket(id),
      stopHeartbeats: () => hub.setHeartbeatsStopped(true),
      resumeHeartbeats: () => hub.setHeartbeatsStopped(false),
      refuseNextSubscription: (status) => hub.refuseNextSubscription(status),
      expireChannel: (id) => hub.expireChannel(id),
      sendSocketClosing: (id, graceMs) => hub.sendSocketClosing(id, graceMs),
    };
  }

  private liveCall(conversationId: string): InboundCall {
    const call = this.conversations.get(conversationId);
    if (!call) throw new NotFound(`no call ${conversationId}`);
    return call;
  }

  /** The call as it is now, on both of its queue's conversation topics. */
  private publishCall(call: InboundCall): void {
    this.hub.publish(`v2.routing.queues.${call.queue.id}.conversations`, queueConversationEvent(call));
    this.hub.publish(`v2.routing.queues.${call.queue.id}.conversations.calls`, queueCallEvent(call));
  }

  protected override routes(): Route[] {
    return [
      { name: 'authorize', method: 'GET', path: /^\/oauth\/authorize\/?$/, handler: (ctx) => this.authorize(ctx) },
      { name: 'token', method: 'POST', path: /^\/oauth\/token\/?$/, handler: (ctx) => this.token(ctx) },
      { name: 'tokenPreflight', method: 'OPTIONS', path: /^\/oauth\/token\/?$/, handler: (ctx) => this.send(ctx, 204, '') },
      { name: 'tokensMe', method: 'GET', path: /^\/api\/v2\/tokens\/me\/?$/, handler: (ctx) => this.tokensMe(ctx) },
      { name: 'ipranges', method: 'GET', path: /^\/api\/v2\/ipranges\/?$/, handler: (ctx) => this.ipranges(ctx) },
      { name: 'createCall', method: 'POST', path: /^\/api\/v2\/conversations\/calls\/?$/, handler: (ctx) => this.createCall(ctx) },
      { name: 'conversation', method: 'GET', path: /^\/api\/v2\/conversations\/(?<conversationId>[^/]+)\/?$/, handler: (ctx) => this.conversation(ctx) },
      { name: 'queues', method: 'GET', path: /^\/api\/v2\/routing\/queues\/?$/, handler: (ctx) => this.routingQueues(ctx) },
      { name: 'createChannel', method: 'POST', path: /^\/api\/v2\/notifications\/channels\/?$/, handler: (ctx) => this.createChannel(ctx) },
      { name: 'channels', method: 'GET', path: /^\/api\/v2\/notifications\/channels\/?$/, handler: (ctx) => this.listChannels(ctx) },
      { name: 'channel', method: 'HEAD', path: /^\/api\/v2\/notifications\/channels\/(?<channelId>[^/]+)\/?$/, handler: (ctx) => this.headChannel(ctx) },
      { name: 'subscriptions', method: ['GET', 'PUT', 'POST', 'DELETE'], path: /^\/api\/v2\/notifications\/channels\/(?<channelId>[^/]+)\/subscriptions\/?$/, handler: (ctx) => this.subscriptions(ctx) },
    ];
  }

  // ------------------------------------------------------------------------------ headers & errors

  /** `inin-correlation-id` and the `inin-ratelimit-*` headers, computed once per request. */
  protected override commonHeaders(ctx: SimContext): Record<string, string> {
    const known = this.perRequest.get(ctx.req);
    if (known) return known;
    const key = bearer(ctx.req) ?? 'anonymous';
    const now = this.now();
    const minute = Math.floor(now / 60_000);
    let w = this.minuteWindows.get(key);
    if (!w || w.minute !== minute) {
      w = { minute, count: 0 };
      this.minuteWindows.set(key, w);
    }
    w.count++;
    const headers: Record<string, string> = {
      'inin-correlation-id': randomUUID(),
      'inin-ratelimit-allowed': String(RATE_LIMIT_PER_MINUTE),
      'inin-ratelimit-count': String(w.count),
      'inin-ratelimit-reset': String(Math.max(1, Math.ceil(((minute + 1) * 60_000 - now) / 1000))),
      ...this.corsHeaders(ctx),
    };
    this.perRequest.set(ctx.req, headers);
    return headers;
  }

  /**
   * The token endpoint answers browsers (a PKCE client exchanges its code with fetch) whose origin is
   * that of a registered redirect URI of the panel's client; every answer of that route says so,
   * errors included. Other routes and origins get no CORS headers.
   */
  private corsHeaders(ctx: SimContext): Record<string, string> {
    const origin = ctx.req.headers.origin;
    if ((ctx.route !== 'token' && ctx.route !== 'tokenPreflight') || typeof origin !== 'string') return {};
    if (![...this.panelRedirectUris].some((uri) => new URL(uri).origin === origin)) return {};
    const headers: Record<string, string> = { 'access-control-allow-origin': origin, vary: 'Origin' };
    if (ctx.route === 'tokenPreflight') {
      Object.assign(headers, { 'access-control-allow-methods': 'POST', 'access-control-allow-headers': 'authorization, content-type', 'access-control-max-age': '600' });
    }
    return headers;
  }

  private correlationId(ctx: SimContext): string {
    return this.commonHeaders(ctx)['inin-correlation-id'];
  }

  private platformError(ctx: SimContext, status: number, message: string, code: string, headers: Record<string, string> = {}): void {
    const body = {
      message,
      code,
      status,
      messageParams: {},
      contextId: this.correlationId(ctx),
      details: [],
      errors: [],
    };
    // send(), not sendJson(): the `malformed` fault breaks successful bodies only
    this.send(ctx, status, JSON.stringify(body), { 'content-type': 'application/json', ...headers });
  }

  protected override sendError(ctx: SimContext, status: number, message: string): void {
    this.platformError(ctx, status, message, ERROR_CODES[status] ?? (status >= 500 ? 'internal.server.error' : 'bad.request'));
  }

  protected override sendRateLimited(ctx: SimContext, retryAfterSeconds: number): void {
    this.platformError(
      ctx,
      429,
      `Rate limit exceeded the maximum. Retry the request in [${retryAfterSeconds}] seconds`,
      'too.many.requests.retry.after',
      { 'Retry-After': String(retryAfterSeconds) },
    );
  }

  // ------------------------------------------------------------------------------ login host

  private issueToken(owner: TokenOwner): string {
    const { token, issuedAt } = this.tokens.issue(owner.clientId);
    this.issuedAt.set(token, issuedAt);
    this.owners.set(token, owner);
    return token;
  }

  /** The token response of every grant: `{access_token, token_type: "bearer", expires_in}`. */
  private tokenResponse(token: string): Record<string, unknown> {
    const ttl = this.faults.tokenTtlMs;
    return { access_token: token, token_type: 'bearer', expires_in: ttl !== null ? Math.max(0, Math.ceil(ttl / 1000)) : this.tokenLifetimeSeconds };
  }

  private oauthError(ctx: SimContext, status: number, error: string, description: string): void {
    this.sendJson(ctx, status, { error, description, error_description: description });
  }

  /**
   * The authorization endpoint of the Code Authorization (PKCE) grant. A real login host shows its
   * sign-in page; this one approves at once as the demo agent. An unknown client or a redirect URI
   * that is not registered is answered here (400, never redirected to); every other problem is
   * redirected back as `?error=…&error_description=…&state=…` (RFC 6749 §4.1.2.1).
   */
  private authorize(ctx: SimContext): void {
    const q = ctx.query;
    const clientId = q.get('client_id') ?? '';
    const redirectUri = q.get('redirect_uri') ?? '';
    if (clientId !== this.panelClientId || !this.panelRedirectUris.has(redirectUri)) {
      this.oauthError(ctx, 400, 'invalid_request', 'OAuth client ID or redirect URI is invalid');
      return;
    }
    const back = (params: Record<string, string>) => {
      const state = q.get('state');
      const target = new URL(redirectUri);
      for (const [k, v] of Object.entries({ ...params, ...(state !== null ? { state } : {}) })) target.searchParams.set(k, v);
      this.send(ctx, 302, '', { location: target.toString(), 'cache-control': 'no-store' });
    };
    if (q.get('response_type') !== 'code') {
      back({ error: 'unsupported_response_type', error_description: 'response_type must be code' });
      return;
    }
    const codeChallenge = q.get('code_challenge') ?? '';
    if (q.get('code_challenge_method') !== 'S256' || !S256_CHALLENGE.test(codeChallenge)) {
      back({ error: 'invalid_request', error_description: 'code_challenge with code_challenge_method=S256 is required' });
      return;
    }
    const code = randomBytes(24).toString('base64url');
    this.codes.set(code, { clientId, redirectUri, codeChallenge, issuedAt: this.now() });
    back({ code });
  }

  /** `grant_type=authorization_code` (a public client: client_id in the form, no secret, the PKCE verifier instead). */
  private authorizationCodeToken(ctx: SimContext, form: URLSearchParams): void {
    const clientId = form.get('client_id') ?? '';
    if (clientId !== this.panelClientId) {
      this.oauthError(ctx, 401, 'invalid_client', 'Invalid client credentials');
      return;
    }
    const code = form.get('code') ?? '';
    const pending = this.codes.get(code);
    this.codes.delete(code); // single use, whatever happens next
    if (!pending || pending.clientId !== clientId || this.now() - pending.issuedAt >= AUTH_CODE_TTL_MS) {
      this.oauthError(ctx, 400, 'invalid_grant', 'Invalid or expired authorization code');
      return;
    }
    if (form.get('redirect_uri') !== pending.redirectUri) {
      this.oauthError(ctx, 400, 'invalid_grant', 'redirect_uri does not match the authorization request');
      return;
    }
    const verifier = form.get('code_verifier') ?? '';
    if (!CODE_VERIFIER.test(verifier) || createHash('sha256').update(verifier, 'ascii').digest('base64url') !== pending.codeChallenge) {
      this.oauthError(ctx, 400, 'invalid_grant', 'Code verification failed');
      return;
    }
    this.sendJson(ctx, 200, this.tokenResponse(this.issueToken({ clientId, orgId: this.orgId, userId: DEMO_AGENT.id })));
  }

  private token(ctx: SimContext): void {
    const form = formBody(ctx.body);
    if (form.get('grant_type') === 'authorization_code' && basicAuth(ctx.req) === undefined) {
      this.authorizationCodeToken(ctx, form);
      return;
    }
    const client = basicAuth(ctx.req);
    if (!client || client.user !== this.clientId || client.pass !== this.clientSecret) {
      this.sendJson(ctx, 401, {
        error: 'invalid_client',
        description: 'Invalid client credentials',
        error_description: 'Invalid client credentials',
      });
      return;
    }
    const grant = form.get('grant_type');
    if (grant !== 'client_credentials') {
      const text = grant ? `Unsupported grant type: ${grant}` : 'Missing grant type';
      this.sendJson(ctx, 400, { error: 'unsupported_grant_type', description: text, error_description: text });
      return;
    }
    this.sendJson(ctx, 200, this.tokenResponse(this.issueToken({ clientId: client.user, orgId: this.orgId })));
  }

  /** The live bearer token of the request, or undefined after a 401 in Genesys' error shape (sent here). */
  private authenticatedToken(ctx: SimContext): string | undefined {
    const token = bearer(ctx.req);
    if (token !== undefined && this.tokens.check(token) === 'valid') {
      const at = this.issuedAt.get(token);
      if (at !== undefined && this.now() - at < this.tokenLifetimeSeconds * 1000) return token;
    }
    this.platformError(ctx, 401, 'Authentication failed', 'authentication.required');
    return undefined;
  }

  private authenticated(ctx: SimContext): boolean {
    return this.authenticatedToken(ctx) !== undefined;
  }

  /** When a token stops working: its client's lifetime, or sooner under faults.tokenTtlMs. */
  private tokenEnd(token: string): number {
    const at = this.issuedAt.get(token) ?? this.now();
    const ttl = this.faults.tokenTtlMs;
    return at + Math.min(this.tokenLifetimeSeconds * 1000, ttl ?? Infinity);
  }

  // ------------------------------------------------------------------------------ Platform API

  /**
   * TokenInfo of the caller's token: the organization it acts in (and its home organization),
   * the OAuth client it was issued to, the scopes authorized, and `dateTokenIdles` (here: when the
   * token ends).
   */
  private tokensMe(ctx: SimContext): void {
    const token = this.authenticatedToken(ctx);
    if (token === undefined) return;
    const owner = this.owners.get(token) ?? { clientId: this.clientId, orgId: this.orgId };
    const org = { id: owner.orgId, name: owner.orgId === this.orgId ? DEMO_AGENT.organizationName : OTHER_ORG_NAME };
    const panel = owner.clientId === this.panelClientId;
    this.sendJson(ctx, 200, {
      organization: org,
      homeOrganization: org,
      authorizedScope: owner.userId ? ['conversations:readonly', 'users:readonly'] : [],
      dateTokenIdles: new Date(this.tokenEnd(token)).toISOString(),
      OAuthClient: {
        id: owner.clientId,
        name: panel ? 'Customer 360 side panel' : 'Customer 360 middleware',
        dateCreated: '2026-01-05T10:00:00Z',
        authorizedGrantType: owner.userId ? 'CODE' : 'CLIENT-CREDENTIALS',
        state: 'active',
        organization: org,
      },
    });
  }

  private ipranges(ctx: SimContext): void {
    this.sendJson(ctx, 200, { entities: this.ipRanges.map((r) => ({ ...r })) });
  }

  private createCall(ctx: SimContext): void {
    if (!this.authenticated(ctx)) return;
    let body: unknown;
    try {
      body = JSON.parse(ctx.body.toString('utf8'));
    } catch {
      this.sendError(ctx, 400, 'The request could not be understood by the server due to malformed syntax.');
      return;
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      this.sendError(ctx, 400, 'The request body must be a JSON object.');
      return;
    }
    const request = body as Record<string, unknown>;
    const phoneNumber = request.phoneNumber;
    if (typeof phoneNumber !== 'string' || phoneNumber.trim() === '') {
      this.sendError(ctx, 400, 'A phoneNumber is required to place a call.');
      return;
    }
    const conversationId = randomUUID();
    const call: PlacedCall = { conversationId, phoneNumber, body: structuredClone(request), at: this.now() };
    if (typeof request.callFromQueueId === 'string') call.callFromQueueId = request.callFromQueueId;
    if (typeof request.callUserId === 'string') call.callUserId = request.callUserId;
    this.calls_.push(call);
    // CreateCallResponse (the SDK's model): the conversation's id is `id`
    this.sendJson(ctx, 200, { id: conversationId, selfUri: `/api/v2/conversations/calls/${conversationId}` });
  }

  private conversation(ctx: SimContext): void {
    if (!this.authenticated(ctx)) return;
    const found = this.conversations.get(ctx.params.conversationId);
    if (!found) {
      this.sendError(ctx, 404, 'The requested resource could not be found.');
      return;
    }
    this.sendJson(ctx, 200, conversationBody(found));
  }

  // ------------------------------------------------------------------------------ routing queues

  /**
   * `GET /api/v2/routing/queues`: a QueueEntityListing, sorted by name (`sortOrder` asc or desc),
   * paged with `pageNumber` (from 1) and `pageSize` (default 25), filtered by `name` (leading and
   * trailing `*` allowed) and by `id` (repeatable).
   */
  private routingQueues(ctx: SimContext): void {
    if (!this.authenticated(ctx)) return;
    const q = ctx.query;
    const pageSize = q.get('pageSize') ?? '25';
    const pageNumber = q.get('pageNumber') ?? '1';
    const sortOrder = (q.get('sortOrder') ?? 'asc').toLowerCase();
    if (!/^\d{1,4}$/.test(pageSize) || Number(pageSize) < 1 || Number(pageSize) > MAX_QUEUE_PAGE) {
      this.sendError(ctx, 400, `pageSize must be a whole number from 1 to ${MAX_QUEUE_PAGE}.`);
      return;
    }
    if (!/^\d{1,6}$/.test(pageNumber) || Number(pageNumber) < 1) {
      this.sendError(ctx, 400, 'pageNumber must be a whole number from 1.');
      return;
    }
    if (sortOrder !== 'asc' && sortOrder !== 'desc') {
      this.sendError(ctx, 400, 'sortOrder must be asc or desc.');
      return;
    }
    const ids = q.getAll('id').flatMap((v) => v.split(',')).filter((v) => v !== '');
    const name = q.get('name');
    const pattern = name ? new RegExp(`^${name.startsWith('*') ? '.*' : ''}${escapeRegExp(name.replace(/^\*|\*$/g, ''))}${name.endsWith('*') && name.length > 1 ? '.*' : ''}$`, 'i') : undefined;
    const matching = this.queues
      .filter((queue) => (ids.length === 0 || ids.includes(queue.id)) && (!pattern || pattern.test(queue.name)))
      .sort((a, b) => (sortOrder === 'asc' ? 1 : -1) * a.name.localeCompare(b.name));
    const size = Number(pageSize);
    const page = Number(pageNumber);
    const pageCount = Math.max(1, Math.ceil(matching.length / size));
    const uri = (n: number) => {
      const params = new URLSearchParams({ pageSize: String(size), pageNumber: String(n) });
      if (sortOrder !== 'asc') params.set('sortOrder', sortOrder);
      if (name) params.set('name', name);
      for (const id of ids) params.append('id', id);
      return `/api/v2/routing/queues?${params.toString()}`;
    };
    this.sendJson(ctx, 200, {
      entities: matching.slice((page - 1) * size, page * size).map((queue) => queueBody(queue)),
      pageSize: size,
      pageNumber: page,
      total: matching.length,
      firstUri: uri(1),
      ...(page > 1 ? { previousUri: uri(Math.min(page - 1, pageCount)) } : {}),
      selfUri: uri(page),
      ...(page < pageCount ? { nextUri: uri(page + 1) } : {}),
      lastUri: uri(pageCount),
      pageCount,
    });
  }

  // ------------------------------------------------------------------------------ Notifications API

  /** The channel owner of an authenticated request: its OAuth client and user, in its organization. */
  private channelOwner(token: string): ChannelOwner {
    const owner = this.owners.get(token) ?? { clientId: this.clientId, orgId: this.orgId };
    return { clientId: owner.clientId, orgId: owner.orgId, ...(owner.userId ? { userId: owner.userId } : {}) };
  }

  private createChannel(ctx: SimContext): void {
    const token = this.authenticatedToken(ctx);
    if (token === undefined) return;
    this.sendJson(ctx, 200, this.hub.createChannel(this.channelOwner(token), token));
  }

  private listChannels(ctx: SimContext): void {
    const token = this.authenticatedToken(ctx);
    if (token === undefined) return;
    const include = ctx.query.get('includechannels') ?? 'token';
    if (include !== 'token' && include !== 'oauthclient') {
      this.sendError(ctx, 400, 'includechannels must be token or oauthclient.');
      return;
    }
    this.sendJson(ctx, 200, this.hub.listChannels(this.channelOwner(token), token, include));
  }

  /** `HEAD …/channels/{id}`: 200 while the channel exists, 404 once it is gone. */
  private headChannel(ctx: SimContext): void {
    const token = this.authenticatedToken(ctx);
    if (token === undefined) return;
    if (this.hub.hasChannel(this.channelOwner(token), ctx.params.channelId)) this.send(ctx, 200, '');
    else this.sendError(ctx, 404, 'The requested channel could not be found.');
  }

  private subscriptions(ctx: SimContext): void {
    const token = this.authenticatedToken(ctx);
    if (token === undefined) return;
    const owner = this.channelOwner(token);
    const channelId = ctx.params.channelId;
    const notFound = () => this.sendError(ctx, 404, 'The requested channel could not be found.');
    const method = ctx.req.method;
    if (method === 'GET') {
      const listing = this.hub.subscriptions(owner, channelId);
      if (listing) this.sendJson(ctx, 200, listing);
      else notFound();
      return;
    }
    if (method === 'DELETE') {
      if (this.hub.unsubscribeAll(owner, channelId)) this.send(ctx, 204, '');
      else notFound();
      return;
    }
    if (!this.hub.hasChannel(owner, channelId)) {
      notFound();
      return;
    }
    const ignoreErrors = ctx.query.get('ignoreErrors') ?? 'false';
    if (ignoreErrors !== 'true' && ignoreErrors !== 'false') {
      this.sendError(ctx, 400, 'ignoreErrors must be true or false.');
      return;
    }
    const topics = topicList(ctx.body);
    if (typeof topics === 'string') {
      this.sendError(ctx, 400, topics);
      return;
    }
    const result = this.hub.subscribe(owner, channelId, topics, method === 'PUT' ? 'replace' : 'add', ignoreErrors === 'true', (topic) => this.checkTopic(topic));
    if (!result) notFound();
    else if ('refusal' in result) this.platformError(ctx, result.refusal.status, result.refusal.message, result.refusal.code);
    else this.sendJson(ctx, 200, result.body);
  }

  /** The topics the sandbox publishes: a queue's conversations (and their calls). A queue the org does not have is not permitted. */
  private checkTopic(topic: string): TopicCheck {
    const m = QUEUE_TOPIC.exec(topic);
    if (!m?.groups) return { ok: false, reason: 'unknown-topic' };
    const queueId = m.groups.queueId;
    return this.queues.some((q) => q.id === queueId) ? { ok: true } : { ok: false, reason: 'not-permitted' };
  }

  // ------------------------------------------------------------------------------ /__sim controls

  /**
   * `POST /__sim/inbound-calls` `{ani, queueId, dnis?}` → 201 `{conversationId}`;
   * `POST /__sim/inbound-calls/{id}/answer` `{userId?, name?}`; `POST /__sim/inbound-calls/{id}/disconnect` `{by?}`;
   * `GET /__sim/notifications` (counters and channels); `POST /__sim/notifications/heartbeats/stop|resume`;
   * `POST /__sim/notifications/refuse-next-subscription` `{status?}`;
   * `POST /__sim/notifications/channels/{id}/drop|expire|socket-closing` (`{graceMs?}` for socket-closing).
   */
  protected override vendorControl(path: string, method: string, body: Buffer): { status: number; body: unknown } | undefined {
    const input = () => controlBody(body);
    try {
      if (path === '/inbound-calls' && method === 'POST') {
        const b = input();
        return { status: 201, body: { conversationId: this.placeInboundCall({ ani: b.ani as string, queueId: b.queueId as string, ...(b.dnis !== undefined ? { dnis: b.dnis as string } : {}) }) } };
      }
      const call = /^\/inbound-calls\/(?<id>[^/]+)\/(?<action>answer|disconnect)$/.exec(path)?.groups;
      if (call && method === 'POST') {
        const b = input();
        if (call.action === 'answer') this.answerInboundCall(call.id, { ...(typeof b.userId === 'string' ? { userId: b.userId } : {}), ...(typeof b.name === 'string' ? { name: b.name } : {}) });
        else this.disconnectInboundCall(call.id, (b.by as 'customer' | 'agent' | undefined) ?? 'customer');
        return { status: 200, body: conversationBody(this.liveCall(call.id)) };
      }
      if (path === '/notifications' && method === 'GET') return { status: 200, body: { ...this.hub.stats(), channelIds: this.hub.channelIds() } };
      const heartbeats = /^\/notifications\/heartbeats\/(?<action>stop|resume)$/.exec(path)?.groups;
      if (heartbeats && method === 'POST') {
        this.hub.setHeartbeatsStopped(heartbeats.action === 'stop');
        return { status: 200, body: { heartbeats: heartbeats.action === 'stop' ? 'stopped' : 'running' } };
      }
      if (path === '/notifications/refuse-next-subscription' && method === 'POST') {
        const b = input();
        this.hub.refuseNextSubscription(b.status === undefined ? undefined : (b.status as number));
        return { status: 200, body: { refuseNextSubscription: true } };
      }
      const fault = /^\/notifications\/channels\/(?<id>[^/]+)\/(?<action>drop|expire|socket-closing)$/.exec(path)?.groups;
      if (fault && method === 'POST') {
        const b = input();
        if (b.graceMs !== undefined && (typeof b.graceMs !== 'number' || b.graceMs < 0)) throw new Error('graceMs must be a number >= 0');
        const done = fault.action === 'drop' ? this.hub.dropSocket(fault.id) : fault.action === 'expire' ? this.hub.expireChannel(fault.id) : this.hub.sendSocketClosing(fault.id, b.graceMs as number | undefined);
        return done ? { status: 200, body: { [fault.action]: fault.id } } : { status: 404, body: { error: fault.action === 'expire' ? 'no such channel' : 'no WebSocket is connected to that channel' } };
      }
    } catch (err) {
      if (err instanceof NotFound) return { status: 404, body: { error: err.message } };
      throw err;
    }
    return undefined;
  }
}

class NotFound extends Error {}

/** The body of a `/__sim` control: a JSON object, or nothing. */
function controlBody(body: Buffer): Record<string, unknown> {
  const text = body.toString('utf8').trim();
  if (text === '') return {};
  const value: unknown = JSON.parse(text);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('the body must be a JSON object');
  return value as Record<string, unknown>;
}

/** The topic ids of a subscription body `[{"id": "…"}, …]`, or what is wrong with it. */
function topicList(body: Buffer): string[] | string {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return 'The request could not be understood by the server due to malformed syntax.';
  }
  if (!Array.isArray(value)) return 'The request body must be a JSON array of topics, e.g. [{"id": "v2.routing.queues.{id}.conversations"}].';
  const ids: string[] = [];
  for (const item of value) {
    const id = typeof item === 'object' && item !== null ? (item as { id?: unknown }).id : undefined;
    if (typeof id !== 'string' || id.trim() === '') return 'Every topic needs an id.';
    ids.push(id);
  }
  return ids;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A Queue (the SDK's model) as the list shows it. */
function queueBody(queue: SandboxQueue): Record<string, unknown> {
  return {
    id: queue.id,
    name: queue.name,
    division: { id: HOME_DIVISION.id, name: HOME_DIVISION.name, selfUri: `/api/v2/authorization/divisions/${HOME_DIVISION.id}` },
    description: queue.description,
    dateCreated: queue.dateCreated,
    memberCount: queue.memberCount,
    userMemberCount: queue.memberCount,
    joinedMemberCount: queue.joinedMemberCount,
    skillEvaluationMethod: 'BEST',
    autoAnswerOnly: false,
    enableTranscription: false,
    enableAudioMonitoring: false,
    enableManualAssignment: false,
    suppressInQueueCallRecording: true,
    selfUri: `/api/v2/routing/queues/${queue.id}`,
  };
}
