import { Big } from 'big.js';

import { expectShape } from '../../upstream/vendor-http.js';
import type { CustomerPartial, Money } from '../connector.js';

const DECIMAL = /^-?\d+(\.\d+)?$/;

/** `{ d: {...} }` → the entity. */
export function entity(body: unknown): Record<string, unknown> {
  const d = (body as { d?: unknown } | null)?.d;
  expectShape('sap', typeof d === 'object' && d !== null && !Array.isArray(d), 'entity');
  return d as Record<string, unknown>;
}

/** One page of a collection: its entries, the gateway's link to the next page, and `__count` when asked for. */
export interface CollectionPage {
  results: Record<string, unknown>[];
  /** `__next`: more entries follow (server-driven paging). */
  next?: string;
  /** `__count` (with `$inlinecount=allpages`): how many entries the whole collection has. */
  count?: number;
}

/** `{ d: { results: [...], __count?: "230", __next?: "…" } }` → the page (shape-checked). */
export function collectionPage(body: unknown): CollectionPage {
  const d = (body as { d?: { results?: unknown; __next?: unknown; __count?: unknown } } | null)?.d;
  expectShape('sap', Array.isArray(d?.results), 'collection');
  const { results, __next: next, __count: count } = d as { results: Record<string, unknown>[]; __next?: unknown; __count?: unknown };
  expectShape('sap', next === undefined || (typeof next === 'string' && next.length > 0), 'collection next link');
  // Edm.Int64 arrives as a string
  expectShape('sap', count === undefined || (typeof count === 'string' && /^\d{1,15}$/.test(count)), 'collection count');
  return { results, ...(next === undefined ? {} : { next }), ...(count === undefined ? {} : { count: Number(count) }) };
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

/** SAP currency keys: ISO 4217 codes (up to five characters in SAP). */
const CURRENCY = /^[A-Z][A-Z0-9]{0,4}$/;

/**
 * The open balance per currency: each currency's items summed exactly (Edm.Decimal arrives as
 * strings; no float ever touches money), rounded half-up to its minor units once, at the end.
 * Ordered by currency code; a currency whose items net to zero is kept (it has open items).
 */
export function balancesOf(items: Record<string, unknown>[]): Money[] {
  const sums = new Map<string, Big>();
  for (const item of items) {
    const amount = item.AmountInCompanyCodeCurrency;
    const currency = item.CompanyCodeCurrency;
    expectShape('sap', typeof amount === 'string' && DECIMAL.test(amount) && typeof currency === 'string' && CURRENCY.test(currency), 'open item amount');
    sums.set(currency as string, (sums.get(currency as string) ?? new Big(0)).plus(amount as string));
  }
  return [...sums.keys()].sort().map((currency) => {
    const decimals = currencyDecimals(currency);
    const rounded = (sums.get(currency) as Big).round(decimals, Big.roundHalfUp);
    // never "-0.00": a sum that rounds to zero is zero
    return { amount: (rounded.eq(0) ? new Big(0) : rounded).toFixed(decimals), currency };
  });
}

export function toCustomerPartial(customer: Record<string, unknown>, items: Record<string, unknown>[]): CustomerPartial {
  const name = customer.CustomerFullName ?? customer.CustomerName;
  return { accountName: typeof name === 'string' && name.length > 0 ? name : undefined, balances: balancesOf(items) };
}
