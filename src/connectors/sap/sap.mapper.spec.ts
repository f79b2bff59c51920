import { describe, expect, it } from 'vitest';

import { UpstreamError } from '../../upstream/upstream-error.js';
import type { Money } from '../connector.js';
import { balancesOf, collectionPage, currencyDecimals, entity, toCustomerPartial } from './sap.mapper.js';

function item(amount: unknown, currency: unknown = 'EUR'): Record<string, unknown> {
  return { AmountInCompanyCodeCurrency: amount, CompanyCodeCurrency: currency };
}

/** The one balance of items in a single currency. */
function single(items: Record<string, unknown>[]): Money {
  const balances = balancesOf(items);
  expect(balances).toHaveLength(1);
  return balances[0];
}

function badResponse(fn: () => unknown): UpstreamError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UpstreamError);
    const e = err as UpstreamError;
    expect(e.kind).toBe('bad_response');
    expect(e.source).toBe('sap');
    return e;
  }
  throw new Error('expected a bad_response UpstreamError');
}

describe('balancesOf: one currency', () => {
  it("adds '0.100' + '0.200' to exactly '0.30' EUR", () => {
    expect(single([item('0.100'), item('0.200')])).toEqual({ amount: '0.30', currency: 'EUR' });
  });

  it('has no float drift over many small amounts', () => {
    // 0.1 added 1000 times in floating point is 99.9999999999986
    expect(single(Array.from({ length: 1000 }, () => item('0.1')))).toEqual({ amount: '100.00', currency: 'EUR' });
  });

  it('keeps amounts beyond float precision exact', () => {
    expect(single([item('9007199254740993.01'), item('0.02')]).amount).toBe('9007199254740993.03');
  });

  it('uses the currency minor units: JPY has none', () => {
    expect(single([item('1500', 'JPY'), item('250', 'JPY')])).toEqual({ amount: '1750', currency: 'JPY' });
    expect(single([item('100.4', 'JPY')]).amount).toBe('100');
  });

  it('uses three decimals where the currency has three (BHD)', () => {
    expect(single([item('1.2345', 'BHD')]).amount).toBe('1.235');
  });

  it('subtracts negative amounts (credits)', () => {
    expect(single([item('100.00', 'USD'), item('-30.50', 'USD')])).toEqual({ amount: '69.50', currency: 'USD' });
    expect(single([item('10.00'), item('-25.00')]).amount).toBe('-15.00');
  });

  it('rounds half-up', () => {
    expect(single([item('0.005')]).amount).toBe('0.01');
    expect(single([item('0.015')]).amount).toBe('0.02');
    expect(single([item('0.004')]).amount).toBe('0.00');
    expect(single([item('2.5', 'JPY')]).amount).toBe('3');
  });

  it('rounds once, at the end, not per item', () => {
    // per item: 0.00 + 0.00 + 0.00 = 0.00; summed first: 0.012 → 0.01
    expect(single([item('0.004'), item('0.004'), item('0.004')]).amount).toBe('0.01');
    // per item half-up: 0.01 + 0.01 = 0.02; summed first: 0.010 → 0.01
    expect(single([item('0.005'), item('0.005')]).amount).toBe('0.01');
  });

  // Big#toFixed keeps the sign of a negative sum that rounds to zero ('-0.00'), which a flow comparing
  // balances would treat as non-zero.
  it("a sum that rounds to zero is '0.00' (or '0'), never negative zero", () => {
    expect(single([item('0.004'), item('-0.005')]).amount).toBe('0.00');
    expect(single([item('-0.4', 'JPY')]).amount).toBe('0');
  });

  it('no open items: no balances at all (an empty list, not a zero in some currency)', () => {
    expect(balancesOf([])).toEqual([]);
  });

  it.each([['1e3'], ['1,00'], ['12.'], ['.5'], ['+1.00'], [' 1.00'], ['abc'], [''], ['NaN'], ['Infinity']])('refuses the non-decimal amount %j', (amount) => {
    badResponse(() => balancesOf([item(amount)]));
  });

  it.each([[1.5], [null], [undefined], [{}]])('refuses a non-string amount %j', (amount) => {
    badResponse(() => balancesOf([item(amount)]));
  });

  it('refuses a missing, non-string or malformed currency', () => {
    badResponse(() => balancesOf([{ AmountInCompanyCodeCurrency: '1.00' }]));
    badResponse(() => balancesOf([item('1.00', 978)]));
    for (const code of ['', 'eur', 'EURO12', ' EUR', 'E-R']) badResponse(() => balancesOf([item('1.00', code)]));
  });
});

describe('balancesOf: several currencies', () => {
  it('one exact balance per currency, each in its own minor units, ordered by code', () => {
    const items = [item('1250.500', 'EUR'), item('80.000', 'USD'), item('-100.250', 'EUR'), item('12000', 'JPY'), item('0.005', 'USD')];
    expect(balancesOf(items)).toEqual([
      { amount: '1150.25', currency: 'EUR' },
      { amount: '12000', currency: 'JPY' },
      { amount: '80.01', currency: 'USD' },
    ]);
  });

  it('never adds amounts of different currencies together', () => {
    const balances = balancesOf([item('1.00', 'EUR'), item('1.00', 'USD')]);
    expect(balances).toEqual([
      { amount: '1.00', currency: 'EUR' },
      { amount: '1.00', currency: 'USD' },
    ]);
  });

  it('keeps a currency whose open items net to zero (there are open items in it)', () => {
    expect(balancesOf([item('50.00', 'CHF'), item('-50.00', 'CHF'), item('5.00', 'EUR')])).toEqual([
      { amount: '0.00', currency: 'CHF' },
      { amount: '5.00', currency: 'EUR' },
    ]);
  });

  it('sums exactly over pages worth of items in several currencies (no float drift, rounded once)', () => {
    const items = Array.from({ length: 3000 }, (_, k) => item('0.001', ['EUR', 'USD', 'JPY'][k % 3]));
    // 1000 × 0.001 = 1.000 in each; JPY rounds to 1 once (per item it would be 0)
    expect(balancesOf(items)).toEqual([
      { amount: '1.00', currency: 'EUR' },
      { amount: '1', currency: 'JPY' },
      { amount: '1.00', currency: 'USD' },
    ]);
  });
});

describe('currencyDecimals', () => {
  it('knows ISO 4217 minor units and falls back to 2 for an unknown code', () => {
    expect(currencyDecimals('EUR')).toBe(2);
    expect(currencyDecimals('JPY')).toBe(0);
    expect(currencyDecimals('KWD')).toBe(3);
    expect(currencyDecimals('not-a-currency')).toBe(2);
  });
});

describe('entity / collectionPage', () => {
  it('entity returns d', () => {
    expect(entity({ d: { Customer: '1' } })).toEqual({ Customer: '1' });
  });

  it.each([[null], [undefined], ['text'], [42], [{}], [{ d: null }], [{ d: [] }], [{ d: 'x' }], [{ results: [] }]])('entity refuses %j', (body) => {
    badResponse(() => entity(body));
  });

  it('collectionPage returns d.results, and __next and __count (Edm.Int64 as a string) when sent', () => {
    expect(collectionPage({ d: { results: [{ a: 1 }] } })).toEqual({ results: [{ a: 1 }] });
    expect(collectionPage({ d: { results: [] } })).toEqual({ results: [] });
    expect(collectionPage({ d: { results: [{ a: 1 }], __count: '230', __next: 'https://s4/x?$skiptoken=100' } })).toEqual({
      results: [{ a: 1 }],
      count: 230,
      next: 'https://s4/x?$skiptoken=100',
    });
  });

  it.each([[null], [{}], [{ d: {} }], [{ d: [] }], [{ d: { results: {} } }], [{ d: { results: 'x' } }], [{ results: [] }]])('collectionPage refuses %j', (body) => {
    badResponse(() => collectionPage(body));
  });

  it.each([
    ['a numeric __count', { __count: 230 }],
    ['a negative __count', { __count: '-1' }],
    ['a __count that is not a number', { __count: 'many' }],
    ['an empty __next', { __next: '' }],
    ['a __next that is not a string', { __next: { uri: 'x' } }],
  ])('collectionPage refuses %s', (_what, extra) => {
    badResponse(() => collectionPage({ d: { results: [], ...extra } }));
  });
});

describe('toCustomerPartial', () => {
  it('prefers the full name and adds the balances', () => {
    expect(toCustomerPartial({ CustomerFullName: 'Acme Corporation', CustomerName: 'ACME' }, [item('5.00')])).toEqual({
      accountName: 'Acme Corporation',
      balances: [{ amount: '5.00', currency: 'EUR' }],
    });
    expect(toCustomerPartial({ CustomerName: 'ACME' }, []).balances).toEqual([]);
  });

  it('falls back to the short name, and leaves an empty name out', () => {
    expect(toCustomerPartial({ CustomerName: 'ACME' }, []).accountName).toBe('ACME');
    expect(toCustomerPartial({ CustomerFullName: '' }, []).accountName).toBeUndefined();
  });
});
