/**
 * The SAP simulator's receivables cube as a gateway serves it: server-driven paging (`__next` with
 * `$skiptoken`, the request's own query kept as it was encoded), `$top`/`$skip` and `$inlinecount`
 * together with it, and customers whose open items span several company-code currencies.
 */
import { describe, expect, it } from 'vitest';

import { DEMO, demoCustomer, MANY_OPEN_ITEMS, SEED_EPOCH_MS } from '../shared/seed.js';
import { SapSimulator } from './sap.simulator.js';
import { SAP_BASIC_AUTH, startedSapSimulator } from './started-simulator.js';

const AUTH = SAP_BASIC_AUTH;
const CUBE = '/sap/opu/odata/sap/API_OPLACCTGDOCITEMCUBE_SRV/A_OperationalAcctgDocItemCube';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- loosely typed vendor JSON in assertions
type Json = Record<string, any>;

const sim = startedSapSimulator();

/** The service's own open-items query: uncleared items of one customer, %20 for spaces. */
function openItemsPath(customer: string, extra = ''): string {
  const filter = encodeURIComponent(`Customer eq '${customer}' and IsCleared eq false`);
  return `${CUBE}?$filter=${filter}&$select=AmountInCompanyCodeCurrency,CompanyCodeCurrency&$inlinecount=allpages&$format=json&sap-client=100${extra}`;
}

async function getJson(url: string): Promise<Json> {
  const res = await fetch(url, { headers: { authorization: AUTH } });
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as Json;
}

/** Reads a collection to its end by following `__next`, as a client must. */
async function readAll(first: string): Promise<{ pages: Json[]; rows: Json[] }> {
  const pages: Json[] = [];
  let url: string | undefined = first;
  while (url !== undefined && pages.length < 20) {
    const body = await getJson(url);
    pages.push(body.d);
    url = body.d.__next as string | undefined;
  }
  return { pages, rows: pages.flatMap((p) => p.results as Json[]) };
}

describe('server-driven paging of the open items (default page: 100)', () => {
  const seed = demoCustomer(DEMO.manyOpenItems);
  const open = seed.openItems.filter((i) => !i.cleared);

  it('the many-items customer has more than two pages of open items, and some cleared ones', () => {
    expect(seed.openItems).toHaveLength(MANY_OPEN_ITEMS);
    expect(open.length).toBeGreaterThan(200);
    expect(open.length).toBeLessThan(300);
  });

  it('pages of 100 with __next until the last, every item exactly once, __count on every page', async () => {
    const { pages, rows } = await readAll(sim.url + openItemsPath(seed.customerId));
    expect(pages.map((p) => p.results.length)).toEqual([100, 100, open.length - 200]);
    expect(pages.map((p) => p.__count)).toEqual([String(open.length), String(open.length), String(open.length)]);
    expect(pages.at(-1)).not.toHaveProperty('__next');
    expect(rows.map((r) => r.AmountInCompanyCodeCurrency)).toEqual(open.map((i) => i.amount));
    expect(sim.callCount('openItems')).toBe(3);
  });

  it('__next is absolute and keeps the request query as it was sent (%20, not +), adding only $skiptoken', async () => {
    // (as the request line reached the server: a URL parser percent-encodes the quotes)
    const sent = new URL(sim.url + openItemsPath(seed.customerId)).href;
    const first = await getJson(sent);
    expect(first.__next).toBeUndefined();
    const next = first.d.__next as string;
    expect(next).toBe(`${sent}&$skiptoken=100`);
    expect(next).not.toContain('+');
    const second = await getJson(next);
    expect(second.d.__next).toBe(`${sent}&$skiptoken=200`);
  });

  it('$top and $skip choose the window; the server pages inside it', async () => {
    const { pages, rows } = await readAll(sim.url + openItemsPath(seed.customerId, '&$top=150&$skip=10'));
    expect(pages.map((p) => p.results.length)).toEqual([100, 50]);
    expect(rows.map((r) => r.AmountInCompanyCodeCurrency)).toEqual(open.slice(10, 160).map((i) => i.amount));
    // a window within one page: no next link at all
    const small = await getJson(sim.url + openItemsPath(seed.customerId, '&$top=5'));
    expect(small.d.results).toHaveLength(5);
    expect(small.d).not.toHaveProperty('__next');
  });

  it('a collection that fits one page has no __next', async () => {
    const body = await getJson(sim.url + openItemsPath(DEMO.healthy));
    expect(body.d).not.toHaveProperty('__next');
    expect(body.d.results).toHaveLength(demoCustomer(DEMO.healthy).openItems.filter((i) => !i.cleared).length);
  });

  it('the page size is a setting (null: no paging)', async () => {
    const unpaged = new SapSimulator({ serverPageSize: null });
    await unpaged.start();
    try {
      const body = await getJson(unpaged.url + openItemsPath(seed.customerId));
      expect(body.d.results).toHaveLength(open.length);
      expect(body.d).not.toHaveProperty('__next');
    } finally {
      await unpaged.stop();
    }
  });
});

describe('open items in several currencies', () => {
  it('each item carries the currency of the company code it is booked in', async () => {
    const seed = demoCustomer(DEMO.multiCurrency);
    const filter = encodeURIComponent(`Customer eq '${seed.customerId}'`);
    const body = await getJson(`${sim.url}${CUBE}?$filter=${filter}&$select=CompanyCode,CompanyCodeCurrency,AmountInCompanyCodeCurrency,IsCleared&$format=json`);
    expect(body.d.results.map((r: Json) => [r.CompanyCode, r.CompanyCodeCurrency, r.AmountInCompanyCodeCurrency, r.IsCleared])).toEqual([
      ['1010', 'EUR', '1250.500', false],
      ['1010', 'EUR', '-100.250', false],
      ['1710', 'USD', '80.000', false],
      ['1710', 'USD', '0.005', false],
      ['1810', 'JPY', '12000', false],
      ['1410', 'GBP', '999.990', true],
    ]);
  });

  it('setOpenItems takes a currency per item too', async () => {
    sim.setOpenItems(DEMO.healthy, [
      { amount: '10.000', documentDate: SEED_EPOCH_MS, cleared: false },
      { amount: '20.000', documentDate: SEED_EPOCH_MS, cleared: false, currency: 'CHF' },
    ]);
    const body = await getJson(sim.url + openItemsPath(DEMO.healthy));
    expect(body.d.results.map((r: Json) => r.CompanyCodeCurrency)).toEqual(['USD', 'CHF']);
  });
});
