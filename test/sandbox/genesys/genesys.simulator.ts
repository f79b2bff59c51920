/**
 * Genesys Cloud as far as the middleware sees it: the login host's client-credentials token
 * endpoint, the public IP-range list, placing an outbound call (`POST /api/v2/conversations/calls`)
 * and reading a conversation (`GET /api/v2/conversations/{id}`, for the side panel's caller
 * look-up), with Genesys' error body, its `inin-*` headers on every response and its 429 format.
 */
import { createHash, randomUUID } from 'node:crypto';
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
import { DEFAULT_IP_RANGES, DEMO_CONVERSATIONS, type DemoConversation, type GenesysIpRange } from './genesys.data.js';

export interface GenesysSimulatorOptions extends SimulatorOptions {
  clientId?: string;
  clientSecret?: string;
  orgId?: string;
  /** The OAuth client's token lifetime (Genesys allows 300..172800 s; default 86399). */
  tokenLifetimeSeconds?: number;
  /** Replaces the IP-range list served by /api/v2/ipranges. */
  ipRanges?: GenesysIpRange[];
}

/** A call placed through `POST /api/v2/conversations/calls`. */
export interface PlacedCall {
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

  constructor(options: GenesysSimulatorOptions = {}) {
    super(options);
    const creds = SANDBOX_CREDENTIALS.genesys;
    this.clientId = options.clientId ?? creds.clientId;
    this.clientSecret = options.clientSecret ?? creds.clientSecret;
    this.orgId = options.orgId ?? creds.orgId;
    this.tokenLifetimeSeconds = options.tokenLifetimeSeconds ?? 86_399;
    this.ipRanges = (options.ipRanges ?? DEFAULT_IP_RANGES).map((r) => ({ ...r }));
    this.resetData();
  }

  override resetData(): void {
    this.calls_ = [];
    this.conversations = new Map(DEMO_CONVERSATIONS.map((c) => [c.conversationId, { ...c }]));
    this.issuedAt.clear();
    this.minuteWindows.clear();
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
      { name: 'token', method: 'POST', path: /^\/oauth\/token\/?$/, handler: (ctx) => this.token(ctx) },
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
    const headers = {
      'inin-correlation-id': randomUUID(),
      'inin-ratelimit-allowed': String(RATE_LIMIT_PER_MINUTE),
      'inin-ratelimit-count': String(w.count),
      'inin-ratelimit-reset': String(Math.max(1, Math.ceil(((minute + 1) * 60_000 - now) / 1000))),
    };
    this.perRequest.set(ctx.req, headers);
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

  private token(ctx: SimContext): void {
    const client = basicAuth(ctx.req);
    if (!client || client.user !== this.clientId || client.pass !== this.clientSecret) {
      this.sendJson(ctx, 401, {
        error: 'invalid_client',
        description: 'Invalid client credentials',
        error_description: 'Invalid client credentials',
      });
      return;
    }
    const grant = formBody(ctx.body).get('grant_type');
    if (grant !== 'client_credentials') {
      const text = grant ? `Unsupported grant type: ${grant}` : 'Missing grant type';
      this.sendJson(ctx, 400, { error: 'unsupported_grant_type', description: text, error_description: text });
      return;
    }
    const { token, issuedAt } = this.tokens.issue(client.user);
    this.issuedAt.set(token, issuedAt);
    const ttl = this.faults.tokenTtlMs;
    this.sendJson(ctx, 200, {
      access_token: token,
      token_type: 'bearer',
      expires_in: ttl !== null ? Math.max(0, Math.ceil(ttl / 1000)) : this.tokenLifetimeSeconds,
    });
  }

  /** A live bearer token, or a 401 in Genesys' error shape (sent here). */
  private authenticated(ctx: SimContext): boolean {
    const token = bearer(ctx.req);
    if (token !== undefined && this.tokens.check(token) === 'valid') {
      const at = this.issuedAt.get(token);
      if (at !== undefined && this.now() - at < this.tokenLifetimeSeconds * 1000) return true;
    }
    this.platformError(ctx, 401, 'Authentication failed', 'authentication.required');
    return false;
  }

  // ------------------------------------------------------------------------------ Platform API

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
    this.sendJson(ctx, 200, { conversationId });
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
