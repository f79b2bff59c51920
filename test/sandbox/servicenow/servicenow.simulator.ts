/**
 * A ServiceNow instance as far as the middleware sees it: OAuth (`/oauth_token.do`) or Basic auth,
 * the Table API on `core_company` and `incident`, and the Aggregate (stats) API, with ServiceNow's
 * wire quirks: every value a string, reference fields as `{link,value}`, counts as strings,
 * `X-Total-Count` / `Link` paging headers, and encoded queries whose invalid terms are silently
 * ignored (see encoded-query.ts).
 *
 * Batched look-ups: `fieldINa,b,c` on the Table API, and the Aggregate API grouped with
 * `sysparm_group_by` (one entry per group that has records: `{stats:{count:"N"}, groupby_fields:
 * [{field, value}]}`); each call records how many keys it carried (`/__sim/batches`). Limits
 * (`ServiceNowLimits`): an over-long request target is refused with 414 by the front end; a query
 * too long for the `Link` header of a result that needs paging is 400 "Pagination not supported"
 * unless `sysparm_suppress_pagination_header=true`; an optional response-size cap.
 */
import { randomBytes } from 'node:crypto';

import { SANDBOX_CREDENTIALS } from '../shared/credentials.js';
import { DEMO_CUSTOMERS, type DemoCustomer } from '../shared/seed.js';
import {
  basicAuth,
  bearer,
  formBody,
  type Route,
  type SimContext,
  Simulator,
  type SimulatorOptions,
} from '../shared/sim-server.js';
import { candidateRecords, compareValues, compileEncodedQuery, encodedQueryBatchSize, type FieldResolver, type ResolvedField } from './encoded-query.js';
import { fieldDef, seedTables, type SnRecord,tableDef } from './servicenow.data.js';

export interface ServiceNowSimulatorOptions extends SimulatorOptions {
  username?: string;
  password?: string;
  clientId?: string;
  clientSecret?: string;
  /** Lifetime of an OAuth access token (ServiceNow's default: 1799 s). faults.tokenTtlMs overrides it. */
  tokenLifetimeSeconds?: number;
  /** The customers to hold (default: the 60 demo customers). */
  customers?: readonly DemoCustomer[];
  /** Request limits other than the defaults (tests make them small); see `SERVICENOW_LIMITS`. */
  limits?: Partial<ServiceNowLimits>;
}

/** Bounds on a request to the instance; null: unbounded. */
export type ServiceNowLimits = {
  /**
   * Bytes of the request target (path and query) the instance's front end accepts; longer is 414
   * "Request-URI Too Large". ServiceNow documents no figure; 8,192 is the common front-end bound.
   */
  maxUrlBytes: number | null;
  /**
   * Bytes the Table API's `Link` header may take. When a result needs paging and the links (each a
   * copy of the request's query) would be longer, the instance answers 400 "Pagination not
   * supported"; `sysparm_suppress_pagination_header=true`, or a sysparm_limit that fits the whole
   * result, avoids it. ServiceNow documents no figure; 8,192 (a common response-header bound) is assumed.
   */
  maxPaginationHeaderBytes: number | null;
  /**
   * Bytes of a Table API response body before the instance stops writing it: the client gets a 200
   * whose JSON is cut off, as reported for over-large answers. Not a documented inbound figure, so
   * off by default.
   */
  maxResponseBytes: number | null;
};

export const SERVICENOW_LIMITS: Readonly<ServiceNowLimits> = Object.freeze({ maxUrlBytes: 8_192, maxPaginationHeaderBytes: 8_192, maxResponseBytes: null });

/** The Table API's default page size when sysparm_limit is absent. */
const DEFAULT_LIMIT = 10_000;
/** sys_id of the (simulated) REST rate-limit rule that refused a call. */
const RATE_LIMIT_RULE = '5b9c3e4d1b2f4a10a1c2d3e4f5a6b7c8';

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

const TABLE_PATH = String.raw`^/api/now/(?:v[12]/)?table/(?<table>[^/]+)`;

export class ServiceNowSimulator extends Simulator<ServiceNowLimits> {
  readonly name = 'servicenow';
  private readonly username: string;
  private readonly password: string;
  private readonly clientId: string;
  private readonly clientSecret: string;
  private readonly tokenLifetimeSeconds: number;
  private readonly customers: readonly DemoCustomer[];
  private tables = new Map<string, SnRecord[]>();
  private bySysId = new Map<string, Map<string, SnRecord>>();
  /** access token → issue time (enforces the native lifetime; faults.tokenTtlMs is the TokenStore's). */
  private readonly issuedAt = new Map<string, number>();
  /** refresh token → client id. */
  private readonly refreshTokens = new Map<string, string>();

  constructor(options: ServiceNowSimulatorOptions = {}) {
    super(options);
    const creds = SANDBOX_CREDENTIALS.servicenow;
    this.username = options.username ?? creds.username;
    this.password = options.password ?? creds.password;
    this.clientId = options.clientId ?? creds.clientId;
    this.clientSecret = options.clientSecret ?? creds.clientSecret;
    this.tokenLifetimeSeconds = options.tokenLifetimeSeconds ?? 1799;
    this.customers = options.customers ?? DEMO_CUSTOMERS;
    this.initLimits({ ...SERVICENOW_LIMITS }, options.limits);
    this.resetData();
  }

  override resetData(): void {
    this.tables = seedTables(this.customers);
    this.bySysId = new Map([...this.tables].map(([name, rows]) => [name, new Map(rows.map((r) => [r.sys_id, r]))]));
    this.issuedAt.clear();
    this.refreshTokens.clear();
  }

  /** A copy of a table's rows (tests use it to compute expectations). */
  rows(table: string): SnRecord[] {
    return (this.tables.get(table) ?? []).map((r) => ({ ...r }));
  }

  protected override routes(): Route[] {
    return [
      { name: 'token', method: 'POST', path: /^\/oauth_token\.do$/, handler: (ctx) => this.token(ctx) },
      { name: 'table', method: 'GET', path: new RegExp(`${TABLE_PATH}/?$`), handler: (ctx) => this.list(ctx) },
      { name: 'record', method: 'GET', path: new RegExp(`${TABLE_PATH}/(?<sysId>[^/]+)$`), handler: (ctx) => this.record(ctx) },
      { name: 'stats', method: 'GET', path: /^\/api\/now\/(?:v[12]\/)?stats\/(?<table>[^/]+)\/?$/, handler: (ctx) => this.aggregate(ctx) },
    ];
  }

  // ------------------------------------------------------------------------------ error formats

  private envelope(ctx: SimContext, status: number, message: string, detail: string | null, headers: Record<string, string> = {}): void {
    // error bodies are never broken by the `malformed` fault: send() bypasses it
    this.send(ctx, status, JSON.stringify({ error: { message, detail }, status: 'failure' }), {
      'content-type': 'application/json;charset=UTF-8',
      ...headers,
    });
  }

  protected override sendError(ctx: SimContext, status: number, message: string): void {
    if (status === 401) {
      this.envelope(ctx, 401, 'User Not Authenticated', 'Required to provide Auth information');
    } else if (ctx.route === 'unmatched') {
      this.envelope(ctx, status, 'Requested URI does not represent any resource', null);
    } else {
      this.envelope(ctx, status, message, `HTTP ${status} ${STATUS_TEXT[status] ?? 'Error'}`);
    }
  }

  /** The front end refuses an over-long request target before the instance sees it: an HTML page. */
  protected override refuseOversized(ctx: SimContext): boolean {
    const max = this.limits.maxUrlBytes;
    if (max === null || this.requestBytes(ctx).uri <= max) return false;
    this.sendFrontEnd(ctx, 414, '<html>\r\n<head><title>414 Request-URI Too Large</title></head>\r\n<body>\r\n<center><h1>414 Request-URI Too Large</h1></center>\r\n</body>\r\n</html>\r\n');
    return true;
  }

  protected override sendRateLimited(ctx: SimContext, retryAfterSeconds: number): void {
    const now = this.now();
    const resetEpochSeconds = Math.floor(now / 1000) + 1;
    this.envelope(
      ctx,
      429,
      'Rate limit exceeded',
      `The rate limit of ${this.faults.rateLimitPerSecond ?? 0} requests per second was exceeded; retry after ${retryAfterSeconds} seconds`,
      {
        'Retry-After': String(retryAfterSeconds),
        'X-RateLimit-Limit': String(this.faults.rateLimitPerSecond ?? 0),
        'X-RateLimit-Reset': String(resetEpochSeconds),
        'X-RateLimit-Rule': RATE_LIMIT_RULE,
      },
    );
  }

  // ------------------------------------------------------------------------------ auth

  private token(ctx: SimContext): void {
    const form = formBody(ctx.body);
    const basic = basicAuth(ctx.req);
    const clientId = form.get('client_id') ?? basic?.user;
    const clientSecret = form.get('client_secret') ?? basic?.pass;
    const denied = () =>
      this.sendJson(ctx, 401, { error_description: 'access_denied', error: 'server_error' });
    if (clientId !== this.clientId || clientSecret !== this.clientSecret) return denied();
    const grant = form.get('grant_type');
    if (grant === 'password') {
      if (form.get('username') !== this.username || form.get('password') !== this.password) return denied();
    } else if (grant === 'refresh_token') {
      const rt = form.get('refresh_token') ?? '';
      if (this.refreshTokens.get(rt) !== clientId) return denied();
    } else if (grant !== 'client_credentials') {
      return denied();
    }
    const { token, issuedAt } = this.tokens.issue(clientId);
    this.issuedAt.set(token, issuedAt);
    const refresh = randomBytes(24).toString('base64url');
    this.refreshTokens.set(refresh, clientId);
    const ttl = this.faults.tokenTtlMs;
    const expiresIn = ttl !== null ? Math.max(0, Math.ceil(ttl / 1000)) : this.tokenLifetimeSeconds;
    this.sendJson(ctx, 200, {
      access_token: token,
      refresh_token: refresh,
      scope: 'useraccount',
      token_type: 'Bearer',
      expires_in: expiresIn,
    });
  }

  /** Basic with the integration user, or a live OAuth bearer token. Sends the 401 itself. */
  private authenticated(ctx: SimContext): boolean {
    const basic = basicAuth(ctx.req);
    if (basic) {
      if (basic.user === this.username && basic.pass === this.password) return true;
    } else {
      const token = bearer(ctx.req);
      if (token !== undefined && this.tokens.check(token) === 'valid') {
        const at = this.issuedAt.get(token);
        if (at !== undefined && this.now() - at < this.tokenLifetimeSeconds * 1000) return true;
      }
    }
    this.sendError(ctx, 401, 'User Not Authenticated');
    return false;
  }

  // ------------------------------------------------------------------------------ Table API

  /** Resolves a (dot-walked) field on a table; undefined when ServiceNow would not know it. */
  private resolver(table: string): FieldResolver<SnRecord> {
    return (path: string): ResolvedField<SnRecord> | undefined => {
      const parts = path.split('.');
      let def = tableDef(table);
      const hops: string[] = [];
      const refTables: string[] = [];
      for (let i = 0; i < parts.length - 1; i++) {
        const f = fieldDef(def, parts[i]);
        if (!f || f.type !== 'reference' || !f.reference || !tableDef(f.reference)) return undefined;
        hops.push(parts[i]);
        refTables.push(f.reference);
        def = tableDef(f.reference);
      }
      const last = parts[parts.length - 1];
      const field = fieldDef(def, last);
      if (!field) return undefined;
      return {
        type: field.type,
        get: (record: SnRecord): string => {
          let current: SnRecord | undefined = record;
          for (let i = 0; i < hops.length && current; i++) {
            const ref: string = current[hops[i]] ?? '';
            current = ref === '' ? undefined : this.bySysId.get(refTables[i])?.get(ref);
          }
          return current?.[last] ?? '';
        },
      };
    };
  }

  /** The reference table a (dot-walked) field points to, if it is a reference. */
  private referenceTarget(table: string, path: string): string | undefined {
    let def = tableDef(table);
    let target: string | undefined;
    for (const part of path.split('.')) {
      const f = fieldDef(def, part);
      if (!f) return undefined;
      target = f.type === 'reference' ? f.reference : undefined;
      def = target ? tableDef(target) : undefined;
    }
    return target;
  }

  private format(ctx: SimContext, table: string, record: SnRecord): Record<string, unknown> {
    const fieldsParam = ctx.query.get('sysparm_fields');
    const wanted = fieldsParam
      ? fieldsParam.split(',').map((f) => f.trim()).filter((f) => f !== '')
      : Object.keys(tableDef(table)?.fields ?? {});
    const excludeLinks = ctx.query.get('sysparm_exclude_reference_link') === 'true';
    const resolve = this.resolver(table);
    const out: Record<string, unknown> = {};
    for (const name of wanted) {
      const field = resolve(name);
      if (!field) continue; // unknown fields are simply left out
      const value = field.get(record);
      const target = field.type === 'reference' ? this.referenceTarget(table, name) : undefined;
      out[name] =
        target !== undefined && value !== '' && !excludeLinks
          ? { link: `${this.url}/api/now/table/${target}/${value}`, value }
          : value;
    }
    return out;
  }

  private knownTable(ctx: SimContext): string | undefined {
    const table = ctx.params.table;
    if (this.tables.has(table) && tableDef(table)) return table;
    this.envelope(ctx, 400, `Invalid table ${table}`, null);
    return undefined;
  }

  private matching(ctx: SimContext, table: string): SnRecord[] {
    const text = ctx.query.get('sysparm_query') ?? '';
    this.noteBatch(ctx, encodedQueryBatchSize(text));
    const resolve = this.resolver(table);
    const query = compileEncodedQuery(text, resolve);
    return query.sort(candidateRecords(this.tables.get(table) ?? [], text, resolve).filter((r) => query.matches(r)));
  }

  private list(ctx: SimContext): void {
    if (!this.authenticated(ctx)) return;
    const table = this.knownTable(ctx);
    if (!table) return;
    const all = this.matching(ctx, table);
    const limitParam = ctx.query.get('sysparm_limit');
    const limit = positiveInt(limitParam) ?? DEFAULT_LIMIT;
    const offset = nonNegativeInt(ctx.query.get('sysparm_offset')) ?? 0;
    const page = all.slice(offset, offset + limit);
    const headers: Record<string, string> = { 'X-Total-Count': String(all.length) };
    const suppressed = ctx.query.get('sysparm_suppress_pagination_header') === 'true';
    if (!suppressed && (limitParam !== null || all.length > limit)) {
      const link = this.links(ctx, all.length, limit, offset);
      const max = this.limits.maxPaginationHeaderBytes;
      if (max === null || Buffer.byteLength(link) <= max) {
        headers.Link = link;
      } else if (all.length > limit) {
        // the words of a real instance (its community reports quote them); "then" is theirs
        this.envelope(
          ctx,
          400,
          'Pagination not supported',
          "The requested query is too long to build the response pagination header URLs. Please do one of the following: shorten the sysparm_query, or query without pagination by setting the parameter 'sysparm_suppress_pagination_header' to true, " +
            `or set 'sysparm_limit' with a value larger then ${all.length} to bypass the need for pagination.`,
        );
        return;
      }
    }
    const body = { result: page.map((r) => this.format(ctx, table, r)) };
    const cap = this.limits.maxResponseBytes;
    const text = JSON.stringify(body);
    if (cap !== null && Buffer.byteLength(text) > cap) {
      this.send(ctx, 200, Buffer.from(text).subarray(0, cap), { 'content-type': 'application/json;charset=UTF-8', ...headers });
      return;
    }
    this.sendJson(ctx, 200, body, headers);
  }

  private links(ctx: SimContext, total: number, limit: number, offset: number): string {
    const at = (o: number) => {
      const params = new URLSearchParams(ctx.query);
      params.set('sysparm_limit', String(limit));
      params.set('sysparm_offset', String(o));
      return `<${this.url}${ctx.url.pathname}?${params.toString()}>`;
    };
    const lastOffset = total === 0 ? 0 : Math.floor((total - 1) / limit) * limit;
    const parts = [`${at(0)};rel="first"`];
    if (offset > 0) parts.push(`${at(Math.max(0, offset - limit))};rel="prev"`);
    if (offset + limit < total) parts.push(`${at(offset + limit)};rel="next"`);
    parts.push(`${at(lastOffset)};rel="last"`);
    return parts.join(',');
  }

  private record(ctx: SimContext): void {
    if (!this.authenticated(ctx)) return;
    const table = this.knownTable(ctx);
    if (!table) return;
    this.noteBatch(ctx, 1); // a read by key carries one key
    const row = this.bySysId.get(table)?.get(ctx.params.sysId);
    if (!row) {
      this.envelope(ctx, 404, 'No Record found', "Record doesn't exist or ACL restricts the record retrieval");
      return;
    }
    this.sendJson(ctx, 200, { result: this.format(ctx, table, row) });
  }

  // ------------------------------------------------------------------------------ Aggregate API

  /**
   * `GET /api/now/stats/{table}`. Without `sysparm_group_by`: `{result: {stats: {count: "N"}}}`.
   * With it (comma-separated fields, dot-walks allowed): `result` is an array with one entry per
   * group that has records, `{stats: {count: "N"}, groupby_fields: [{field, value}]}`, value the
   * stored value (a reference's sys_id, '' when empty), groups in ascending order of their values;
   * a group with no records has no entry at all. Unknown group-by fields are ignored, as unknown
   * query terms are.
   */
  private aggregate(ctx: SimContext): void {
    if (!this.authenticated(ctx)) return;
    const table = this.knownTable(ctx);
    if (!table) return;
    const count = ctx.query.get('sysparm_count') === 'true';
    const resolve = this.resolver(table);
    const groupBy = (ctx.query.get('sysparm_group_by') ?? '')
      .split(',')
      .map((name) => name.trim())
      .flatMap((name) => {
        const field = name === '' ? undefined : resolve(name);
        return field ? [{ name, field }] : [];
      });
    if (groupBy.length === 0) {
      if (!count) {
        this.matching(ctx, table);
        this.sendJson(ctx, 200, { result: {} });
        return;
      }
      this.sendJson(ctx, 200, { result: { stats: { count: String(this.matching(ctx, table).length) } } });
      return;
    }
    const groups = new Map<string, { values: string[]; records: number }>();
    for (const record of this.matching(ctx, table)) {
      const values = groupBy.map((g) => g.field.get(record));
      const key = JSON.stringify(values);
      const group = groups.get(key) ?? { values, records: 0 };
      group.records++;
      groups.set(key, group);
    }
    const ordered = [...groups.values()].sort((a, b) => {
      for (let i = 0; i < a.values.length; i++) {
        const c = compareValues(a.values[i], b.values[i]);
        if (c !== 0) return c;
      }
      return 0;
    });
    const result = ordered.map((g) => ({
      stats: count ? { count: String(g.records) } : {},
      groupby_fields: groupBy.map((f, i) => ({ field: f.name, value: g.values[i] })),
    }));
    this.sendJson(ctx, 200, { result });
  }
}

function positiveInt(value: string | null): number | undefined {
  if (value === null || !/^\d+$/.test(value)) return undefined;
  const n = Number(value);
  return n > 0 ? n : undefined;
}

function nonNegativeInt(value: string | null): number | undefined {
  if (value === null || !/^\d+$/.test(value)) return undefined;
  return Number(value);
}
