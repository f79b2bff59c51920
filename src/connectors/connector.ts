/**
 * The one seam between the aggregation and the systems of record. A connector knows how to
 * fetch its part of a customer's profile by the enterprise customer number and returns it in
 * canonical form; the aggregation knows nothing else about it.
 */

/** An exact amount of money. */
export interface Money {
  /** Decimal string (exact) in the currency's minor units, e.g. "1250.50" (never "-0.00"). */
  amount: string;
  /** ISO 4217 code, e.g. "USD". */
  currency: string;
}

/** The canonical fields a source can contribute. Each source fills only what it owns. */
export interface CustomerPartial {
  accountName?: string;
  loyaltyTier?: string;
  /** ISO 8601 calendar date, `YYYY-MM-DD`. */
  lastInteractionDate?: string;
  email?: string;
  phone?: string;
  /** The open balance, one exact amount per currency, ordered by currency code; empty when nothing is open. */
  balances?: Money[];
  openTickets?: number;
}

export type FetchResult = { found: true; data: CustomerPartial } | { found: false };

export interface CustomerConnector {
  /** Stable source name used in responses, metrics and configuration (e.g. "sap"). */
  readonly source: string;
  readonly enabled: boolean;
  /**
   * Fetches this source's part of the profile. Rejects with a ConnectorError; must stop its I/O
   * when `signal` aborts.
   */
  fetch(customerId: string, signal: AbortSignal): Promise<FetchResult>;
  /**
   * Fetches this source's part for many customers in as few calls as the vendor's bounds allow.
   * Every customer asked for has an entry: its result, or an Error that concerns it alone (one bad
   * record fails only its customer). Rejects only when the call itself failed.
   */
  fetchMany?(customerIds: readonly string[], signal: AbortSignal): Promise<Map<string, FetchResult | Error>>;
  /** The most customers one call carries (1: no batching). */
  readonly batchMaxCustomers?: number;
}

/** What a batched fetch answers for the customers a vendor call returned nothing for. */
export const NOT_FOUND: FetchResult = Object.freeze({ found: false });

/** Finds customer numbers by contact details (implemented by the CRM that owns contacts). */
export interface CustomerDirectory {
  findByPhone(e164: string, signal: AbortSignal): Promise<string[]>;
  findByEmail(email: string, signal: AbortSignal): Promise<string[]>;
}

/** DI token: every registered connector, in registration order. */
export const CONNECTORS = Symbol('CONNECTORS');
/** DI token: the directory used for phone and e-mail look-ups. */
export const CUSTOMER_DIRECTORY = Symbol('CUSTOMER_DIRECTORY');
