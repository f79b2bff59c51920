import { describe, expect, it } from 'vitest';

import { UpstreamError } from '../../upstream/upstream-error.js';
import type { SapClient } from './sap.client.js';
import { SapConfig } from './sap.config.js';
import { SapConnector } from './sap.connector.js';
import { openItemsUrl } from './sap.query.js';

const CUSTOMER = '0010100001';
const GATEWAY = 'https://s4-internal.corp:44300';
const FIRST = openItemsUrl(CUSTOMER, '100');
const CUSTOMER_ENTITY = { d: { Customer: CUSTOMER, CustomerName: 'ACME', CustomerFullName: 'Acme Corp' } };

const item = (amount: string, currency = 'EUR') => ({ AmountInCompanyCodeCurrency: amount, CompanyCodeCurrency: currency });

/** A gateway page: its items, `__count` for the whole list, and a next link when `skiptoken` is given. */
function page(items: object[], count: number | undefined, skiptoken?: number, next = `${GATEWAY}${FIRST}&$skiptoken=${skiptoken}`) {
  return { d: { results: items, ...(count === undefined ? {} : { __count: String(count) }), ...(skiptoken === undefined ? {} : { __next: next }) } };
}

/**
 * A client that answers from a script: the customer entity, and the open-items pages in order
 * (keyed by the $skiptoken of the URL asked for). It records what was asked.
 */
class ScriptedClient {
  readonly asked: string[] = [];

  constructor(private readonly pages: Record<string, unknown>) {}

  async get(url: string): Promise<unknown> {
    this.asked.push(url);
    if (url.includes('/A_Customer(')) return CUSTOMER_ENTITY;
    const token = /[?&]\$skiptoken=([^&]*)/.exec(url)?.[1] ?? 'first';
    return this.pages[token];
  }
}

function connector(pages: Record<string, unknown>, maxPages = 10): { sap: SapConnector; client: ScriptedClient } {
  const client = new ScriptedClient(pages);
  const config = Object.assign(new SapConfig(), { baseUrl: 'https://s4.example.com', sapClient: '100', openItemsMaxPages: maxPages });
  return { sap: new SapConnector(config, client as unknown as SapClient), client };
}

async function failure(promise: Promise<unknown>): Promise<UpstreamError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UpstreamError);
  expect((err as UpstreamError).kind).toBe('bad_response');
  return err as UpstreamError;
}

const signal = () => AbortSignal.timeout(5000);

describe('SapConnector: open items over server-driven paging', () => {
  it('follows __next page after page and sums every item exactly, per currency', async () => {
    const { sap, client } = connector({
      first: page([item('0.100'), item('80.000', 'USD')], 5, 2),
      '2': page([item('0.200'), item('0.005', 'USD')], 5, 4),
      '4': page([item('12000', 'JPY')], 5),
    });
    expect(await sap.fetch(CUSTOMER, signal())).toEqual({
      found: true,
      data: {
        accountName: 'Acme Corp',
        balances: [
          { amount: '0.30', currency: 'EUR' },
          { amount: '12000', currency: 'JPY' },
          { amount: '80.01', currency: 'USD' },
        ],
      },
    });
    // the next pages are asked of our own base URL (path and query only), never the gateway's host
    const pages = client.asked.filter((u) => !u.includes('/A_Customer('));
    expect(pages).toHaveLength(3);
    expect(pages[0]).toBe(FIRST);
    for (const url of pages) expect(url.startsWith('/sap/opu/odata/sap/API_OPLACCTGDOCITEMCUBE_SRV/A_OperationalAcctgDocItemCube?')).toBe(true);
    expect(pages[2]).toContain('$skiptoken=4');
  });

  it('reads exactly SAP_OPEN_ITEMS_MAX_PAGES pages; one more page would be a partial sum, so no balance at all', async () => {
    const pages = { first: page([item('1.00')], 3, 1), '1': page([item('1.00')], 3, 2), '2': page([item('1.00')], 3) };
    expect((await connector(pages, 3).sap.fetch(CUSTOMER, signal())).found).toBe(true);
    const { sap, client } = connector(pages, 2);
    const err = await failure(sap.fetch(CUSTOMER, signal()));
    expect(err.message).toContain('more than 2 pages');
    expect(client.asked.filter((u) => !u.includes('/A_Customer('))).toHaveLength(2);
  });

  it('fails when the pages do not add up to __count (items cleared or posted while reading)', async () => {
    const fewer = connector({ first: page([item('1.00')], 3, 1), '1': page([item('1.00')], 3) });
    expect((await failure(fewer.sap.fetch(CUSTOMER, signal()))).message).toContain('read 2 open items of 3');
    const changed = connector({ first: page([item('1.00')], 3, 1), '1': page([item('1.00')], 2, 2), '2': page([], 2) });
    expect((await failure(changed.sap.fetch(CUSTOMER, signal()))).message).toContain('changed while being read');
  });

  it('without __count it trusts the pages (the gateway did not say)', async () => {
    const { sap } = connector({ first: page([item('1.00')], undefined, 1), '1': page([item('2.00')], undefined) });
    expect(await sap.fetch(CUSTOMER, signal())).toMatchObject({ data: { balances: [{ amount: '3.00', currency: 'EUR' }] } });
  });

  it.each([
    ['another customer', `${GATEWAY}${openItemsUrl('0010100002', '100')}&$skiptoken=1`],
    ['another entity set', `${GATEWAY}/sap/opu/odata/sap/API_BUSINESS_PARTNER/A_Customer?$skiptoken=1`],
    ['another client', `${GATEWAY}${openItemsUrl(CUSTOMER, '200')}&$skiptoken=1`],
  ])('refuses a next link to %s', async (_what, next) => {
    const { sap, client } = connector({ first: page([item('1.00')], 2, 1, next), '1': page([item('1.00')], 2) });
    expect((await failure(sap.fetch(CUSTOMER, signal()))).message).toContain('not a page of the same open items');
    expect(client.asked.filter((u) => u.includes('$skiptoken'))).toEqual([]);
  });

  it('a page that is not found (404) is no answer about the items: no balance', async () => {
    const { sap } = connector({ first: page([item('1.00')], 2, 1), '1': undefined });
    await failure(sap.fetch(CUSTOMER, signal()));
    const none = connector({ first: undefined });
    await failure(none.sap.fetch(CUSTOMER, signal()));
  });

  it('no open items: an empty list of balances', async () => {
    const { sap } = connector({ first: page([], 0) });
    expect(await sap.fetch(CUSTOMER, signal())).toEqual({ found: true, data: { accountName: 'Acme Corp', balances: [] } });
  });
});

describe('SapConnector: billing writes (the BillingWriter port)', () => {
  function writer(patch: () => Promise<void>) {
    const patched: Array<{ path: string; body: Record<string, string> }> = [];
    const client = {
      patch: (path: string, body: Record<string, string>) => {
        patched.push({ path, body });
        return patch();
      },
    };
    const config = Object.assign(new SapConfig(), { baseUrl: 'https://s4.example.com', sapClient: '100' });
    return { sap: new SapConnector(config, client as unknown as SapClient), patched };
  }
  const refusal = (kind: 'not_found' | 'conflict' | 'bad_request' | 'unavailable' | 'circuit_open') => () => Promise.reject(new UpstreamError('sap', kind, kind));

  it('writes the change in SAP terms and says it was written', async () => {
    const { sap, patched } = writer(() => Promise.resolve());
    await expect(sap.updateBilling(CUSTOMER, { billingName: 'Acme AG', paymentTerms: 'NT30', billingBlocked: true }, signal())).resolves.toBe('written');
    expect(patched).toEqual([{ path: expect.stringContaining(`A_Customer('${CUSTOMER}')`) as string, body: { CustomerFullName: 'Acme AG', PaymentTerms: 'NT30', BillingIsBlockedForCustomer: '01' } }]);
  });

  it.each([
    ['not_found', 'unknown_customer'],
    ['conflict', 'conflict'],
    ['bad_request', 'refused'],
  ] as const)('SAP answering %s is the outcome %s (an answer, not a failure)', async (kind, outcome) => {
    await expect(writer(refusal(kind)).sap.updateBilling(CUSTOMER, { paymentTerms: 'NT30' }, signal())).resolves.toBe(outcome);
  });

  it.each([['unavailable'], ['circuit_open']] as const)('SAP %s rejects: it could not say (nothing written)', async (kind) => {
    await expect(writer(refusal(kind)).sap.updateBilling(CUSTOMER, { paymentTerms: 'NT30' }, signal())).rejects.toMatchObject({ source: 'sap', kind });
  });

  it('refuses an identifier that is no customer number without calling SAP', async () => {
    const { sap, patched } = writer(() => Promise.resolve());
    await expect(sap.updateBilling("0010'or'1", { paymentTerms: 'NT30' }, signal())).resolves.toBe('refused');
    expect(patched).toEqual([]);
  });
});
