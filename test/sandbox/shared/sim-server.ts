/**
 * The shared machinery of every simulator: an HTTP server on 127.0.0.1, a route table, fault
 * controls (latency, errors, forced status, the vendor's own rate limit, malformed bodies,
 * connection resets, token expiry), the vendor's request limits and counters of the calls
 * received (with how many customers each batched look-up carried).
 *
 * A vendor simulator extends `Simulator`, declares its routes and says how its vendor formats
 * an error and a rate-limit refusal, and, where its vendor bounds a request, which limits it
 * has (`initLimits`) and how an over-large request is refused (`refuseOversized`). Everything
 * else (faults, limits, counters, the `/__sim/*` control API used by tests, benchmarks and the
 * CLI) lives here so all four behave alike.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface Faults {
  /** Added latency before answering, in ms. */
  latencyMs: number;
  /** Uniform extra latency in [0, latencyJitterMs) on top of latencyMs (a simple distribution). */
  latencyJitterMs: number;
  /** Share (0..1) of calls answered with a 500 in the vendor's error format. */
  errorRate: number;
  /** When set, every affected call is answered with this status in the vendor's error format. */
  forcedStatus: number | null;
  /** The vendor's own per-second limit (fixed one-second windows); null for none. */
  rateLimitPerSecond: number | null;
  /** Break successful JSON bodies: not JSON at all, or cut off half way. */
  malformed: 'none' | 'invalid-json' | 'truncated';
  /** Share (0..1) of calls whose connection is destroyed without any answer. */
  resetRate: number;
  /** Issued tokens stop working this many ms after issue; null means they never expire. */
  tokenTtlMs: number | null;
  /** The next N affected calls fail with a 503 in the vendor's format (counts down to 0). */
  failNext: number;
  /** Route names the faults apply to; empty means every route. */
  only: string[];
}

export const DEFAULT_FAULTS: Readonly<Faults> = Object.freeze({
  latencyMs: 0,
  latencyJitterMs: 0,
  errorRate: 0,
  forcedStatus: null,
  rateLimitPerSecond: null,
  malformed: 'none',
  resetRate: 0,
  tokenTtlMs: null,
  failNext: 0,
  only: [],
});

export interface RecordedRequest {
  at: number;
  route: string;
  method: string;
  /** Path and raw query string exactly as received (still percent-encoded). */
  url: string;
  /** The decoded query parameters. */
  query: Record<string, string>;
  body: string;
  /** The W3C trace context the caller sent, if any. */
  traceparent?: string;
  /**
   * How many look-up keys (customers) a query carried: the values of an IN list, an `or` chain
   * of equalities, a `fieldINa,b` term, the OR-ed terms of a SOSL search; 1 for a read by key.
   * Set once the simulator has parsed the query (whether or not anything matched); absent for
   * calls that name no keys or never reached the parser.
   */
  batchSize?: number;
}

/** How many keys the batched look-ups of one route carried. */
export interface BatchStats {
  /** Look-ups that named their keys. */
  calls: number;
  /** Keys carried in all. */
  keys: number;
  /** The most keys one call carried. */
  max: number;
  /** Calls per batch size, e.g. { "1": 40, "25": 3 }. */
  sizes: Record<string, number>;
}

export interface CallStats {
  total: number;
  byRoute: Record<string, number>;
  /** Calls per epoch second (only seconds that saw calls). */
  perSecond: Record<string, number>;
  maxPerSecond: number;
  rateLimited: number;
  /** Calls refused because the request was larger than a vendor limit (URI, headers, statement). */
  oversized: number;
  /** Batched look-ups per route. */
  batches: Record<string, BatchStats>;
}

/**
 * A vendor's request limits, name → bound (null: unbounded). Each simulator declares its own with
 * the vendor's defaults; options and `PUT /__sim/limits` change them (tests make them small).
 */
export type Limits = Record<string, number | null>;

export interface SimContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** Named groups of the route's path pattern, already percent-decoded. */
  params: Record<string, string>;
  query: URLSearchParams;
  body: Buffer;
  route: string;
}

export interface Route {
  name: string;
  method: string | string[];
  path: RegExp;
  handler: (ctx: SimContext) => void | Promise<void>;
}

export interface SimulatorOptions {
  port?: number;
  host?: string;
  /** Clock used for token lifetimes and rate-limit windows (tests may pass a fake one). */
  now?: () => number;
  /** Source of randomness for error and reset rates (tests may pass a fixed one). */
  random?: () => number;
}

const MAX_RECORDED = 2000;
const MAX_BODY = 1024 * 1024;
/**
 * Node refuses requests whose request line and headers exceed 16 KiB (431) before any handler
 * runs. The simulators allow far more, so that the vendor's own bound (`refuseOversized`) is the
 * one a client meets, and a test can raise it.
 */
const NODE_MAX_HEADER_BYTES = 1024 * 1024;

export abstract class Simulator<L extends Limits = Limits> {
  abstract readonly name: string;
  faults: Faults = { ...DEFAULT_FAULTS, only: [] };
  readonly now: () => number;
  protected readonly random: () => number;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly socketWaiters: Array<{ max: number; resolve: () => void }> = [];
  private stats: CallStats = emptyStats();
  private recorded: RecordedRequest[] = [];
  private callWaiters: { n: number; route?: string; resolve: () => void }[] = [];
  private readonly recordOf = new WeakMap<IncomingMessage, RecordedRequest>();
  private configuredLimits = {} as L;
  /** The vendor's request limits in force (see `initLimits`, `setLimits`). */
  limits = {} as L;
  private window = { second: -1, count: 0 };
  private readonly host: string;
  private readonly requestedPort: number;
  readonly tokens: TokenStore;

  constructor(options: SimulatorOptions = {}) {
    this.host = options.host ?? '127.0.0.1';
    this.requestedPort = options.port ?? 0;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.tokens = new TokenStore(this.now, () => this.faults.tokenTtlMs);
  }

  /** The vendor's routes, matched in order. */
  protected abstract routes(): Route[];
  /** Answer `status` in the vendor's own error format. */
  protected abstract sendError(ctx: SimContext, status: number, message: string): void;
  /** Refuse a call in the way the vendor signals an exhausted rate limit. */
  protected abstract sendRateLimited(ctx: SimContext, retryAfterSeconds: number): void;
  /** Headers the vendor puts on every response (e.g. Salesforce's Sforce-Limit-Info). */
  protected commonHeaders(_ctx: SimContext): Record<string, string> {
    return {};
  }
  /** Restore the seeded data (after a write test). */
  abstract resetData(): void;
  /** Called once the server listens, for a simulator that serves more than HTTP requests on it (the Genesys one: WebSocket upgrades). */
  protected attachToServer(_server: Server): void {}
  /**
   * The simulator's own `/__sim/*` controls (path without `/__sim`), tried before answering 404:
   * a status and a JSON value, or undefined when the path is not one of them. A thrown error is a 400.
   */
  protected vendorControl(_path: string, _method: string, _body: Buffer): { status: number; body: unknown } | undefined {
    return undefined;
  }
  /**
   * Refuses a request that is larger than the vendor accepts (before routing, as the vendor's
   * front end does) and returns true; false lets it through. Default: no bound.
   */
  protected refuseOversized(_ctx: SimContext): boolean {
    return false;
  }

  get port(): number {
    const addr = this.server?.address() as AddressInfo | null | undefined;
    if (!addr) throw new Error(`${this.name} simulator is not listening`);
    return addr.port;
  }

  get url(): string {
    return `http://${this.host}:${this.port}`;
  }

  async start(): Promise<this> {
    const routes = this.routes();
    const server = createServer({ maxHeaderSize: NODE_MAX_HEADER_BYTES }, (req, res) => {
      this.handle(routes, req, res).catch((err: unknown) => {
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(`simulator bug: ${String(err)}`);
        } else {
          res.destroy();
        }
      });
    });
    server.keepAliveTimeout = 65_000;
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => {
        this.sockets.delete(socket);
        for (const w of [...this.socketWaiters]) {
          if (this.sockets.size <= w.max) {
            this.socketWaiters.splice(this.socketWaiters.indexOf(w), 1);
            w.resolve();
          }
        }
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.requestedPort, this.host, () => resolve());
    });
    this.server = server;
    this.attachToServer(server);
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Number of open client connections (to prove sockets are freed after a timeout). */
  get openConnections(): number {
    return this.sockets.size;
  }

  /** Resolves once at most `max` client connections are open (an event, not polling). */
  whenConnectionsAtMost(max: number): Promise<void> {
    if (this.sockets.size <= max) return Promise.resolve();
    return new Promise((resolve) => this.socketWaiters.push({ max, resolve }));
  }

  /** Resolves once at least `n` calls (to `route`, or in all) have been received since the last reset (an event, not polling). */
  whenCallsAtLeast(n: number, route?: string): Promise<void> {
    if (this.callCount(route) >= n) return Promise.resolve();
    return new Promise((resolve) => this.callWaiters.push({ n, route, resolve }));
  }

  setFaults(partial: Partial<Faults>): Faults {
    this.faults = { ...this.faults, ...partial, only: partial.only ?? this.faults.only };
    return this.faults;
  }

  resetFaults(): void {
    this.faults = { ...DEFAULT_FAULTS, only: [] };
  }

  calls(): CallStats {
    return structuredClone(this.stats);
  }

  /** Calls received by one route (0 when none). */
  callCount(route?: string): number {
    return route === undefined ? this.stats.total : (this.stats.byRoute[route] ?? 0);
  }

  requests(route?: string): RecordedRequest[] {
    return route === undefined ? [...this.recorded] : this.recorded.filter((r) => r.route === route);
  }

  resetCalls(): void {
    this.stats = emptyStats();
    this.recorded = [];
    this.window = { second: -1, count: 0 };
  }

  /** Batch statistics of one route (zeros when it carried none). */
  batchStats(route: string): BatchStats {
    return structuredClone(this.stats.batches[route] ?? emptyBatchStats());
  }

  /** The batch sizes of the recorded calls to `route` (or all), oldest first; calls that named no keys are left out. */
  batchSizes(route?: string): number[] {
    return this.requests(route).flatMap((r) => (r.batchSize === undefined ? [] : [r.batchSize]));
  }

  /**
   * Changes limits while running (the control API and tests use it). Unknown names and values
   * other than null or a non-negative integer are refused.
   */
  setLimits(partial: Partial<Limits>): L {
    const checked = checkLimits(partial, this.configuredLimits);
    this.limits = { ...this.limits, ...checked };
    return this.limits;
  }

  /** Limits back to what the simulator was built with. */
  resetLimits(): void {
    this.limits = { ...this.configuredLimits };
  }

  /**
   * Everything back to the seeded, fault-free state (limits as built). `keepTokens`: the tokens
   * issued so far stay valid (a service that outlives the reset keeps its log-in).
   */
  reset(options: { keepTokens?: boolean } = {}): void {
    this.resetFaults();
    this.resetLimits();
    this.resetCalls();
    if (!options.keepTokens) this.tokens.clear();
    this.resetData();
  }

  // ---------------------------------------------------------------- helpers for subclasses

  /** Declares the vendor's limits and their defaults, with overrides from the options (call once, in the constructor). */
  protected initLimits(defaults: L, overrides: Partial<Limits> = {}): void {
    this.configuredLimits = { ...defaults, ...checkLimits(overrides, defaults) };
    this.limits = { ...this.configuredLimits };
  }

  /** Records how many keys (customers) this call's query carried (see `RecordedRequest.batchSize`). */
  protected noteBatch(ctx: SimContext, size: number): void {
    if (!Number.isInteger(size) || size < 1) return;
    const record = this.recordOf.get(ctx.req);
    if (record) record.batchSize = size;
    const stats = (this.stats.batches[ctx.route] ??= emptyBatchStats());
    stats.calls++;
    stats.keys += size;
    stats.max = Math.max(stats.max, size);
    stats.sizes[String(size)] = (stats.sizes[String(size)] ?? 0) + 1;
  }

  /**
   * Sizes of the request as a front end measures them: the request target (path and query, as
   * sent) and the header fields (`Name: value` plus CRLF each), in bytes.
   */
  protected requestBytes(ctx: SimContext): { uri: number; headers: number } {
    const raw = ctx.req.rawHeaders;
    let headers = 0;
    for (let i = 0; i + 1 < raw.length; i += 2) headers += Buffer.byteLength(raw[i]) + Buffer.byteLength(raw[i + 1]) + 4;
    return { uri: Buffer.byteLength(ctx.req.url ?? '/'), headers };
  }

  protected sendJson(ctx: SimContext, status: number, body: unknown, headers: Record<string, string> = {}): void {
    let text = JSON.stringify(body);
    if (status < 300 && this.applies(ctx.route)) {
      if (this.faults.malformed === 'invalid-json') text = `<html><body>Bad Gateway</body></html>`;
      else if (this.faults.malformed === 'truncated') text = text.slice(0, Math.max(1, Math.floor(text.length / 2)));
    }
    this.send(ctx, status, text, { 'content-type': 'application/json;charset=UTF-8', ...headers });
  }

  protected send(ctx: SimContext, status: number, body: string | Buffer, headers: Record<string, string> = {}): void {
    if (ctx.res.headersSent || ctx.res.destroyed) return;
    ctx.res.writeHead(status, { ...this.commonHeaders(ctx), ...headers, 'content-length': String(Buffer.byteLength(body)) });
    ctx.res.end(body);
  }

  /**
   * Answers as a front end in the vendor's path does (a proxy or web server refusing the request
   * before the API sees it): no vendor headers, the connection closed afterwards.
   */
  protected sendFrontEnd(ctx: SimContext, status: number, body: string, contentType = 'text/html;charset=iso-8859-1'): void {
    if (ctx.res.headersSent || ctx.res.destroyed) return;
    ctx.res.writeHead(status, { 'content-type': contentType, 'content-length': String(Buffer.byteLength(body)), connection: 'close' });
    ctx.res.end(body);
  }

  // ---------------------------------------------------------------- request pipeline

  /** Whether the fault controls apply to this route (`faults.only`). */
  protected applies(route: string): boolean {
    return this.faults.only.length === 0 || this.faults.only.includes(route);
  }

  private async handle(routes: Route[], req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? this.host}`);
    const body = await readBody(req);
    if (url.pathname.startsWith('/__sim/')) {
      this.control(url, req.method ?? 'GET', body, res);
      return;
    }
    const method = req.method ?? 'GET';
    let matched: { route: Route; params: Record<string, string> } | undefined;
    for (const route of routes) {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      if (!methods.includes(method)) continue;
      const m = route.path.exec(url.pathname);
      if (m) {
        const params: Record<string, string> = {};
        for (const [k, v] of Object.entries(m.groups ?? {})) params[k] = v === undefined ? '' : safeDecode(v);
        matched = { route, params };
        break;
      }
    }
    const ctx: SimContext = { req, res, url, params: matched?.params ?? {}, query: url.searchParams, body, route: matched?.route.name ?? 'unmatched' };
    this.count(ctx);
    if (this.refuseOversized(ctx)) {
      this.stats.oversized++;
      return;
    }
    if (!matched) {
      this.sendError(ctx, 404, `The requested resource does not exist: ${url.pathname}`);
      return;
    }
    if (this.applies(ctx.route)) {
      if (this.faults.resetRate > 0 && this.random() < this.faults.resetRate) {
        req.socket.destroy();
        return;
      }
      const delay = this.faults.latencyMs + (this.faults.latencyJitterMs > 0 ? this.random() * this.faults.latencyJitterMs : 0);
      if (delay > 0 && !(await waitUnlessClosed(res, delay))) return;
      const limit = this.faults.rateLimitPerSecond;
      if (limit !== null && !this.takeRateSlot(limit)) {
        this.stats.rateLimited++;
        this.sendRateLimited(ctx, this.secondsToWindowEnd());
        return;
      }
      if (this.faults.failNext > 0) {
        this.faults.failNext--;
        this.sendError(ctx, 503, 'Service temporarily unavailable');
        return;
      }
      if (this.faults.forcedStatus !== null) {
        this.sendError(ctx, this.faults.forcedStatus, 'Forced failure');
        return;
      }
      if (this.faults.errorRate > 0 && this.random() < this.faults.errorRate) {
        this.sendError(ctx, 500, 'Internal server error');
        return;
      }
    }
    await matched.route.handler(ctx);
  }

  private takeRateSlot(limit: number): boolean {
    const second = Math.floor(this.now() / 1000);
    if (second !== this.window.second) this.window = { second, count: 0 };
    if (this.window.count >= limit) return false;
    this.window.count++;
    return true;
  }

  /** Whole seconds until the current rate-limit window ends (at least 1). */
  protected secondsToWindowEnd(): number {
    return Math.max(1, Math.ceil(((Math.floor(this.now() / 1000) + 1) * 1000 - this.now()) / 1000));
  }

  private count(ctx: SimContext): void {
    const s = this.stats;
    s.total++;
    s.byRoute[ctx.route] = (s.byRoute[ctx.route] ?? 0) + 1;
    const second = String(Math.floor(this.now() / 1000));
    s.perSecond[second] = (s.perSecond[second] ?? 0) + 1;
    if (s.perSecond[second] > s.maxPerSecond) s.maxPerSecond = s.perSecond[second];
    const record: RecordedRequest = {
      at: this.now(),
      route: ctx.route,
      method: ctx.req.method ?? 'GET',
      url: ctx.req.url ?? '/',
      query: Object.fromEntries(ctx.query.entries()),
      body: ctx.body.toString('utf8'),
      traceparent: typeof ctx.req.headers.traceparent === 'string' ? ctx.req.headers.traceparent : undefined,
    };
    this.recorded.push(record);
    this.recordOf.set(ctx.req, record);
    if (this.recorded.length > MAX_RECORDED) this.recorded.splice(0, this.recorded.length - MAX_RECORDED);
    if (this.callWaiters.length > 0) {
      const due = this.callWaiters.filter((w) => this.callCount(w.route) >= w.n);
      this.callWaiters = this.callWaiters.filter((w) => this.callCount(w.route) < w.n);
      for (const w of due) w.resolve();
    }
  }

  /** The `/__sim/*` control API: faults, limits, counters, batch sizes, recorded requests, token expiry, reset. */
  private control(url: URL, method: string, body: Buffer, res: ServerResponse): void {
    const reply = (status: number, value: unknown) => {
      const text = JSON.stringify(value);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
      res.end(text);
    };
    const path = url.pathname.slice('/__sim'.length);
    try {
      if (path === '/faults' && method === 'GET') return reply(200, this.faults);
      if (path === '/faults' && (method === 'PUT' || method === 'POST' || method === 'PATCH')) {
        return reply(200, this.setFaults(parseFaults(body)));
      }
      if (path === '/faults' && method === 'DELETE') {
        this.resetFaults();
        return reply(200, this.faults);
      }
      if (path === '/calls' && method === 'GET') return reply(200, this.calls());
      if (path === '/calls' && method === 'DELETE') {
        this.resetCalls();
        return reply(200, this.calls());
      }
      if (path === '/requests' && method === 'GET') return reply(200, this.requests(url.searchParams.get('route') ?? undefined));
      if (path === '/limits' && method === 'GET') return reply(200, this.limits);
      if (path === '/limits' && (method === 'PUT' || method === 'POST' || method === 'PATCH')) return reply(200, this.setLimits(parseLimits(body)));
      if (path === '/limits' && method === 'DELETE') {
        this.resetLimits();
        return reply(200, this.limits);
      }
      if (path === '/batches' && method === 'GET') {
        const route = url.searchParams.get('route');
        return reply(200, route === null ? this.calls().batches : { ...this.batchStats(route), recent: this.batchSizes(route) });
      }
      if (path === '/expire-tokens' && method === 'POST') {
        this.tokens.expireAll();
        return reply(200, { expired: true });
      }
      if (path === '/reset' && method === 'POST') {
        this.reset();
        return reply(200, { reset: true });
      }
      const own = this.vendorControl(path, method, body);
      if (own) return reply(own.status, own.body);
      return reply(404, { error: `unknown control ${method} ${path}` });
    } catch (err) {
      return reply(400, { error: (err as Error).message });
    }
  }
}

function emptyStats(): CallStats {
  return { total: 0, byRoute: {}, perSecond: {}, maxPerSecond: 0, rateLimited: 0, oversized: 0, batches: {} };
}

function emptyBatchStats(): BatchStats {
  return { calls: 0, keys: 0, max: 0, sizes: {} };
}

/** Only names the simulator declares, each null or a non-negative integer. */
function checkLimits(partial: Partial<Limits>, known: Limits): Limits {
  const out: Limits = {};
  for (const [key, value] of Object.entries(partial)) {
    if (!Object.hasOwn(known, key)) throw new Error(`unknown limit "${key}"`);
    if (value === undefined) continue;
    if (value !== null && (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)) {
      throw new Error(`${key} must be null or an integer >= 0`);
    }
    out[key] = value;
  }
  return out;
}

/** A JSON body of limit settings (the control API). */
export function parseLimits(body: Buffer | string): Partial<Limits> {
  const text = body.toString();
  const value: unknown = text.trim() === '' ? {} : JSON.parse(text);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('limits must be a JSON object');
  return value as Partial<Limits>;
}

const FAULT_KEYS = new Set(Object.keys(DEFAULT_FAULTS));

/** Validates a JSON body of fault settings (the control API and CLI share it). */
export function parseFaults(body: Buffer | string): Partial<Faults> {
  const text = body.toString();
  const value: unknown = text.trim() === '' ? {} : JSON.parse(text);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('faults must be a JSON object');
  for (const key of Object.keys(value)) if (!FAULT_KEYS.has(key)) throw new Error(`unknown fault "${key}"`);
  const v = value as Partial<Faults>;
  for (const k of ['latencyMs', 'latencyJitterMs', 'errorRate', 'resetRate', 'failNext'] as const) {
    if (v[k] !== undefined && (typeof v[k] !== 'number' || v[k] < 0)) throw new Error(`${k} must be a number >= 0`);
  }
  if (v.malformed !== undefined && !['none', 'invalid-json', 'truncated'].includes(v.malformed)) {
    throw new Error('malformed must be none, invalid-json or truncated');
  }
  return v;
}

function waitUnlessClosed(res: ServerResponse, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const onClose = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      res.off('close', onClose);
      resolve(!res.destroyed);
    }, ms);
    res.once('close', onClose);
  });
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        req.destroy();
        reject(new Error('body too large'));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** Issued bearer tokens with a lifetime taken from the faults (so tests can shorten it live). */
export class TokenStore {
  private readonly issued = new Map<string, { clientId: string; issuedAt: number; revoked: boolean }>();

  constructor(
    private readonly now: () => number,
    private readonly ttl: () => number | null,
  ) {}

  issue(clientId: string): { token: string; issuedAt: number } {
    const token = randomBytes(24).toString('base64url');
    const issuedAt = this.now();
    this.issued.set(token, { clientId, issuedAt, revoked: false });
    return { token, issuedAt };
  }

  check(token: string | undefined): 'valid' | 'expired' | 'unknown' {
    if (!token) return 'unknown';
    const entry = this.issued.get(token);
    if (!entry) return 'unknown';
    const ttl = this.ttl();
    if (entry.revoked || (ttl !== null && this.now() - entry.issuedAt >= ttl)) return 'expired';
    return 'valid';
  }

  expireAll(): void {
    for (const entry of this.issued.values()) entry.revoked = true;
  }

  clear(): void {
    this.issued.clear();
  }

  get count(): number {
    return this.issued.size;
  }
}

/** `Authorization: Bearer x` → x. */
export function bearer(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  return h && /^bearer /i.test(h) ? h.slice(7).trim() : undefined;
}

/** `Authorization: Basic base64(user:pass)` → { user, pass }. */
export function basicAuth(req: IncomingMessage): { user: string; pass: string } | undefined {
  const h = req.headers.authorization;
  if (!h || !/^basic /i.test(h)) return undefined;
  const decoded = Buffer.from(h.slice(6).trim(), 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return undefined;
  return { user: decoded.slice(0, i), pass: decoded.slice(i + 1) };
}

/** An `application/x-www-form-urlencoded` body. */
export function formBody(body: Buffer): URLSearchParams {
  return new URLSearchParams(body.toString('utf8'));
}
