/**
 * SAP S/4HANA simulator: OData V2 (JSON) for API_BUSINESS_PARTNER (business partners, customers,
 * addresses, phone numbers; customer billing data is writable) and the read-only receivables cube
 * API_OPLACCTGDOCITEMCUBE_SRV. Basic auth, `sap-client`, CSRF token + session cookie for writes
 * (fetched with GET or HEAD, as a gateway allows), weak ETags with If-Match, `$metadata`,
 * `$filter` / `$select` / `$orderby` / `$top` / `$skip` / `$inlinecount`, and server-driven paging
 * of collections (`__next` with `$skiptoken`, 100 entries a page by default).
 *
 * Batched look-ups are `or` chains (OData V2 has no `in`): `(Customer eq 'a' or Customer eq 'b')
 * and IsCleared eq false`; each records how many keys it carried (`batchSizes('openItems')`,
 * `/__sim/batches`). A request target longer than `limits.maxUrlBytes` (8,192 bytes by default, a
 * conservative bound for the web tier in front of a gateway) is refused with 414 before the
 * gateway sees it.
 *
 * `POST <service>/$batch` (OData V2 multipart/mixed) answers each retrieve operation as the same
 * GET on its own would be answered (same paging, same errors), each in an `application/http` part
 * of a `202 Accepted` multipart answer; it needs the CSRF token like any POST and is ONE call for
 * the counters, rate limit and faults (route `batch`; its batch size is the keys of all its
 * operations, each operation is listed by `operations()`). Bounds: `maxBatchBytes` (the ICM's
 * request size, 413) and `maxBatchOperations` (none by default; the gateway documents none).
 * Change sets are refused (the look-ups never send one).
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

import { SANDBOX_CREDENTIALS } from '../shared/credentials.js';
import { DEMO_CUSTOMERS, type DemoCustomer, type DemoOpenItem } from '../shared/seed.js';
import { basicAuth, bearer, formBody, type Route, type SimContext, Simulator, type SimulatorOptions, TokenStore } from '../shared/sim-server.js';
import { type BatchOperationAnswer, type BatchOperationRequest, BatchSyntaxError, parseBatchRequest, writeBatchResponse } from './batch-wire.js';
import {
  candidateRows,
  compareDecimal,
  compileFilter,
  type EdmType,
  filterBatchSize,
  formatStringLiteral,
  ODataSemanticError,
  ODataSyntaxError,
  parseFilter,
  parseKeyPredicate,
  type RowPredicate,
} from './odata-filter.js';
import {
  ADDRESS_PHONE_NUMBER,
  buildSapState,
  BUSINESS_PARTNER,
  BUSINESS_PARTNER_ADDRESS,
  CUSTOMER,
  ENTITY_SETS,
  type EntitySetDef,
  etagOf,
  OPEN_ITEM,
  openItemRow,
  type Row,
  type SapState,
} from './sap.data.js';

export interface SapSimulatorOptions extends SimulatorOptions {
  username?: string;
  password?: string;
  /** The one client (Mandant) of this system, 3 digits; default '100'. */
  sapClient?: string;
  /** System ID shown in the auth realm and the session cookie name; default 'S4H'. */
  systemId?: string;
  /**
   * Server-driven paging, as a gateway pages: a collection read answers at most this many entries
   * and ends with `__next` (the request's own URL with `$skiptoken`). Default 100 (what SAP's
   * frameworks send when the client gives no `$top`); null turns paging off.
   */
  serverPageSize?: number | null;
  /** The customers to hold (default: the 60 demo customers). */
  customers?: readonly DemoCustomer[];
  /** Request limits other than the defaults (tests make them small); see `SAP_LIMITS`. */
  limits?: Partial<SapLimits>;
}

/** Bounds on a request to the SAP system; null: unbounded. */
export type SapLimits = {
  /**
   * Bytes of the request target (path and query, as sent) the web tier accepts; longer is 414.
   * SAP documents no single figure for every landscape (ICM, Web Dispatcher, a reverse proxy or
   * API management in front); 8,192 is the common front-end bound and a safe one to split by.
   */
  maxUrlBytes: number | null;
  /**
   * Bytes of a `$batch` request body; larger is refused by the ICM with 413 (its
   * `icm/HTTP/max_request_size_KB` is 100 MB by default; 1,000,000 here, under what the simulator reads).
   */
  maxBatchBytes: number | null;
  /** Operations in one `$batch`; more is a 400. The gateway documents no bound (null); tests set one. */
  maxBatchOperations: number | null;
};

export const SAP_LIMITS: Readonly<SapLimits> = Object.freeze({ maxUrlBytes: 8_192, maxBatchBytes: 1_000_000, maxBatchOperations: null });

/** One operation of a `$batch`, as received and answered. */
export interface SapBatchOperation {
  /** The index of the `$batch` call (in the order received since the last reset). */
  batch: number;
  route: string;
  url: string;
  status: number;
  /** Keys (customers) the operation's query named, as `RecordedRequest.batchSize`. */
  batchSize?: number;
}

const ROOT = '/sap/opu/odata/sap';
const BP = `${ROOT}/API_BUSINESS_PARTNER`;
const CUBE = `${ROOT}/API_OPLACCTGDOCITEMCUBE_SRV`;
const WRITE_METHODS = ['POST', 'PUT', 'PATCH', 'MERGE', 'DELETE'];
const DEFAULT_PAGE_SIZE = 100;

/** Status → error code used by `sendError` when no more specific code applies. */
const ERROR_CODES: Record<number, string> = {
  400: '/IWBEP/CM_MGW_RT/021',
  403: '/IWFND/CM_CONSUMER/004',
  404: '/IWBEP/CM_MGW_RT/020',
  405: '/IWBEP/CM_MGW_RT/105',
  412: '/IWBEP/CM_MGW_RT/058',
};
const GENERIC_CODE = '/IWFND/CM_CONSUMER/101';

/** Updatable A_Customer properties and their maximum lengths. */
const CUSTOMER_UPDATABLE: Record<string, number> = { CustomerFullName: 80, PaymentTerms: 4, BillingIsBlockedForCustomer: 2 };

class ODataRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

export class SapSimulator extends Simulator<SapLimits> {
  /** OAuth access tokens (kept apart from CSRF tokens, so neither can stand in for the other). */
  readonly oauthTokens = new TokenStore(() => this.now(), () => this.faults.tokenTtlMs);
  override readonly name = 'sap';
  readonly username: string;
  readonly password: string;
  readonly sapClient: string;
  readonly systemId: string;
  serverPageSize: number | null;
  private readonly customers: readonly DemoCustomer[];
  private state: SapState;
  /** CSRF: session id → token, and token → session id it is bound to. */
  private readonly sessionTokens = new Map<string, string>();
  private readonly tokenSessions = new Map<string, string>();
  /** GET routes by name, without the request guard: what a `$batch` operation is answered by. */
  private readRoutes: Route[] = [];
  private batchOperations: SapBatchOperation[] = [];
  private batchCalls = 0;
  /** The operation being answered inside a `$batch`, per inner request (keys it names, no fault of its own). */
  private readonly inner = new WeakMap<object, { keys: number }>();

  constructor(options: SapSimulatorOptions = {}) {
    super(options);
    this.username = options.username ?? SANDBOX_CREDENTIALS.sap.username;
    this.password = options.password ?? SANDBOX_CREDENTIALS.sap.password;
    this.sapClient = options.sapClient ?? SANDBOX_CREDENTIALS.sap.sapClient;
    this.systemId = options.systemId ?? 'S4H';
    this.serverPageSize = options.serverPageSize === undefined ? DEFAULT_PAGE_SIZE : options.serverPageSize;
    this.customers = options.customers ?? DEMO_CUSTOMERS;
    this.state = buildSapState(this.customers);
    if (!/^\d{3}$/.test(this.sapClient)) throw new Error(`sapClient must be 3 digits, got "${this.sapClient}"`);
    this.initLimits({ ...SAP_LIMITS }, options.limits);
  }

  /** Name of the session cookie the CSRF token is bound to, e.g. SAP_SESSIONID_S4H_100. */
  get sessionCookieName(): string {
    return `SAP_SESSIONID_${this.systemId}_${this.sapClient}`;
  }

  override resetData(): void {
    this.state = buildSapState(this.customers);
    this.sessionTokens.clear();
    this.tokenSessions.clear();
  }

  /** Fault hook: every CSRF token issued so far stops validating (clients must fetch a new one). */
  expireCsrfTokens(): void {
    this.tokens.expireAll();
  }

  /** The operations of the `$batch` calls received since the last reset (of one route, or all). */
  operations(route?: string): SapBatchOperation[] {
    return this.batchOperations.filter((op) => route === undefined || op.route === route).map((op) => ({ ...op }));
  }

  override resetCalls(): void {
    super.resetCalls();
    this.batchOperations = [];
    this.batchCalls = 0;
  }

  protected override vendorControl(path: string, method: string): { status: number; body: unknown } | undefined {
    if (path === '/operations' && method === 'GET') return { status: 200, body: this.operations() };
    return undefined;
  }

  /** Test hook: replace the receivables (open and cleared items) of one SAP customer. */
  setOpenItems(customerId: string, items: readonly DemoOpenItem[]): void {
    const seed = this.customers.find((c) => c.customerId === customerId && c.presentIn.sap);
    if (!seed) throw new Error(`customer ${customerId} does not exist in SAP`);
    this.state.openItems = this.state.openItems.filter((r) => r.Customer !== customerId);
    for (const item of items) this.state.openItems.push(openItemRow(this.state, seed, item));
  }

  /** The current weak ETag of a customer (undefined when unknown). */
  customerEtag(customerId: string): string | undefined {
    const ms = this.state.lastChange.get(customerId);
    return ms === undefined ? undefined : etagOf(ms);
  }

  // ------------------------------------------------------------------------------ routes

  protected override routes(): Route[] {
    // A gateway answers HEAD like GET without a body (SAP's own client fetches CSRF tokens with
    // HEAD on the entity URL); Node leaves the body out of HEAD answers and keeps its length.
    const reads: Route[] = [];
    const get = (name: string, path: RegExp, handler: (ctx: SimContext) => void): Route => {
      reads.push({ name, method: 'GET', path, handler });
      return { name, method: ['GET', 'HEAD'], path, handler: (ctx) => this.run(ctx, false, () => handler(ctx)) };
    };
    this.readRoutes = reads;
    return [
      {
        name: 'token',
        method: 'POST',
        path: /^\/oauth\/token$/,
        handler: (ctx) => this.issueAccessToken(ctx),
      },
      {
        name: 'serviceRoot',
        method: ['GET', 'HEAD'],
        path: /^\/sap\/opu\/odata\/sap\/(?<service>API_BUSINESS_PARTNER|API_OPLACCTGDOCITEMCUBE_SRV)\/?$/,
        handler: (ctx) => this.run(ctx, false, () => this.serviceDocument(ctx)),
      },
      get('metadata', /^\/sap\/opu\/odata\/sap\/(?<service>API_BUSINESS_PARTNER|API_OPLACCTGDOCITEMCUBE_SRV)\/\$metadata$/, (ctx) => this.metadata(ctx)),
      get('businessPartner', re(`${BP}/A_BusinessPartner\\((?<key>.*)\\)`), (ctx) => this.entity(ctx, BUSINESS_PARTNER, this.state.partners)),
      get('businessPartners', re(`${BP}/A_BusinessPartner`), (ctx) => this.collection(ctx, BUSINESS_PARTNER, this.state.partners)),
      get('customer', re(`${BP}/A_Customer\\((?<key>.*)\\)`), (ctx) => this.entity(ctx, CUSTOMER, this.state.customers)),
      get('customers', re(`${BP}/A_Customer`), (ctx) => this.collection(ctx, CUSTOMER, this.state.customers)),
      get('phoneNumbers', re(`${BP}/A_BusinessPartnerAddress\\((?<key>.*)\\)/to_PhoneNumber`), (ctx) => this.phoneNumbers(ctx)),
      get('businessPartnerAddress', re(`${BP}/A_BusinessPartnerAddress\\((?<key>.*)\\)`), (ctx) =>
        this.entity(ctx, BUSINESS_PARTNER_ADDRESS, this.state.addresses),
      ),
      get('businessPartnerAddresses', re(`${BP}/A_BusinessPartnerAddress`), (ctx) =>
        this.collection(ctx, BUSINESS_PARTNER_ADDRESS, this.state.addresses),
      ),
      get('addressPhoneNumbers', re(`${BP}/A_AddressPhoneNumber`), (ctx) => this.collection(ctx, ADDRESS_PHONE_NUMBER, this.state.phones)),
      get('openItems', re(`${CUBE}/A_OperationalAcctgDocItemCube`), (ctx) => this.collection(ctx, OPEN_ITEM, this.state.openItems)),
      {
        name: 'batch',
        method: 'POST',
        path: /^\/sap\/opu\/odata\/sap\/(?<service>API_BUSINESS_PARTNER|API_OPLACCTGDOCITEMCUBE_SRV)\/\$batch$/,
        handler: (ctx) => this.run(ctx, true, () => this.batch(ctx)),
      },
      {
        name: 'updateCustomer',
        method: WRITE_METHODS,
        path: re(`${BP}/A_Customer\\((?<key>.*)\\)`),
        handler: (ctx) => this.run(ctx, true, () => this.updateCustomer(ctx)),
      },
      {
        name: 'readOnly',
        method: WRITE_METHODS,
        path: /^\/sap\/opu\/odata\/sap\/(?:API_BUSINESS_PARTNER|API_OPLACCTGDOCITEMCUBE_SRV)(?:\/.*)?$/,
        handler: (ctx) =>
          this.run(ctx, true, () => {
            throw new ODataRequestError(405, `Method '${effectiveMethod(ctx)}' is not allowed on '${ctx.url.pathname}': the resource is read-only`);
          }),
      },
    ];
  }

  /** The XSUAA-style token endpoint: client credentials in a Basic header, form grant_type=client_credentials. */
  private issueAccessToken(ctx: SimContext): void {
    const auth = basicAuth(ctx.req);
    const grant = formBody(ctx.body).get('grant_type');
    if (!auth || auth.user !== SANDBOX_CREDENTIALS.sap.clientId || auth.pass !== SANDBOX_CREDENTIALS.sap.clientSecret) {
      return this.sendJson(ctx, 401, { error: 'unauthorized', error_description: 'Bad credentials' });
    }
    if (grant !== 'client_credentials') return this.sendJson(ctx, 400, { error: 'unsupported_grant_type', error_description: `Unsupported grant type: ${grant ?? ''}` });
    const { token } = this.oauthTokens.issue(auth.user);
    const ttl = this.faults.tokenTtlMs;
    this.sendJson(ctx, 200, { access_token: token, token_type: 'bearer', expires_in: ttl === null ? 43199 : Math.ceil(ttl / 1000), scope: 'uaa.resource', jti: token.slice(0, 16) });
  }

  // ------------------------------------------------------------------------------ request guard

  /** sap-client, Basic auth, CSRF (fetch on reads, validation on writes), then the handler; OData errors on throw. */
  private run(ctx: SimContext, write: boolean, handler: () => void): void {
    const client = ctx.query.get('sap-client') ?? header(ctx, 'sap-client');
    if (client !== undefined && client !== null) {
      if (!/^\d{3}$/.test(client)) return this.odataError(ctx, 400, `Invalid value '${client}' for sap-client: a client is 3 digits`, '/IWFND/CM_CONSUMER/102');
      if (client !== this.sapClient) return this.odataError(ctx, 400, `Client ${client} is not available in this system`, '/IWFND/CM_CONSUMER/102');
    }
    const token = bearer(ctx.req);
    if (token !== undefined) {
      // OAuth 2.0 (as through SAP BTP / XSUAA): a valid access token stands in for Basic
      if (this.oauthTokens.check(token) !== 'valid') return this.sendLogonFailed(ctx);
    } else {
      const auth = basicAuth(ctx.req);
      if (!auth || auth.user !== this.username || auth.pass !== this.password) return this.sendLogonFailed(ctx);
    }

    const csrfHeader = header(ctx, 'x-csrf-token');
    if (!write && csrfHeader?.toLowerCase() === 'fetch') this.issueCsrfToken(ctx);
    if (write && !this.csrfValid(ctx, csrfHeader)) {
      return this.send(ctx, 403, 'CSRF token validation failed', { 'content-type': 'text/plain; charset=utf-8', 'x-csrf-token': 'Required' });
    }
    this.answer(ctx, handler);
  }

  /** The handler's answer, or its OData error. */
  private answer(ctx: SimContext, handler: () => void): void {
    try {
      handler();
    } catch (err) {
      if (err instanceof ODataRequestError) return this.odataError(ctx, err.status, err.message, err.code);
      if (err instanceof ODataSyntaxError || err instanceof ODataSemanticError) {
        return this.odataError(ctx, 400, `Invalid filter expression: ${err.message}`, '/IWBEP/CM_MGW_RT/021');
      }
      throw err;
    }
  }

  private issueCsrfToken(ctx: SimContext): void {
    let session = cookies(ctx)[this.sessionCookieName];
    let token = session === undefined ? undefined : this.sessionTokens.get(session);
    if (session === undefined || token === undefined || this.tokens.check(token) !== 'valid') {
      session = randomBytes(30).toString('base64url');
      token = this.tokens.issue(session).token;
      this.sessionTokens.set(session, token);
      this.tokenSessions.set(token, session);
    }
    ctx.res.setHeader('x-csrf-token', token);
    ctx.res.setHeader('set-cookie', [
      `${this.sessionCookieName}=${session}; path=/; HttpOnly`,
      `sap-usercontext=sap-client=${this.sapClient}; path=/`,
    ]);
  }

  private csrfValid(ctx: SimContext, token: string | undefined): boolean {
    if (!token || token.toLowerCase() === 'fetch' || this.tokens.check(token) !== 'valid') return false;
    const session = cookies(ctx)[this.sessionCookieName];
    return session !== undefined && this.tokenSessions.get(token) === session;
  }

  // ------------------------------------------------------------------------------ handlers

  /**
   * `$batch`: each retrieve operation answered as the same GET would be (resolved against the
   * service root), in order, in one multipart answer. Operations outside a change set must be
   * GETs; change sets are refused as a whole (this system's look-ups never send one).
   */
  private batch(ctx: SimContext): void {
    checkOptions(ctx, []);
    let items;
    try {
      items = parseBatchRequest(header(ctx, 'content-type'), ctx.body.toString('utf8'));
    } catch (err) {
      if (err instanceof BatchSyntaxError) throw new ODataRequestError(400, `Invalid batch request: ${err.message}`, '/IWFND/CM_BEC/026');
      throw err;
    }
    if (items.length === 0) throw new ODataRequestError(400, 'Invalid batch request: the batch holds no operation', '/IWFND/CM_BEC/026');
    const max = this.limits.maxBatchOperations;
    if (max !== null && items.length > max) throw new ODataRequestError(400, `Batch request holds ${items.length} operations; at most ${max} are allowed`, '/IWFND/CM_BEC/026');
    if (items.some((item) => item.kind === 'changeset')) throw new ODataRequestError(400, 'Change sets are not supported by this service in a batch', '/IWFND/CM_BEC/026');
    const index = this.batchCalls++;
    let keys = 0;
    const answers = (items as BatchOperationRequest[]).map((op) => {
      const { answer, route, size } = this.operation(ctx, op);
      keys += size ?? 0;
      this.batchOperations.push({ batch: index, route, url: op.target, status: answer.status, ...(size === undefined ? {} : { batchSize: size }) });
      return answer;
    });
    if (this.batchOperations.length > 5000) this.batchOperations.splice(0, this.batchOperations.length - 5000);
    this.noteBatch(ctx, keys);
    const { contentType, body } = writeBatchResponse(answers);
    let text = body;
    if (this.applies(ctx.route)) {
      if (this.faults.malformed === 'invalid-json') text = '<html><body>Bad Gateway</body></html>';
      else if (this.faults.malformed === 'truncated') text = body.slice(0, Math.max(1, Math.floor(body.length / 2)));
    }
    this.send(ctx, 202, text, { 'content-type': contentType, dataserviceversion: '2.0' });
  }

  /** One retrieve operation of a `$batch`, answered by the GET route it addresses in this service. */
  private operation(batch: SimContext, op: BatchOperationRequest): { answer: BatchOperationAnswer; route: string; size?: number } {
    const serviceRoot = `${ROOT}/${batch.params.service}/`;
    const captured = new CapturedResponse();
    let url: URL;
    try {
      url = new URL(op.target, `${batch.url.origin}${serviceRoot}`);
    } catch {
      url = new URL(`${batch.url.origin}${serviceRoot}invalid`);
    }
    const req = { method: op.method, url: `${url.pathname}${url.search}`, headers: { ...op.headers, host: batch.url.host }, rawHeaders: [] } as unknown as IncomingMessage;
    const ctx: SimContext = { req, res: captured as unknown as ServerResponse, url, params: {}, query: url.searchParams, body: Buffer.alloc(0), route: 'unmatched' };
    const state = { keys: 0 };
    this.inner.set(req, state);
    const matched = url.pathname.startsWith(serviceRoot) ? this.readRoutes.find((r) => r.path.test(url.pathname)) : undefined;
    if (op.method !== 'GET') {
      this.odataError(ctx, 400, `Method '${op.method}' is only allowed in a change set of a batch request`, '/IWFND/CM_BEC/026');
    } else if (!matched) {
      this.odataError(ctx, 404, `Resource not found for segment '${url.pathname.slice(serviceRoot.length) || url.pathname}'`, '/IWBEP/CM_MGW_RT/020');
    } else {
      ctx.route = matched.name;
      for (const [k, v] of Object.entries(matched.path.exec(url.pathname)?.groups ?? {})) ctx.params[k] = v === undefined ? '' : safeDecode(v);
      const client = ctx.query.get('sap-client');
      if (client !== null && client !== this.sapClient) this.odataError(ctx, 400, `Client ${client} is not available in this system`, '/IWFND/CM_CONSUMER/102');
      else this.answer(ctx, () => void matched.handler(ctx));
    }
    delete captured.headers['content-length'];
    return { answer: { status: captured.status, headers: captured.headers, body: captured.body }, route: ctx.route, ...(state.keys > 0 ? { size: state.keys } : {}) };
  }

  /** Inside a `$batch` an operation's keys count towards the batch call (one call), not as a call of its route. */
  protected override noteBatch(ctx: SimContext, size: number): void {
    const inner = this.inner.get(ctx.req);
    if (inner) inner.keys += size;
    else super.noteBatch(ctx, size);
  }

  /** An operation inside a `$batch` is answered as it is (faults apply to the `$batch` as a whole). */
  protected override sendJson(ctx: SimContext, status: number, body: unknown, headers: Record<string, string> = {}): void {
    if (!this.inner.has(ctx.req)) return super.sendJson(ctx, status, body, headers);
    this.send(ctx, status, JSON.stringify(body), { 'content-type': 'application/json;charset=UTF-8', ...headers });
  }

  private serviceDocument(ctx: SimContext): void {
    const service = ctx.params.service;
    const sets = ENTITY_SETS.filter((s) => s.service === service).map((s) => s.name);
    this.sendJson(ctx, 200, { d: { EntitySets: sets } }, { dataserviceversion: '2.0' });
  }

  /** The service's EDMX: the entity types and sets the simulator serves, with their Edm types. */
  private metadata(ctx: SimContext): void {
    checkOptions(ctx, []);
    const xml = edmx(ctx.params.service as EntitySetDef['service']);
    this.send(ctx, 200, xml, { 'content-type': 'application/xml', dataserviceversion: '2.0' });
  }

  private entity(ctx: SimContext, def: EntitySetDef, rows: readonly Row[]): void {
    checkOptions(ctx, ['$select', '$format']);
    this.noteBatch(ctx, 1);
    const row = this.findByKey(def, rows, ctx.params.key);
    const select = parseSelect(ctx.query.get('$select'), def);
    const etag = this.etagFor(def, row);
    this.sendJson(ctx, 200, { d: this.toWire(ctx, def, row, select) }, { dataserviceversion: '2.0', ...(etag ? { etag } : {}) });
  }

  private phoneNumbers(ctx: SimContext): void {
    const address = this.findByKey(BUSINESS_PARTNER_ADDRESS, this.state.addresses, ctx.params.key);
    const rows = this.state.phones.filter((p) => p.AddressID === address.AddressID && p.BusinessPartner === address.BusinessPartner);
    this.collection(ctx, ADDRESS_PHONE_NUMBER, rows);
  }

  private collection(ctx: SimContext, def: EntitySetDef, rows: readonly Row[]): void {
    checkOptions(ctx, ['$filter', '$select', '$orderby', '$top', '$skip', '$skiptoken', '$inlinecount', '$format']);
    const filterText = ctx.query.get('$filter');
    const filter = filterText === null ? null : parseFilter(filterText);
    if (filter) this.noteBatch(ctx, filterBatchSize(filter));
    const predicate: RowPredicate = filter === null ? () => true : compileFilter(filter, def.props, def.type);
    const select = parseSelect(ctx.query.get('$select'), def);
    const order = parseOrderBy(ctx.query.get('$orderby'), def);
    const top = nonNegative(ctx, '$top');
    const skip = nonNegative(ctx, '$skip') ?? 0;
    const skipToken = nonNegative(ctx, '$skiptoken') ?? 0;
    const inlineCount = ctx.query.get('$inlinecount');
    if (inlineCount !== null && inlineCount !== 'allpages' && inlineCount !== 'none') {
      throw new ODataRequestError(400, `Invalid value '${inlineCount}' for system query option $inlinecount`);
    }

    let matched = candidateRows(rows, filter, def.props, INDEXED).filter((r) => predicate(r));
    if (order.length > 0) matched = [...matched].sort((a, b) => compareRows(a, b, order, def));
    const window = matched.slice(skip, top === undefined ? undefined : skip + top);
    const pageSize = this.serverPageSize;
    const page = pageSize === null ? window.slice(skipToken) : window.slice(skipToken, skipToken + pageSize);

    const d: Record<string, unknown> = { results: page.map((r) => this.toWire(ctx, def, r, select)) };
    if (inlineCount === 'allpages') d.__count = String(matched.length);
    if (pageSize !== null && skipToken + pageSize < window.length) d.__next = nextLink(ctx, skipToken + pageSize);
    this.sendJson(ctx, 200, { d }, { dataserviceversion: '2.0' });
  }

  private updateCustomer(ctx: SimContext): void {
    const method = effectiveMethod(ctx);
    if (method !== 'PATCH' && method !== 'MERGE') {
      throw new ODataRequestError(405, `Method '${method}' is not allowed on A_Customer: use MERGE or PATCH to change a customer`);
    }
    checkOptions(ctx, ['$format']);
    const row = this.findByKey(CUSTOMER, this.state.customers, ctx.params.key);
    const customerId = String(row.Customer);
    const current = this.customerEtag(customerId) ?? '';
    const ifMatch = header(ctx, 'if-match');
    if (ifMatch !== undefined && ifMatch.trim() !== '*' && ifMatch.trim() !== current) {
      throw new ODataRequestError(412, 'Precondition failed: the ETag in If-Match does not match the current version of the customer (changed by another user)');
    }

    let body: unknown;
    try {
      body = JSON.parse(ctx.body.toString('utf8') || '{}');
    } catch {
      throw new ODataRequestError(400, 'Malformed request body: the payload is not valid JSON', '/IWBEP/CM_MGW_RT/006');
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new ODataRequestError(400, 'Malformed request body: expected a JSON object', '/IWBEP/CM_MGW_RT/006');
    }
    const changes: Record<string, string> = {};
    for (const [prop, value] of Object.entries(body as Record<string, unknown>)) {
      if (prop === '__metadata') continue;
      if (prop === 'Customer') {
        if (value !== customerId) throw new ODataRequestError(400, `Key property 'Customer' cannot be changed`, '/IWBEP/CM_MGW_RT/006');
        continue;
      }
      if (!Object.hasOwn(CUSTOMER.props, prop)) {
        throw new ODataRequestError(400, `Property '${prop}' is invalid: not found in type '${CUSTOMER.type}'`, '/IWBEP/CM_MGW_RT/006');
      }
      const max = CUSTOMER_UPDATABLE[prop];
      if (max === undefined) throw new ODataRequestError(400, `Property '${prop}' is read-only in '${CUSTOMER.type}'`, '/IWBEP/CM_MGW_RT/006');
      if (typeof value !== 'string') throw new ODataRequestError(400, `Property '${prop}' has an invalid value: expected Edm.String`, '/IWBEP/CM_MGW_RT/006');
      if (value.length > max) throw new ODataRequestError(400, `Property '${prop}' has an invalid value: longer than ${max} characters`, '/IWBEP/CM_MGW_RT/006');
      changes[prop] = value;
    }
    Object.assign(row, changes);
    const previous = this.state.lastChange.get(customerId) ?? 0;
    this.state.lastChange.set(customerId, Math.max(this.now(), previous + 1));
    this.send(ctx, 204, '', { etag: this.customerEtag(customerId) ?? '', dataserviceversion: '2.0' });
  }

  // ------------------------------------------------------------------------------ helpers

  private findByKey(def: EntitySetDef, rows: readonly Row[], rawKey: string | undefined): Row {
    let key;
    try {
      key = parseKeyPredicate(rawKey ?? '');
    } catch (err) {
      throw new ODataRequestError(400, `Invalid key predicate '${rawKey}' for '${def.name}': ${(err as Error).message}`, '/IWBEP/CM_MGW_RT/021');
    }
    let values: Record<string, string>;
    if (key.kind === 'single') {
      if (def.keys.length !== 1) throw new ODataRequestError(400, `Invalid key predicate for '${def.name}': expected ${def.keys.join(', ')}`);
      values = { [def.keys[0]]: key.value };
    } else {
      values = key.values;
      const names = Object.keys(values);
      if (names.length !== def.keys.length || !def.keys.every((k) => names.includes(k))) {
        throw new ODataRequestError(400, `Invalid key predicate for '${def.name}': expected ${def.keys.join(', ')}`);
      }
    }
    const row = rows.find((r) => def.keys.every((k) => r[k] === values[k]));
    if (!row) throw new ODataRequestError(404, `Resource not found for segment '${def.type.split('.').pop()}'`, '/IWBEP/CM_MGW_RT/020');
    return row;
  }

  private etagFor(def: EntitySetDef, row: Row): string | undefined {
    return def === CUSTOMER ? this.customerEtag(String(row.Customer)) : undefined;
  }

  private toWire(ctx: SimContext, def: EntitySetDef, row: Row, select: readonly string[] | null): Record<string, unknown> {
    const keyText =
      def.keys.length === 1
        ? formatStringLiteral(String(row[def.keys[0]]))
        : def.keys.map((k) => `${k}=${formatStringLiteral(String(row[k]))}`).join(',');
    const uri = `${ctx.url.origin}${ROOT}/${def.service}/${def.name}(${keyText})`;
    const etag = this.etagFor(def, row);
    const out: Record<string, unknown> = { __metadata: { id: uri, uri, type: def.type, ...(etag ? { etag } : {}) } };
    for (const prop of select ?? Object.keys(def.props)) out[prop] = row[prop] ?? null;
    return out;
  }

  private odataError(ctx: SimContext, status: number, message: string, code?: string, headers: Record<string, string> = {}): void {
    const errorCode = code ?? ERROR_CODES[status] ?? GENERIC_CODE;
    const service = /\/sap\/opu\/odata\/sap\/([A-Z0-9_]+)/.exec(ctx.url.pathname)?.[1] ?? '';
    const body = {
      error: {
        code: errorCode,
        message: { lang: 'en', value: message },
        innererror: {
          application: {
            component_id: service === 'API_OPLACCTGDOCITEMCUBE_SRV' ? 'FI-FIO-AR-2CL' : 'LO-MD-BP-OM',
            service_namespace: '/SAP/',
            service_id: service,
            service_version: '0001',
          },
          transactionid: randomBytes(16).toString('hex').toUpperCase(),
          timestamp: sapTimestamp(this.now()),
          Error_Resolution: {
            SAP_Transaction: 'For backend administrators: use ADT feed reader "SAP Gateway Error Log" or run transaction /IWFND/ERROR_LOG on SAP Gateway hub system and search for entries with the timestamp above for more details',
            SAP_Note: 'See SAP Note 1797736 for error analysis (https://service.sap.com/sap/support/notes/1797736)',
          },
          errordetails: [{ code: errorCode, message, propertyref: '', severity: 'error', target: '', transition: false }],
        },
      },
    };
    this.sendJson(ctx, status, body, { dataserviceversion: '1.0', ...headers });
  }

  /** SAP answers a failed logon with an HTML page, not an OData error. */
  private sendLogonFailed(ctx: SimContext): void {
    const html =
      '<html><head><title>Logon Error Message</title></head><body>' +
      '<h1>Logon failed</h1>' +
      '<p>Logon failed: the user name or password is incorrect, or no credentials were sent.</p>' +
      `<p>System ${this.systemId}, client ${this.sapClient}</p>` +
      '</body></html>';
    this.send(ctx, 401, html, {
      'content-type': 'text/html; charset=utf-8',
      'www-authenticate': `Basic realm="SAP NetWeaver Application Server [${this.systemId}/${this.sapClient}]"`,
    });
  }

  /** An over-long URL is refused by the web tier in front of the gateway: an HTML page, not an OData error. */
  protected override refuseOversized(ctx: SimContext): boolean {
    const maxBody = this.limits.maxBatchBytes;
    if (ctx.route === 'batch' && maxBody !== null && ctx.body.length > maxBody) {
      this.sendFrontEnd(
        ctx,
        413,
        '<html><head><title>413 Request Entity Too Large</title></head><body><h1>Request Entity Too Large</h1>' +
          `<p>The request body of ${ctx.body.length} bytes exceeds the limit of ${maxBody} bytes.</p></body></html>`,
      );
      return true;
    }
    const max = this.limits.maxUrlBytes;
    if (max === null || this.requestBytes(ctx).uri <= max) return false;
    this.sendFrontEnd(
      ctx,
      414,
      '<html><head><title>414 Request-URI Too Long</title></head><body><h1>Request-URI Too Long</h1>' +
        `<p>The length of the requested URL exceeds the limit of ${max} bytes.</p></body></html>`,
    );
    return true;
  }

  protected override sendError(ctx: SimContext, status: number, message: string): void {
    if (status === 401) return this.sendLogonFailed(ctx);
    this.odataError(ctx, status, message);
  }

  protected override sendRateLimited(ctx: SimContext, retryAfterSeconds: number): void {
    const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
    this.odataError(ctx, 429, `Rate limit exceeded: too many requests, retry after ${seconds} second(s)`, GENERIC_CODE, {
      'retry-after': String(seconds),
    });
  }
}

// ------------------------------------------------------------------------------ module helpers

/** What an operation inside a `$batch` answered (the handlers write to it as to a response). */
class CapturedResponse {
  status = 0;
  headers: Record<string, string> = {};
  body = '';
  headersSent = false;
  destroyed = false;

  setHeader(name: string, value: string | string[]): void {
    this.headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }

  writeHead(status: number, headers: Record<string, string> = {}): void {
    this.status = status;
    for (const [k, v] of Object.entries(headers)) this.setHeader(k, v);
    this.headersSent = true;
  }

  end(body: string | Buffer = ''): void {
    this.body = body.toString();
  }
}

/** Properties a filter often pins to a few values (a customer, a business partner): rows are indexed by them. */
const INDEXED = ['Customer', 'BusinessPartner'];

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** A resource path; a trailing slash is accepted as a gateway does (SAP's client sends one when it fetches a CSRF token). */
function re(path: string): RegExp {
  return new RegExp(`^${path}/?$`);
}

const EDM_TYPES: Record<EdmType, string> = {
  string: 'Type="Edm.String"',
  boolean: 'Type="Edm.Boolean"',
  decimal: 'Type="Edm.Decimal" Precision="24" Scale="3"',
  datetime: 'Type="Edm.DateTime" Precision="0" sap:display-format="Date"',
};

/** OData V2 `$metadata` (EDMX 1.0) of one service, generated from the entity sets the simulator serves. */
export function edmx(service: EntitySetDef['service']): string {
  const sets = ENTITY_SETS.filter((s) => s.service === service);
  const types = sets.map((def) => {
    const keys = def.keys.map((k) => `<PropertyRef Name="${k}"/>`).join('');
    const props = Object.entries(def.props)
      .map(([name, type]) => `<Property Name="${name}" ${EDM_TYPES[type]}${def.keys.includes(name) ? ' Nullable="false"' : ''}/>`)
      .join('\n        ');
    return `      <EntityType Name="${def.type.split('.').pop() ?? def.type}" sap:content-version="1">\n        <Key>${keys}</Key>\n        ${props}\n      </EntityType>`;
  });
  const entitySets = sets.map((def) => `        <EntitySet Name="${def.name}" EntityType="${def.type}" sap:content-version="1"/>`);
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<edmx:Edmx Version="1.0" xmlns:edmx="http://schemas.microsoft.com/ado/2007/06/edmx" xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata" xmlns:sap="http://www.sap.com/Protocols/SAPData">',
    '  <edmx:DataServices m:DataServiceVersion="2.0">',
    `    <Schema Namespace="${service}" xml:lang="en" sap:schema-version="1" xmlns="http://schemas.microsoft.com/ado/2008/09/edm">`,
    ...types,
    `      <EntityContainer Name="${service}_Entities" m:IsDefaultEntityContainer="true" sap:supported-formats="atom json xlsx">`,
    ...entitySets,
    '      </EntityContainer>',
    '    </Schema>',
    '  </edmx:DataServices>',
    '</edmx:Edmx>',
    '',
  ].join('\n');
}

function header(ctx: SimContext, name: string): string | undefined {
  const v = ctx.req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** POST with `X-HTTP-Method: MERGE` (method tunnelling) counts as MERGE. */
function effectiveMethod(ctx: SimContext): string {
  const method = ctx.req.method ?? 'GET';
  const tunnelled = header(ctx, 'x-http-method');
  return method === 'POST' && tunnelled ? tunnelled.trim().toUpperCase() : method;
}

function cookies(ctx: SimContext): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header(ctx, 'cookie') ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}

/** Rejects unknown or repeated system query options ($…); custom parameters pass. */
function checkOptions(ctx: SimContext, allowed: readonly string[]): void {
  const seen = new Set<string>();
  for (const name of ctx.query.keys()) {
    if (!name.startsWith('$')) continue;
    if (!allowed.includes(name)) throw new ODataRequestError(400, `System query option '${name}' is not supported for this resource`);
    if (seen.has(name)) throw new ODataRequestError(400, `System query option '${name}' is specified more than once`);
    seen.add(name);
  }
}

function parseSelect(text: string | null, def: EntitySetDef): string[] | null {
  if (text === null) return null;
  const items = text.split(',').map((s) => s.trim());
  if (items.length === 1 && items[0] === '*') return null;
  let offset = 0;
  for (const item of items) {
    if (!Object.hasOwn(def.props, item)) {
      throw new ODataRequestError(400, `Invalid $select: property '${item}' at offset ${offset} not found in type '${def.type}'`);
    }
    offset += item.length + 1;
  }
  return [...new Set(items)];
}

interface OrderKey {
  prop: string;
  type: EdmType;
  desc: boolean;
}

function parseOrderBy(text: string | null, def: EntitySetDef): OrderKey[] {
  if (text === null) return [];
  return text.split(',').map((part) => {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)(?:\s+(asc|desc))?\s*$/.exec(part);
    if (!m) throw new ODataRequestError(400, `Invalid $orderby expression '${part}'`);
    if (!Object.hasOwn(def.props, m[1])) throw new ODataRequestError(400, `Invalid $orderby: property '${m[1]}' not found in type '${def.type}'`);
    return { prop: m[1], type: def.props[m[1]], desc: m[2] === 'desc' };
  });
}

function compareRows(a: Row, b: Row, order: readonly OrderKey[], def: EntitySetDef): number {
  for (const key of order) {
    const c = compareValues(a[key.prop], b[key.prop], key.type);
    if (c !== 0) return key.desc ? -c : c;
  }
  return def.keys.reduce((acc, k) => acc || compareValues(a[k], b[k], 'string'), 0);
}

function compareValues(a: Row[string], b: Row[string], type: EdmType): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if (type === 'decimal') return compareDecimal(String(a), String(b));
  if (type === 'datetime') return Math.sign(dateMs(String(a)) - dateMs(String(b)));
  if (type === 'boolean') return a === b ? 0 : a ? 1 : -1;
  return String(a) < String(b) ? -1 : 1;
}

function dateMs(wire: string): number {
  return Number(/-?\d+/.exec(wire)?.[0] ?? 0);
}

/** A gateway's next link: absolute, the request's own query as it was encoded, with `$skiptoken` set to where the next page starts. */
function nextLink(ctx: SimContext, skipToken: number): string {
  const kept = ctx.url.search
    .slice(1)
    .split('&')
    .filter((part) => part !== '' && !/^(?:\$|%24)skiptoken=/i.test(part));
  return `${ctx.url.origin}${ctx.url.pathname}?${[...kept, `$skiptoken=${skipToken}`].join('&')}`;
}

function nonNegative(ctx: SimContext, name: string): number | undefined {
  const v = ctx.query.get(name);
  if (v === null) return undefined;
  if (!/^\d{1,9}$/.test(v)) throw new ODataRequestError(400, `Invalid value '${v}' for system query option ${name}: expected a non-negative integer`);
  return Number(v);
}

/** Gateway timestamps: YYYYMMDDhhmmss.fffffff (UTC). */
function sapTimestamp(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2026-11-01T12:00:00.000Z
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}.${iso.slice(20, 23)}0000`;
}

