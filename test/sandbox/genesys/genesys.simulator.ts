/**
 * Genesys Cloud as far as the middleware sees it: the login host's client-credentials token
 * endpoint and its PKCE sign-in for the side panel (`GET /oauth/authorize`, auto-approved as the
 * demo agent, then `POST /oauth/token` with `grant_type=authorization_code`, which a browser calls
 * cross-origin), who a token belongs to (`GET /api/v2/tokens/me`), the public IP-range list,
 * placing an outbound call (`POST /api/v2/conversations/calls`, answered with a CreateCallResponse
 * `{id, selfUri}`) and reading a conversation
 * (`GET /api/v2/conversations/{id}`, for the side panel's caller look-up), with Genesys' error
 * body, its `inin-*` headers on every response and its 429 format.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { SANDBOX_CREDENTIALS } from '../shared/credentials.js';
import {
  basicAuth,
  bearer,
  formBody,
  Simulator,
  type Route,
  type SimContext,
  type SimulatorOptions,
} from '../shared/sim-server.js';
import { DEFAULT_IP_RANGES, DEMO_AGENT, DEMO_CONVERSATIONS, type DemoConversation, type GenesysIpRange } from './genesys.data.js';

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
}

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
  private conversations = new Map<string, DemoConversation>();
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
    this.resetData();
  }

  override resetData(): void {
    this.calls_ = [];
    this.conversations = new Map(DEMO_CONVERSATIONS.map((c) => [c.conversationId, { ...c }]));
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

  /** Adds a live call (a test's own caller); `GET /api/v2/conversations/{id}` then describes it. */
  addConversation(conversation: DemoConversation): void {
    this.conversations.set(conversation.conversationId, { ...conversation });
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
}

/** Stable ids derived from the conversation id, so the same call always looks the same. */
function derivedId(conversationId: string, role: string): string {
  const h = createHash('sha1').update(`${conversationId}:${role}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function later(iso: string, seconds: number): string {
  return new Date(Date.parse(iso) + seconds * 1000).toISOString();
}

/** A number as the desktop shows it (the raw address without its URI scheme). */
function raw(address: string): string {
  return address.replace(/^(tel|sip):/, '');
}

const EMPTY_MEDIA = { callbacks: [], chats: [], cobrowsesessions: [], emails: [], messages: [], screenshares: [], socialExpressions: [], videos: [] };

/**
 * An inbound call in the Conversation shape of `GET /api/v2/conversations/{id}`: the caller
 * (purpose "customer", ani/address `tel:+E164`), the IVR and ACD legs that routed it, and the
 * agent who has it now.
 */
function conversationBody(c: DemoConversation): Record<string, unknown> {
  const id = c.conversationId;
  const userId = derivedId(id, 'user');
  const queueId = derivedId('queue', 'customer-care');
  const divisionId = derivedId('division', 'home');
  const ivrEnd = later(c.startTime, 25);
  const agentStart = later(c.startTime, 40);
  const call = (role: string, state: string, self: string, other: string, connectedTime: string, disconnectedTime?: string) => ({
    state,
    id: derivedId(id, `call:${role}`),
    direction: 'inbound',
    recording: false,
    recordingState: 'none',
    muted: false,
    confined: false,
    held: false,
    securePause: false,
    self: { nameRaw: '', addressNormalized: self, addressRaw: raw(self), addressDisplayable: raw(self) },
    other: { nameRaw: '', addressNormalized: other, addressRaw: raw(other), addressDisplayable: raw(other) },
    provider: 'Edge',
    connectedTime,
    ...(disconnectedTime ? { disconnectedTime, disconnectType: 'transfer' } : {}),
  });
  const leg = (role: string, fields: Record<string, unknown>) => ({ id: derivedId(id, role), wrapupRequired: false, attributes: {}, ...EMPTY_MEDIA, evaluations: [], ...fields });
  return {
    id,
    startTime: c.startTime,
    address: c.dnis,
    participants: [
      leg('customer', { startTime: c.startTime, connectedTime: c.startTime, name: 'Caller', purpose: 'customer', participantType: 'External', address: c.ani, ani: c.ani, dnis: c.dnis, calls: [call('customer', 'connected', c.ani, c.dnis, c.startTime)] }),
      leg('ivr', { startTime: c.startTime, endTime: ivrEnd, connectedTime: c.startTime, name: 'Customer Care IVR', purpose: 'ivr', participantType: 'Internal', address: c.dnis, ani: c.ani, dnis: c.dnis, calls: [call('ivr', 'disconnected', c.dnis, c.ani, c.startTime, ivrEnd)] }),
      leg('acd', { startTime: ivrEnd, endTime: agentStart, connectedTime: ivrEnd, name: 'Customer Care', queueId, queueName: 'Customer Care', purpose: 'acd', participantType: 'Internal', address: c.dnis, ani: c.ani, dnis: c.dnis, calls: [call('acd', 'disconnected', c.dnis, c.ani, ivrEnd, agentStart)] }),
      leg('agent', { startTime: agentStart, connectedTime: agentStart, name: 'Sandbox Agent', userUri: `/api/v2/users/${userId}`, userId, queueId, purpose: 'agent', participantType: 'Internal', address: `sip:${userId}@localhost`, ani: c.ani, dnis: c.dnis, wrapupRequired: true, alertingTimeoutMs: 8000, calls: [call('agent', 'connected', `sip:${userId}@localhost`, c.ani, agentStart)] }),
    ],
    recordingState: 'NONE',
    state: 'connected',
    divisions: [{ division: { id: divisionId, selfUri: `/api/v2/authorization/divisions/${divisionId}` }, entities: [{ id: userId, selfUri: `/api/v2/users/${userId}` }] }],
    selfUri: `/api/v2/conversations/${id}`,
  };
}
