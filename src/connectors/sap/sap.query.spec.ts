import { describe, expect, it } from 'vitest';
import { filterPredicate, parseFilter, parseKeyPredicate, type EntitySchema } from '../../../test/sandbox/sap/odata-filter.js';
import { BUSINESS_PARTNER_SERVICE, customersUrl, customerUrl, keyPredicate, nextOpenItemsUrl, odataString, OPEN_ITEMS_SERVICE, openItemsOfUrl, openItemsUrl, queryString } from './sap.query.js';

/** Splits `path?query` and decodes each parameter strictly (a '+' would stay a '+', not a space). */
function splitUrl(url: string): { path: string; params: Array<[string, string]> } {
  const q = url.indexOf('?');
  expect(q).toBeGreaterThan(0);
  const params = url
    .slice(q + 1)
    .split('&')
    .map((pair): [string, string] => {
      const eq = pair.indexOf('=');
      return [decodeURIComponent(pair.slice(0, eq)), decodeURIComponent(pair.slice(eq + 1))];
    });
  return { path: url.slice(0, q), params };
}

function param(url: string, name: string): string {
  const found = splitUrl(url).params.filter(([k]) => k === name);
  expect(found).toHaveLength(1);
  return found[0][1];
}

const HOSTILE = [
  "x' or Customer ne '",
  "' or 1 eq 1 or '",
  "'",
  "''",
  "O'Neil",
  'a&b=c',
  '100% sure',
  'a+b c',
  '#frag',
  '?x=1',
  'path/../other',
  ') or (true',
  'Zoë 東京 😀',
  'line\nbreak\ttab',
  'a'.repeat(200),
  "'".repeat(200),
];

describe('odataString', () => {
  it.each([
    ['0010100001', "'0010100001'"],
    ["O'Neil", "'O''Neil'"],
    ["''", "''''''"],
    ['', "''"],
  ])('%j → %s', (input, expected) => {
    expect(odataString(input)).toBe(expected);
  });
});

describe('queryString / keyPredicate', () => {
  it('percent-encodes values with %20 for spaces and never a +', () => {
    expect(queryString([['$filter', "a b+c'd"]])).toBe("$filter=a%20b%2Bc'd");
  });

  it('keyPredicate quotes, doubles quotes and encodes', () => {
    expect(keyPredicate("O'N eil")).toBe("('O''N%20eil')");
  });
});

describe('openItemsUrl', () => {
  it('addresses the open-items cube with the expected parameters', () => {
    const url = openItemsUrl('0010100001', '100');
    const { path, params } = splitUrl(url);
    expect(path).toBe(`${OPEN_ITEMS_SERVICE}/A_OperationalAcctgDocItemCube`);
    expect(params).toEqual([
      ['$filter', "Customer eq '0010100001' and IsCleared eq false"],
      ['$select', 'AmountInCompanyCodeCurrency,CompanyCodeCurrency'],
      ['$inlinecount', 'allpages'],
      ['$format', 'json'],
      ['sap-client', '100'],
    ]);
    // no $top: a gateway would take it as a client limit and cut the list short without a next link
    expect(url).not.toContain('$top');
  });

  it.each(HOSTILE)('percent-encodes %j: no raw spaces, no +, one parameter each', (value) => {
    const url = openItemsUrl(value, '100');
    expect(url).not.toMatch(/[ +\n\t#]/);
    expect(splitUrl(url).params.map(([k]) => k)).toEqual(['$filter', '$select', '$inlinecount', '$format', 'sap-client']);
  });
});

describe('nextOpenItemsUrl', () => {
  const first = openItemsUrl('0010100001', '100');
  const gateway = 'https://s4-internal.corp:44300';
  // what a URL parser makes of it (quotes percent-encoded; the same query to the gateway)
  const second = `${first.replaceAll("'", '%27')}&$skiptoken=100`;

  it("follows the gateway's next link on our own base: its path and query, not its host", () => {
    expect(nextOpenItemsUrl(`${gateway}${first}&$skiptoken=100`, '0010100001', '100')).toBe(second);
    // a relative link, and one whose host adds a prefix path, resolve the same way
    expect(nextOpenItemsUrl(`${first}&$skiptoken=100`, '0010100001', '100')).toBe(second);
    expect(nextOpenItemsUrl(`${gateway}/proxy${first}&$skiptoken=100`, '0010100001', '100')).toBe(second);
  });

  it('keeps the query opaque (its parameters and spelling) and adds sap-client only when missing', () => {
    const plus = `/sap/opu/odata/sap/API_OPLACCTGDOCITEMCUBE_SRV/A_OperationalAcctgDocItemCube?$filter=Customer+eq+'0010100001'+and+IsCleared+eq+false&$skiptoken=X1`;
    expect(nextOpenItemsUrl(plus, '0010100001', '100')).toBe(`${plus.replaceAll("'", '%27')}&sap-client=100`);
  });

  it.each([
    ['another customer', `${openItemsUrl('0010100002', '100')}&$skiptoken=100`],
    ['no filter at all (the whole ledger)', '/sap/opu/odata/sap/API_OPLACCTGDOCITEMCUBE_SRV/A_OperationalAcctgDocItemCube?$skiptoken=100'],
    ['another client', `${openItemsUrl('0010100001', '200')}&$skiptoken=100`],
    ['another entity set', `${first.replace('A_OperationalAcctgDocItemCube', 'A_Customer')}&$skiptoken=100`],
    ['not a URL', 'http://[::1'],
  ])('refuses a next link to %s', (_what, next) => {
    expect(nextOpenItemsUrl(next, '0010100001', '100')).toBeUndefined();
  });
});

const OPEN_ITEM: EntitySchema = {
  Customer: 'string',
  IsCleared: 'boolean',
  AmountInCompanyCodeCurrency: 'decimal',
  CompanyCodeCurrency: 'string',
};

describe('OData round trip through the simulator filter parser', () => {
  it.each(HOSTILE)('%j yields one Customer eq <exact value> comparison', (value) => {
    const filter = param(openItemsUrl(value, '100'), '$filter');
    expect(parseFilter(filter)).toEqual({
      kind: 'and',
      left: { kind: 'compare', op: 'eq', left: { kind: 'property', name: 'Customer', pos: 0 }, right: { kind: 'string', value } },
      right: {
        kind: 'compare',
        op: 'eq',
        left: { kind: 'property', name: 'IsCleared', pos: expect.any(Number) as number },
        right: { kind: 'boolean', value: false },
      },
    });
  });

  it.each(HOSTILE)('%j matches only that customer\'s uncleared items', (value) => {
    const matches = filterPredicate(param(openItemsUrl(value, '100'), '$filter'), OPEN_ITEM);
    const row = (customer: string, cleared: boolean) => ({ Customer: customer, IsCleared: cleared, AmountInCompanyCodeCurrency: '1.00', CompanyCodeCurrency: 'EUR' });
    expect(matches(row(value, false))).toBe(true);
    expect(matches(row(value, true))).toBe(false);
    expect(matches(row('0010100001', false))).toBe(false);
    expect(matches(row(`${value}x`, false))).toBe(false);
  });

  it.each(HOSTILE)('customerUrl(%j) carries the exact value as the entity key', (value) => {
    const { path, params } = splitUrl(customerUrl(value, '100'));
    const prefix = `${BUSINESS_PARTNER_SERVICE}/A_Customer(`;
    expect(path.startsWith(prefix)).toBe(true);
    expect(path.endsWith(')')).toBe(true);
    expect(path).not.toMatch(/[ +\n\t#?]/);
    const key = decodeURIComponent(path.slice(prefix.length, -1));
    expect(parseKeyPredicate(key)).toEqual({ kind: 'single', value });
    expect(params.map(([k]) => k)).toEqual(['$select', '$format', 'sap-client']);
  });
});

describe('batched reads (an or-chain: OData V2 has no in)', () => {
  const numbers = ['0010100001', "O'Brien", '0010100003'];

  it('customersUrl filters A_Customer on every customer number, quotes doubled', () => {
    const url = new URL(customersUrl(numbers, '100'), 'http://x');
    expect(url.pathname).toBe(`${BUSINESS_PARTNER_SERVICE}/A_Customer`);
    expect(url.searchParams.get('$filter')).toBe("Customer eq '0010100001' or Customer eq 'O''Brien' or Customer eq '0010100003'");
    expect(url.searchParams.get('$select')).toContain('Customer');
    expect(url.searchParams.get('sap-client')).toBe('100');
  });

  it('openItemsOfUrl keeps the open-item condition outside the parenthesized or-chain and selects the customer', () => {
    const url = new URL(openItemsOfUrl(numbers, '100'), 'http://x');
    expect(url.searchParams.get('$filter')).toBe("(Customer eq '0010100001' or Customer eq 'O''Brien' or Customer eq '0010100003') and IsCleared eq false");
    expect(url.searchParams.get('$select')).toBe('Customer,AmountInCompanyCodeCurrency,CompanyCodeCurrency');
    expect(url.searchParams.get('$inlinecount')).toBe('allpages');
  });

  it('a batch of one is the single-customer query, and a next link must keep the same batch', () => {
    expect(openItemsOfUrl(['0010100001'], '100').replace('Customer%2C', '')).toBe(openItemsUrl('0010100001', '100'));
    const next = `${openItemsOfUrl(numbers, '100')}&$skiptoken=100`;
    expect(nextOpenItemsUrl(next, numbers, '100')).toBeDefined();
    expect(nextOpenItemsUrl(next, numbers.slice(0, 2), '100')).toBeUndefined();
  });
});
