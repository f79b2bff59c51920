/**
 * Salesforce REST API simulator: OAuth client-credentials token, SOQL query with paging (batches
 * of 2,000, or `Sforce-Query-Options: batchSize=N` between 200 and 2,000), SOSL search (several
 * terms joined by OR) and single Account reads, in Salesforce's wire formats (see wire-formats.md).
 *
 * Salesforce's request limits are enforced (`SalesforceLimits`, each configurable): URI plus
 * headers of at most 16,384 bytes (414 when the URI alone is longer, else 431, answered by the
 * front end, not the API), SOQL statements of at most 100,000 characters and WHERE strings of at
 * most 4,000 (400 MALFORMED_QUERY), and SOSL's search-query bounds (see sosl.ts). Each query
 * records how many keys (customers) it carried: `batchSizes('query')`, `/__sim/batches`.
 */
import { createHmac } from 'node:crypto';

import { SANDBOX_CREDENTIALS } from '../shared/credentials.js';
import { DEMO_CUSTOMERS, type DemoCustomer } from '../shared/seed.js';
import { basicAuth, bearer, formBody, type Route, type SimContext, Simulator, type SimulatorOptions } from '../shared/sim-server.js';
import { ACCOUNT_SCHEMA, SCHEMAS, seedAccounts } from './salesforce.data.js';
import {
  checkStatementLength,
  executeSoql,
  parseSoql,
  resolveSelectList,
  SalesforceQueryError,
  type SObjectSchema,
  SOQL_LIMITS,
  soqlBatchSize,
  type SoqlLimits,
  type SRecord,
} from './soql.js';
import { executeSosl, parseSosl, SOSL_LIMITS, type SoslLimits } from './sosl.js';

/** Salesforce's bounds on a request; null: unbounded. */
export type SalesforceLimits = {
  /** REST: bytes of the request URI plus its headers (16,384). A longer URI alone is 414, else 431. */
  maxUriAndHeadersBytes: number | null;
  /** SOQL: characters in a statement (100,000). */
  maxStatementLength: number | null;
  /** SOQL: characters in each string of a WHERE clause (4,000). */
  maxWhereStringLength: number | null;
  /** SOSL: search-query characters beyond which logical operators are removed (4,000). */
  soslOperatorsDroppedAbove: number | null;
  /** SOSL: search-query characters beyond which no rows are returned (10,000). */
  soslNoRowsAbove: number | null;
  /** SOSL: results of one search (2,000). */
  soslMaxResults: number | null;
};

/** The limits of a real org, as Salesforce documents them. */
export const SALESFORCE_LIMITS: Readonly<SalesforceLimits> = Object.freeze({
  maxUriAndHeadersBytes: 16_384,
  maxStatementLength: SOQL_LIMITS.maxStatementLength,
  maxWhereStringLength: SOQL_LIMITS.maxWhereStringLength,
  soslOperatorsDroppedAbove: SOSL_LIMITS.operatorsDroppedAbove,
  soslNoRowsAbove: SOSL_LIMITS.noRowsAbove,
  soslMaxResults: SOSL_LIMITS.maxResults,
});

export interface SalesforceSimulatorOptions extends SimulatorOptions {
  clientId?: string;
  clientSecret?: string;
  /**
   * The most records a query page holds before `nextRecordsUrl` (Salesforce: 2000). A smaller
   * batch asked for with `Sforce-Query-Options` wins; tests page small data sets with a small value.
   */
  pageSize?: number;
  /** The API version in the paths, e.g. 'v66.0'. */
  apiVersion?: string;
  /** The customers to hold (default: the 60 demo customers). */
  customers?: readonly DemoCustomer[];
  /** Request limits other than Salesforce's (tests make them small); see `SALESFORCE_LIMITS`. */
  limits?: Partial<SalesforceLimits>;
}

export const SALESFORCE_ORG_ID = '00D5g000004SiMuEAK';
export const SALESFORCE_USER_ID = '0055g00000SimUsAAC';
const API_DAILY_LIMIT = 100_000;
const MAX_CURSORS = 1000;
/** Query batch sizes (REST API, Query Options header): default and maximum 2,000, minimum 200. */
const MAX_BATCH = 2000;
const MIN_BATCH = 200;

interface Cursor {
  object: SObjectSchema;
  rows: Array<Record<string, unknown>>;
  /** Records per page, fixed when the query ran. */
  batch: number;
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

export class SalesforceSimulator extends Simulator<SalesforceLimits> {
  override readonly name = 'salesforce';
  readonly clientId: string;
  readonly clientSecret: string;
  readonly pageSize: number;
  readonly apiVersion: string;
  private readonly customers: readonly DemoCustomer[];
  private accounts: SRecord[] = [];
  private cursors = new Map<string, Cursor>();
  private locatorSeq = 0;

  constructor(options: SalesforceSimulatorOptions = {}) {
    super(options);
    this.clientId = options.clientId ?? SANDBOX_CREDENTIALS.salesforce.clientId;
    this.clientSecret = options.clientSecret ?? SANDBOX_CREDENTIALS.salesforce.clientSecret;
    this.pageSize = options.pageSize ?? 2000;
    this.apiVersion = options.apiVersion ?? 'v66.0';
    this.customers = options.customers ?? DEMO_CUSTOMERS;
    if (!Number.isInteger(this.pageSize) || this.pageSize < 1) throw new Error('pageSize must be a positive integer');
    if (!/^v\d+\.\d+$/.test(this.apiVersion)) throw new Error(`apiVersion must look like v66.0, got ${this.apiVersion}`);
    this.initLimits({ ...SALESFORCE_LIMITS }, options.limits);
    this.resetData();
  }

  override resetData(): void {
    this.accounts = seedAccounts(this.customers);
    this.cursors = new Map();
  }

  /** The current Account records (a copy). */
  accountRecords(): SRecord[] {
    return this.accounts.map((r) => ({ ...r }));
  }

  /** Changes an Account as a Salesforce user would (tests: data that changes behind a cached copy). */
  updateAccount(customerNumber: string, fields: Partial<Record<string, string>>): void {
    const record = this.accounts.find((r) => r.Customer_Number__c === customerNumber);
    if (!record) throw new Error(`no Account with customer number ${customerNumber}`);
    Object.assign(record, fields);
  }

  protected override routes(): Route[] {
    const data = `^/services/data/${escapeRegex(this.apiVersion)}`;
    return [
      { name: 'token', method: 'POST', path: /^\/services\/oauth2\/token\/?$/, handler: (ctx) => this.token(ctx) },
      { name: 'query', method: 'GET', path: new RegExp(`${data}/query/?$`), handler: (ctx) => this.query(ctx) },
      { name: 'queryMore', method: 'GET', path: new RegExp(`${data}/query/(?<locator>[^/]+)$`), handler: (ctx) => this.queryMore(ctx) },
      { name: 'search', method: 'GET', path: new RegExp(`${data}/search/?$`), handler: (ctx) => this.search(ctx) },
      { name: 'sobject', method: 'GET', path: new RegExp(`${data}/sobjects/(?<object>[^/]+)/(?<id>[^/]+)$`), handler: (ctx) => this.sobject(ctx) },
    ];
  }

  protected override commonHeaders(_ctx: SimContext): Record<string, string> {
    return { 'Sforce-Limit-Info': `api-usage=${this.callCount()}/${API_DAILY_LIMIT}` };
  }

  protected override sendError(ctx: SimContext, status: number, message: string): void {
    const errorCode =
      status === 401 ? 'INVALID_SESSION_ID'
      : status === 403 ? 'INSUFFICIENT_ACCESS'
      : status === 404 ? 'NOT_FOUND'
      : status === 405 ? 'METHOD_NOT_ALLOWED'
      : status === 415 ? 'UNSUPPORTED_MEDIA_TYPE'
      : status === 429 ? 'REQUEST_LIMIT_EXCEEDED'
      : status === 503 ? 'SERVER_UNAVAILABLE'
      : status >= 500 ? 'UNKNOWN_EXCEPTION'
      : 'BAD_REQUEST';
    const text = status === 401 ? 'Session expired or invalid' : message;
    this.sendJson(ctx, status, [{ message: text, errorCode }]);
  }

  /**
   * "In each REST call, the maximum length for the combined URI and headers is 16,384 bytes. A request
   * exceeding this limit returns a 431 Request Header Fields Too Large error. If the URI itself exceeds
   * this limit, the request returns a 414 URI Too Long error." (Salesforce Help 000386264). The answer
   * comes from Salesforce's web tier, as clients report it: `<h1>Bad Message 414</h1><pre>reason: URI Too Long</pre>`.
   */
  protected override refuseOversized(ctx: SimContext): boolean {
    const max = this.limits.maxUriAndHeadersBytes;
    if (max === null) return false;
    const { uri, headers } = this.requestBytes(ctx);
    if (uri > max) {
      this.sendFrontEnd(ctx, 414, '<h1>Bad Message 414</h1><pre>reason: URI Too Long</pre>');
      return true;
    }
    if (uri + headers > max) {
      this.sendFrontEnd(ctx, 431, '<h1>Bad Message 431</h1><pre>reason: Request Header Fields Too Large</pre>');
      return true;
    }
    return false;
  }

  private get soqlLimits(): SoqlLimits {
    return { maxStatementLength: this.limits.maxStatementLength, maxWhereStringLength: this.limits.maxWhereStringLength };
  }

  private get soslLimits(): SoslLimits {
    return { operatorsDroppedAbove: this.limits.soslOperatorsDroppedAbove, noRowsAbove: this.limits.soslNoRowsAbove, maxResults: this.limits.soslMaxResults };
  }

  /** Salesforce refuses over-limit calls with 403 REQUEST_LIMIT_EXCEEDED, never 429, and no Retry-After. */
  protected override sendRateLimited(ctx: SimContext, _retryAfterSeconds: number): void {
    this.sendJson(ctx, 403, [{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }]);
  }

  // ---------------------------------------------------------------- handlers

  private token(ctx: SimContext): void {
    const form = formBody(ctx.body);
    const grant = form.get('grant_type');
    if (grant !== 'client_credentials') {
      this.sendJson(ctx, 400, { error: 'unsupported_grant_type', error_description: 'grant type not supported' });
      return;
    }
    const basic = basicAuth(ctx.req);
    const clientId = form.get('client_id') ?? basic?.user;
    const clientSecret = form.get('client_secret') ?? basic?.pass;
    if (clientId !== this.clientId || clientSecret !== this.clientSecret) {
      this.sendJson(ctx, 400, { error: 'invalid_client', error_description: 'invalid client credentials' });
      return;
    }
    const { token, issuedAt } = this.tokens.issue(clientId);
    const id = `${this.url}/id/${SALESFORCE_ORG_ID}/${SALESFORCE_USER_ID}`;
    const issued = String(issuedAt);
    const signature = createHmac('sha256', this.clientSecret).update(id + issued).digest('base64');
    this.sendJson(ctx, 200, {
      access_token: token,
      signature,
      scope: 'api',
      instance_url: this.url,
      id,
      token_type: 'Bearer',
      issued_at: issued,
    });
  }

  /** False (after answering 401 INVALID_SESSION_ID) unless the call carries a live token. */
  private authorized(ctx: SimContext): boolean {
    if (this.tokens.check(bearer(ctx.req)) === 'valid') return true;
    this.sendJson(ctx, 401, [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }]);
    return false;
  }

  private sendQueryError(ctx: SimContext, err: unknown): void {
    if (err instanceof SalesforceQueryError) {
      this.sendJson(ctx, 400, [{ message: err.message, errorCode: err.errorCode }]);
      return;
    }
    throw err;
  }

  private attributes(object: SObjectSchema, id: string | null): { type: string; url: string } {
    return { type: object.name, url: `/services/data/${this.apiVersion}/sobjects/${object.name}/${id ?? ''}` };
  }

  private project(object: SObjectSchema, record: SRecord, fields: readonly string[]): Record<string, unknown> {
    const out: Record<string, unknown> = { attributes: this.attributes(object, record.Id ?? null) };
    for (const f of fields) out[f] = record[f] ?? null;
    return out;
  }

  private query(ctx: SimContext): void {
    if (!this.authorized(ctx)) return;
    const q = ctx.query.get('q');
    if (q === null || q.trim() === '') {
      this.sendJson(ctx, 400, [{ message: 'A query string has to be specified', errorCode: 'MALFORMED_QUERY' }]);
      return;
    }
    let rows: Array<Record<string, unknown>>;
    let object: SObjectSchema;
    try {
      checkStatementLength(q, this.soqlLimits);
      const parsed = parseSoql(q);
      this.noteBatch(ctx, soqlBatchSize(parsed.where));
      const result = executeSoql(q, parsed, SCHEMAS, () => this.accounts, this.soqlLimits);
      object = result.object;
      rows = result.records.map((r) => this.project(result.object, r, result.fields));
    } catch (err) {
      this.sendQueryError(ctx, err);
      return;
    }
    const batch = this.batchSize(ctx);
    if (rows.length <= batch) {
      this.sendJson(ctx, 200, { totalSize: rows.length, done: true, records: rows });
      return;
    }
    const locator = this.newLocator();
    this.cursors.set(locator, { object, rows, batch });
    this.sendPage(ctx, locator, rows, 0, batch);
  }

  /**
   * Records per page: `Sforce-Query-Options: batchSize=N` asks for N, kept within 200..2,000 (the
   * documented range; Salesforce does not promise the exact size, here it is exact), never more than
   * `pageSize`; without the header, 2,000.
   */
  private batchSize(ctx: SimContext): number {
    const header = ctx.req.headers['sforce-query-options'];
    const asked = /(?:^|[\s,;])batchSize\s*=\s*(\d{1,9})\b/i.exec(` ${Array.isArray(header) ? header.join(',') : (header ?? '')}`);
    const batch = asked ? Math.min(MAX_BATCH, Math.max(MIN_BATCH, Number(asked[1]))) : MAX_BATCH;
    return Math.min(batch, this.pageSize);
  }

  private newLocator(): string {
    this.locatorSeq++;
    const locator = `01gD${String(this.locatorSeq).padStart(11, '0')}IAW`;
    while (this.cursors.size >= MAX_CURSORS) {
      const oldest = this.cursors.keys().next().value;
      if (oldest === undefined) break;
      this.cursors.delete(oldest);
    }
    return locator;
  }

  private sendPage(ctx: SimContext, locator: string, rows: Array<Record<string, unknown>>, offset: number, batch: number): void {
    const end = offset + batch;
    const done = end >= rows.length;
    const page = rows.slice(offset, end);
    if (done) {
      this.sendJson(ctx, 200, { totalSize: rows.length, done: true, records: page });
    } else {
      this.sendJson(ctx, 200, {
        totalSize: rows.length,
        done: false,
        nextRecordsUrl: `/services/data/${this.apiVersion}/query/${locator}-${end}`,
        records: page,
      });
    }
  }

  private queryMore(ctx: SimContext): void {
    if (!this.authorized(ctx)) return;
    const m = /^(?<locator>01g[A-Za-z0-9]{15})-(?<offset>\d+)$/.exec(ctx.params.locator ?? '');
    const cursor = m?.groups ? this.cursors.get(m.groups.locator) : undefined;
    const offset = m?.groups ? Number(m.groups.offset) : NaN;
    if (!m?.groups || !cursor || !Number.isSafeInteger(offset) || offset >= cursor.rows.length) {
      this.sendJson(ctx, 400, [{ message: 'invalid query locator', errorCode: 'INVALID_QUERY_LOCATOR' }]);
      return;
    }
    this.sendPage(ctx, m.groups.locator, cursor.rows, offset, cursor.batch);
  }

  private search(ctx: SimContext): void {
    if (!this.authorized(ctx)) return;
    const q = ctx.query.get('q');
    if (q === null || q.trim() === '') {
      this.sendJson(ctx, 400, [{ message: 'A search string has to be specified', errorCode: 'MALFORMED_SEARCH' }]);
      return;
    }
    try {
      const search = parseSosl(q, this.soslLimits);
      this.noteBatch(ctx, search.terms.length);
      const groups = executeSosl(q, search, SCHEMAS, () => this.accounts, this.soslLimits);
      const searchRecords = groups.flatMap((g) => g.records.map((r) => this.project(g.object, r, g.fields)));
      this.sendJson(ctx, 200, { searchRecords });
    } catch (err) {
      this.sendQueryError(ctx, err);
    }
  }

  private sobject(ctx: SimContext): void {
    if (!this.authorized(ctx)) return;
    const { object, id } = ctx.params;
    this.noteBatch(ctx, 1); // a read by key carries one key
    if (object.toLowerCase() !== ACCOUNT_SCHEMA.name.toLowerCase()) {
      this.sendJson(ctx, 404, [{ message: `The requested resource does not exist`, errorCode: 'NOT_FOUND' }]);
      return;
    }
    const record = this.accounts.find((r) => r.Id !== null && (r.Id === id || (id.length === 15 && r.Id.slice(0, 15) === id)));
    if (!record) {
      this.sendJson(ctx, 404, [{ message: 'The requested resource does not exist', errorCode: 'NOT_FOUND' }]);
      return;
    }
    const fieldsParam = ctx.query.get('fields');
    let fields: string[];
    try {
      fields = fieldsParam
        ? resolveSelectList(fieldsParam, ACCOUNT_SCHEMA, fieldsParam.split(',').map((name) => ({ name: name.trim(), pos: 0 })))
        : ACCOUNT_SCHEMA.fields.map((f) => f.name);
    } catch (err) {
      this.sendQueryError(ctx, err);
      return;
    }
    this.sendJson(ctx, 200, this.project(ACCOUNT_SCHEMA, record, fields));
  }
}
