/**
 * The agent side panel in a real browser: Debian's chromium driven by playwright-core, against the
 * real service (real authentication) wired to the four simulators over HTTP. Screenshots land in
 * test-artifacts/ (not committed).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

import Big from 'big.js';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { DEMO_CONVERSATION } from '../sandbox/genesys/genesys.data.js';
import { SANDBOX_CREDENTIALS, SANDBOX_INBOUND } from '../sandbox/shared/credentials.js';
import { DEMO, demoCustomer, UNKNOWN_CUSTOMER_ID } from '../sandbox/shared/seed.js';
import { type Simulators,startSimulators, stopSimulators } from '../sandbox/simulators.js';
import { startService, type TestService } from '../support/test-app.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = new URL('../../test-artifacts/', import.meta.url);
const LOCALE = 'en-US';
const SOURCES = ['salesforce', 'sap', 'servicenow'] as const;

let sims: Simulators;
let svc: TestService;
/** The same service as production runs it for the panel: agents sign in with PKCE, /v1 accepts their Genesys tokens. */
let agentSvc: TestService;
let browser: Browser;
/** A page of another origin that frames the panel, as the Genesys desktop does; allowed by WIDGET_FRAME_ANCESTORS. */
let desktop: HostPage;
/** The same, from an origin that is not allowed to frame it. */
let stranger: HostPage;
let token: string;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: the browser tests need Debian's chromium (apt-get install -y chromium; .ci/run installs it)`);
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  [desktop, stranger] = await Promise.all([hostPage(), hostPage()]);
  sims = await startSimulators();
  // real inbound authentication (no OPEN_AUTH); every request goes to the sources, so a failing
  // source is served from the kept copy (stale) when one exists; the failures the tests cause must
  // not open a breaker and change what later tests see
  svc = await startService({
    sims,
    env: { INTERNAL_AUTH: 'jwt', GENESYS_AUTH: 'jwt,apikey', CACHE_FRESH_TTL_MS: '0', BREAKER_MIN_CALLS: '1000', WIDGET_FRAME_ANCESTORS: desktop.origin },
  });
  agentSvc = await startService({
    sims,
    env: {
      INTERNAL_AUTH: 'jwt,genesys-agent',
      WIDGET_OAUTH_CLIENT_ID: SANDBOX_CREDENTIALS.genesys.panelClientId,
      GENESYS_AUTH: 'jwt,apikey',
      CACHE_FRESH_TTL_MS: '0',
      BREAKER_MIN_CALLS: '1000',
      WIDGET_FRAME_ANCESTORS: desktop.origin,
    },
  });
  // the panel's address, registered as the redirect URI of its OAuth client (exact match)
  sims.genesys.allowRedirectUri(`${agentSvc.url}/widget`);
  token = await mintWidgetToken(svc.url);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await svc?.close();
  await agentSvc?.close();
  if (sims) await stopSimulators(sims);
  await Promise.all([desktop?.close(), stranger?.close()]);
});

afterEach(async () => {
  await Promise.all(contexts.splice(0).map((c) => c.close()));
  for (const sim of Object.values(sims)) sim.resetFaults();
});

/** A read-only token from the service's token endpoint, the way the sandbox mints the one it prints. */
async function mintWidgetToken(base: string): Promise<string> {
  const res = await fetch(`${base}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: SANDBOX_INBOUND.clientId, client_secret: SANDBOX_INBOUND.clientSecret, scope: 'customer:read' }).toString(),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

interface Panel {
  page: Page;
  /** Messages the browser logged (CSP refusals appear here). */
  console: string[];
}

async function openPage(): Promise<Panel> {
  const context = await browser.newContext({ viewport: { width: 320, height: 640 }, locale: LOCALE, timezoneId: 'UTC' });
  contexts.push(context);
  context.setDefaultTimeout(20_000); // a missing element fails with its selector, before the test's own timeout
  const page = await context.newPage();
  const console: string[] = [];
  page.on('console', (m) => console.push(m.text()));
  return { page, console };
}

function widgetUrl(query: Record<string, string>, withToken: string | null = token): string {
  return `${svc.url}/widget?${new URLSearchParams(query).toString()}${withToken ? `#access_token=${withToken}` : ''}`;
}

/** Waits for the customer view (or a notice) to be shown. */
async function profileOf(page: Page) {
  await page.locator('#profile').waitFor({ state: 'visible' });
  const badge = async (source: string) => (await page.locator(`#sources li[data-source="${source}"] .badge-text`).innerText()).trim();
  return {
    name: (await page.locator('#customer-name').innerText()).trim(),
    tier: (await page.locator('#tier').innerText()).trim(),
    balance: (await page.locator('#balance').innerText()).trim(),
    tickets: (await page.locator('#tickets').innerText()).trim(),
    lastInteraction: (await page.locator('#last-interaction').innerText()).trim(),
    lastInteractionIso: await page.locator('#last-interaction time').getAttribute('datetime'),
    badges: Object.fromEntries(await Promise.all(SOURCES.map(async (s) => [s, await badge(s)] as const))),
    status: (await page.locator('#status').innerText()).trim(),
  };
}

async function noticeOf(page: Page, state: string) {
  const box = page.locator(`#notice[data-state="${state}"]`);
  await box.waitFor({ state: 'visible' });
  return { title: (await box.locator('h1').innerText()).trim(), text: (await box.locator('p').innerText()).trim(), retry: await page.locator('#retry').isVisible() };
}

/** An amount as the panel shows it: the ISO code follows a symbol that does not name it ($ → "$9,213.04 USD", but "CHF 7,697.04"). */
function shown(amount: Big, currency: string): string {
  const decimals = currency === 'JPY' ? 0 : 2;
  const formatted = new Intl.NumberFormat(LOCALE, { style: 'currency', currency }).format(Number(amount.round(decimals, Big.roundHalfUp).toFixed(decimals)));
  return formatted.includes(currency) ? formatted : `${formatted} ${currency}`;
}

/** What the seed says the panel must show for a customer (computed, not copied). */
function expected(customerId: string) {
  const c = demoCustomer(customerId);
  const money = shown(c.openItems.filter((i) => !i.cleared).reduce((sum, i) => sum.plus(i.amount), new Big(0)), c.currency);
  const date = new Intl.DateTimeFormat(LOCALE, { dateStyle: 'medium', timeZone: 'UTC' }).format(new Date(`${c.lastInteractionDate}T00:00:00Z`));
  return { c, money, date, tickets: String(c.tickets.filter((t) => t.active).length) };
}

/** The token the panel keeps for its page session (evaluated in the page; this project's TypeScript has no DOM types). */
function storedToken(page: Page): Promise<string | null> {
  return page.evaluate<string | null>("sessionStorage.getItem('c360.widget.accessToken')");
}

function artifact(name: string): string {
  return fileURLToPath(new URL(name, ARTIFACTS));
}

function cspViolations(console: string[]): string[] {
  return console.filter((m) => /Content Security Policy/i.test(m));
}

// a real browser on a shared machine: more time than the suite's default 30 s per test
describe('agent side panel', { timeout: 60_000 }, () => {
  it('renders the seed data of a demo customer, every source fresh, with its own CSP and the token out of the address bar', async () => {
    const { page, console } = await openPage();
    const want = expected(DEMO.healthy);
    const response = await page.goto(widgetUrl({ customerId: DEMO.healthy, gcHostOrigin: desktop.origin, gcTargetEnv: 'prod' }));
    const view = await profileOf(page);

    expect(view.name).toBe(want.c.name);
    expect(view.tier).toBe(`${want.c.loyaltyTier} tier`);
    expect(view.balance).toBe(want.money);
    expect(view.tickets).toBe(want.tickets);
    expect(view.lastInteractionIso).toBe(want.c.lastInteractionDate);
    expect(view.lastInteraction).toContain(want.date);
    expect(view.badges).toEqual({ salesforce: 'Fresh', sap: 'Fresh', servicenow: 'Fresh' });
    expect(view.status).toContain('all sources current');

    const headers = response?.headers() ?? {};
    expect(headers['content-security-policy']).toContain(`frame-ancestors ${desktop.origin}`);
    expect(headers['content-security-policy']).toContain("script-src 'self'");
    expect(headers['content-security-policy']).toContain("default-src 'none'");
    expect(headers['x-frame-options']).toBeUndefined();
    expect(headers['cache-control']).toBe('no-store');
    expect(page.url()).not.toContain('access_token');
    expect(await storedToken(page)).toBe(token);
    expect(await page.locator('#status').getAttribute('aria-live')).toBe('polite');
    expect(cspViolations(console)).toEqual([]);
    await page.screenshot({ path: artifact('widget.png'), fullPage: true });
  });

  it("finds the customer by the caller's phone and shows names as text", async () => {
    const { page } = await openPage();
    const want = expected(DEMO.apostrophe);
    await page.goto(widgetUrl({ phone: want.c.phone }));
    const view = await profileOf(page);
    expect(view.name).toBe("O'Neil & Sons");
    expect(view.name).toBe(want.c.name);
    expect(view.balance).toBe(want.money);
    expect(await page.locator('#customer-id').innerText()).toBe(want.c.customerId);
  });

  it('shows one line per currency when the open items are in several, each exact in its own format', async () => {
    const { page } = await openPage();
    const c = demoCustomer(DEMO.multiCurrency);
    await page.goto(widgetUrl({ customerId: c.customerId }));
    const view = await profileOf(page);
    expect(view.badges.sap).toBe('Fresh');
    const sums = new Map<string, Big>();
    for (const item of c.openItems.filter((i) => !i.cleared)) sums.set(item.currency ?? c.currency, (sums.get(item.currency ?? c.currency) ?? new Big(0)).plus(item.amount));
    const currencies = [...sums.keys()].sort();
    expect(currencies).toEqual(['EUR', 'JPY', 'USD']);
    const lines = page.locator('#balance .balances li');
    expect((await lines.allInnerTexts()).map((t) => t.trim())).toEqual(currencies.map((code) => shown(sums.get(code) as Big, code)));
    expect(await Promise.all(currencies.map((_, i) => lines.nth(i).getAttribute('data-currency')))).toEqual(currencies);
    await page.screenshot({ path: artifact('widget-multi-currency.png'), fullPage: true });
  });

  it('finds the caller from {{gcConversationId}} alone (Genesys conversation → ANI → customer), and says when the number is withheld', async () => {
    const { page } = await openPage();
    const want = expected(DEMO.apostrophe);
    const template = { gcConversationId: DEMO_CONVERSATION.apostropheCaller, gcHostOrigin: desktop.origin, gcTargetEnv: 'prod' };
    await page.goto(widgetUrl(template));
    const view = await profileOf(page);
    expect(view.name).toBe(want.c.name);
    expect(view.tickets).toBe(want.tickets);

    await page.goto(widgetUrl({ ...template, gcConversationId: DEMO_CONVERSATION.withheldNumber }));
    const withheld = await noticeOf(page, 'not-found');
    expect(withheld.text).toBe("The caller's number is withheld or not a phone number. Treat the caller as new.");
  });

  it('marks SAP unavailable and shows the balance as unavailable when SAP fails and no copy is kept', async () => {
    const { page } = await openPage();
    const want = expected('0010100002');
    sims.sap.setFaults({ forcedStatus: 500 });
    await page.goto(widgetUrl({ customerId: want.c.customerId, gcUseDarkTheme: 'true' }));
    const view = await profileOf(page);
    expect(view.badges.sap).toBe('Unavailable');
    expect(view.badges.salesforce).toBe('Fresh');
    expect(view.balance).toBe('Unavailable (SAP)');
    expect(view.tickets).toBe(want.tickets);
    expect(view.status).toContain('Partial data: SAP');
    await page.screenshot({ path: artifact('widget-degraded-dark.png'), fullPage: true });
  });

  it('shows the kept copy marked stale with its age when SAP fails after a first load', async () => {
    const { page } = await openPage();
    const want = expected(DEMO.manyTickets);
    await page.goto(widgetUrl({ customerId: want.c.customerId }));
    expect((await profileOf(page)).badges.sap).toBe('Fresh');
    sims.sap.setFaults({ forcedStatus: 503 });
    await page.locator('#refresh').click();
    await page.locator('#sources li[data-source="sap"] .badge[data-status="stale"]').waitFor();
    const view = await profileOf(page);
    expect(view.badges.sap).toMatch(/^Stale · \d+ sec old$/);
    expect(view.balance).toBe(want.money);
    expect(view.tickets).toBe('25');
    await page.screenshot({ path: artifact('widget-stale.png'), fullPage: true });
  });

  it('falls back to "continue without it" when the service answers 503, and recovers on Retry', async () => {
    const { page } = await openPage();
    const want = expected('0010100010');
    for (const source of SOURCES) sims[source].setFaults({ forcedStatus: 503 });
    const api = page.waitForResponse((r) => r.url().includes(`/v1/customers/${want.c.customerId}`));
    await page.goto(widgetUrl({ customerId: want.c.customerId }));
    expect((await api).status()).toBe(503);
    const notice = await noticeOf(page, 'unavailable');
    expect(notice.title).toBe('Customer data unavailable — continue without it');
    expect(notice.retry).toBe(true);
    expect(await page.locator('#profile').isHidden()).toBe(true);
    await page.screenshot({ path: artifact('widget-unavailable.png'), fullPage: true });

    for (const source of SOURCES) sims[source].resetFaults();
    await page.locator('#retry').click();
    expect((await profileOf(page)).name).toBe(want.c.name);
  });

  it('says so when no system knows the customer (404) or the link is invalid (400)', async () => {
    const { page } = await openPage();
    await page.goto(widgetUrl({ customerId: UNKNOWN_CUSTOMER_ID }));
    const missing = await noticeOf(page, 'not-found');
    expect(missing.title).toBe('No customer record');
    expect(missing.text).toContain(UNKNOWN_CUSTOMER_ID);
    expect(missing.retry).toBe(false);

    await page.goto(widgetUrl({ customerId: 'not a number!' }));
    const invalid = await noticeOf(page, 'invalid');
    expect(invalid.text).toContain('customerId must be');
  });

  it('asks for sign-in without a token, and after a 401 forgets the token', async () => {
    const { page } = await openPage();
    await page.goto(widgetUrl({ customerId: DEMO.healthy }, null));
    expect((await noticeOf(page, 'signin')).title).toBe('Not signed in');

    const second = (await openPage()).page;
    const api = second.waitForResponse((r) => r.url().includes('/v1/customers/'));
    await second.goto(widgetUrl({ customerId: DEMO.healthy }, 'not-a-valid-token'));
    expect((await api).status()).toBe(401);
    expect((await noticeOf(second, 'signin')).title).toBe('Sign-in expired');
    expect(await storedToken(second)).toBeNull();
  });

  it('renders inside a frame of the allowed Genesys origin and is refused by any other', async () => {
    const { page } = await openPage();
    const want = expected(DEMO.healthy);
    await page.goto(desktop.framing(widgetUrl({ customerId: DEMO.healthy })));
    const frame = page.frameLocator('iframe');
    await frame.locator('#profile').waitFor({ state: 'visible' });
    expect(await frame.locator('#customer-name').innerText()).toBe(want.c.name);

    const other = await openPage();
    const refused = other.page.waitForEvent('console', (m) => /frame-ancestors/.test(m.text()));
    await other.page.goto(stranger.framing(widgetUrl({ customerId: DEMO.healthy })));
    expect((await refused).text()).toMatch(new RegExp(`violates the following Content Security Policy directive: "frame-ancestors ${desktop.origin}".*blocked`));
  });
});

// production's path: Genesys fills in only {{gc…}} parameters, never a token
describe("agent side panel signing the agent in with Genesys Cloud (PKCE)", { timeout: 60_000 }, () => {
  const CLIENT_ID = SANDBOX_CREDENTIALS.genesys.panelClientId;
  const panelUrl = (query: Record<string, string>) => `${agentSvc.url}/widget?${new URLSearchParams(query).toString()}`;
  const count = (route: string) => sims.genesys.callCount(route);
  /** Code exchanges only (the service's own client-credentials requests share the route). */
  const exchanges = () => sims.genesys.requests('token').filter((r) => new URLSearchParams(r.body).get('grant_type') === 'authorization_code');

  it('opened by the desktop with only gc* parameters, signs in, exchanges the code, restores its address and renders the caller', async () => {
    const { page, console } = await openPage();
    const want = expected(DEMO.apostrophe);
    const address = panelUrl({ gcConversationId: DEMO_CONVERSATION.apostropheCaller, gcHostOrigin: desktop.origin, gcTargetEnv: 'prod', gcLangTag: 'en-US' });
    const before = { authorize: count('authorize'), exchanges: exchanges().length, tokensMe: count('tokensMe') };

    await page.goto(desktop.framing(address));
    const frame = page.frameLocator('iframe');
    await frame.locator('#profile').waitFor({ state: 'visible' });
    expect((await frame.locator('#customer-name').innerText()).trim()).toBe(want.c.name);
    expect((await frame.locator('#balance').innerText()).trim()).toBe(want.money);

    // one round trip, in Genesys's wire format: authorize with an S256 challenge, then the code and its verifier
    expect(count('authorize')).toBe(before.authorize + 1);
    expect(exchanges()).toHaveLength(before.exchanges + 1);
    expect(count('tokensMe')).toBe(before.tokensMe + 1);
    const authorize = sims.genesys.requests('authorize').at(-1)?.query ?? {};
    expect(authorize).toMatchObject({ client_id: CLIENT_ID, response_type: 'code', redirect_uri: `${agentSvc.url}/widget`, code_challenge_method: 'S256' });
    expect(authorize.code_challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(authorize.state).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    const exchange = Object.fromEntries(new URLSearchParams(exchanges().at(-1)?.body ?? ''));
    expect(Object.keys(exchange).sort()).toEqual(['client_id', 'code', 'code_verifier', 'grant_type', 'redirect_uri']);
    expect(exchange).toMatchObject({ grant_type: 'authorization_code', client_id: CLIENT_ID, redirect_uri: `${agentSvc.url}/widget` });
    expect(createHash('sha256').update(exchange.code_verifier).digest('base64url')).toBe(authorize.code_challenge);

    // the panel's frame shows its original address again (no code, no state) and keeps the Genesys token for its session
    const panel = page.frames().find((f) => f.url().startsWith(agentSvc.url));
    expect(panel?.url()).toBe(address);
    const kept = await panel?.evaluate<string | null>("sessionStorage.getItem('c360.widget.accessToken')");
    expect(kept).toEqual(expect.any(String));
    expect(kept).not.toContain('.'); // an opaque Genesys token, not one of our JWTs
    expect(cspViolations(console)).toEqual([]);
    await page.screenshot({ path: artifact('widget-pkce.png'), fullPage: true });

    // the page may call the login host and nothing else besides itself; framing is unchanged
    const csp = (await fetch(address)).headers.get('content-security-policy') ?? '';
    expect(csp).toContain(`connect-src 'self' ${sims.genesys.url};`);
    expect(csp).toContain(`frame-ancestors ${desktop.origin}`);
    expect(csp).toContain("form-action 'none'");
  });

  it('replaces a kept Genesys token that stopped working by signing in again, once', async () => {
    const { page } = await openPage();
    await page.goto(`${agentSvc.url}/widget`); // no customer: the page says so and does not sign in
    await noticeOf(page, 'invalid');
    await page.evaluate("sessionStorage.setItem('c360.widget.accessToken', 'revoked-genesys-token-0123456789')");
    const before = count('authorize');
    await page.goto(panelUrl({ customerId: DEMO.healthy }));
    expect((await profileOf(page)).name).toBe(demoCustomer(DEMO.healthy).name);
    expect(count('authorize')).toBe(before + 1);
    expect(await storedToken(page)).not.toBe('revoked-genesys-token-0123456789');
    expect(page.url()).toBe(panelUrl({ customerId: DEMO.healthy }));
  });

  it('does not loop when the service refuses a token it has just signed in for', async () => {
    const { page } = await openPage();
    sims.genesys.setFaults({ forcedStatus: 401, only: ['tokensMe'] }); // Genesys no longer vouches for any token
    const before = count('authorize');
    await page.goto(panelUrl({ customerId: DEMO.healthy }));
    const refused = await noticeOf(page, 'signin');
    expect(refused.title).toBe('Sign-in not accepted');
    expect(refused.retry).toBe(true);
    expect(count('authorize')).toBe(before + 1);
    expect(await storedToken(page)).toBeNull();
  });

  it('refuses a return it did not start (unknown state) without calling the token endpoint', async () => {
    const { page } = await openPage();
    const before = exchanges().length;
    await page.goto(`${agentSvc.url}/widget?code=stolen-code&state=not-mine`);
    const failed = await noticeOf(page, 'signin');
    expect(failed.title).toBe('Sign-in failed');
    expect(failed.text).toContain('not started by this panel');
    expect(exchanges()).toHaveLength(before);
    expect(page.url()).toBe(`${agentSvc.url}/widget`);
  });
});

interface HostPage {
  origin: string;
  framing(src: string): string;
  close(): Promise<void>;
}

/** A page on its own origin that frames a URL, as the Genesys Cloud desktop frames an Interaction Widget. */
async function hostPage(): Promise<HostPage> {
  const server: Server = createServer((req, res) => {
    const src = new URL(req.url ?? '/', 'http://127.0.0.1').searchParams.get('src') ?? '';
    const attr = src.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><title>desktop</title><iframe title="Customer 360" src="${attr}" width="320" height="600"></iframe>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    framing: (src) => `${origin}/?src=${encodeURIComponent(src)}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
