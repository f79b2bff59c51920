import { Big } from 'big.js';
import type { CustomerPartial } from '../connector.js';
import { expectShape } from '../vendor-http.js';

const DECIMAL = /^-?\d+(\.\d+)?$/;

/** `{ d: {...} }` → the entity. */
export function entity(body: unknown): Record<string, unknown> {
  const d = (body as { d?: unknown } | null)?.d;
  expectShape('sap', typeof d === 'object' && d !== null && !Array.isArray(d), 'entity');
  return d as Record<string, unknown>;
}

/** `{ d: { results: [...] } }` → the results. */
export function results(body: unknown): Record<string, unknown>[] {
  const r = (body as { d?: { results?: unknown } } | null)?.d?.results;
  expectShape('sap', Array.isArray(r), 'collection');
  return r as Record<string, unknown>[];
}

const decimalsByCurrency = new Map<string, number>();

/**
 * Minor units of a currency (JPY 0, USD 2, …) from the platform's ISO 4217 data. Remembered per
 * code: building an Intl.NumberFormat costs about a millisecond, on every SAP answer otherwise.
 */
export function currencyDecimals(currency: string): number {
  const known = decimalsByCurrency.get(currency);
  if (known !== undefined) return known;
  let decimals = 2;
  try {
    decimals = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    /* not an ISO 4217 code: two decimals */
  }
  if (decimalsByCurrency.size < 1024) decimalsByCurrency.set(currency, decimals);
  return decimals;
}

/**
 * Sums open items exactly (Edm.Decimal arrives as strings; no float ever touches money) and
 * rounds half-up to the currency's minor units once, at the end.
 */
export function balanceOf(items: Record<string, unknown>[]): Pick<CustomerPartial, 'balance' | 'currency'> {
  if (items.length === 0) return { balance: '0' };
  const currencies = new Set<string>();
  let sum = new Big(0);
  for (const item of items) {
    const amount = item.AmountInCompanyCodeCurrency;
    const currency = item.CompanyCodeCurrency;
    expectShape('sap', typeof amount === 'string' && DECIMAL.test(amount) && typeof currency === 'string', 'open item amount');
    currencies.add(currency as string);
    sum = sum.plus(amount as string);
  }
  expectShape('sap', currencies.size === 1, 'open items in more than one currency');
  const [currency] = currencies;
  const rounded = sum.round(currencyDecimals(currency), Big.roundHalfUp);
  // never "-0.00": a sum that rounds to zero is zero
  return { balance: (rounded.eq(0) ? new Big(0) : rounded).toFixed(currencyDecimals(currency)), currency };
}

export function toCustomerPartial(customer: Record<string, unknown>, items: Record<string, unknown>[]): CustomerPartial {
  const name = customer.CustomerFullName ?? customer.CustomerName;
  return { accountName: typeof name === 'string' && name.length > 0 ? name : undefined, ...balanceOf(items) };
}
