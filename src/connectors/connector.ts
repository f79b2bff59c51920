import type { RateLimit } from '../resilience/resilient.decorator.js';

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
   * Fetches this source's part of the profile. Rejects with an UpstreamError; must stop its I/O
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
  /**
   * Calls one batch makes at once (default 1), all taken from the rate limit before the batch goes
   * out, so its reads leave together rather than the second waiting for a slot of its own.
   */
  readonly callsPerBatch?: number;
}

/** What a batched fetch answers for the customers a vendor call returned nothing for. */
export const NOT_FOUND: FetchResult = Object.freeze({ found: false });

/** Finds customer numbers by contact details (implemented by the CRM that owns contacts). */
export interface CustomerDirectory {
  findByPhone(e164: string, signal: AbortSignal): Promise<string[]>;
  findByEmail(email: string, signal: AbortSignal): Promise<string[]>;
}

/** Billing data an agent may change, in canonical terms. */
export interface BillingChange {
  billingName?: string;
  paymentTerms?: string;
  billingBlocked?: boolean;
}

/** What a billing write came to, when the system answered: expected outcomes are values, failures reject. */
export type BillingWriteOutcome = 'written' | 'unknown_customer' | 'conflict' | 'refused';

/**
 * Port: writes billing data to the system that owns it (SAP's customer master). The billing use
 * case depends on this, not on a concrete connector; the owning connector's module provides it.
 */
export abstract class BillingWriter {
  /** Stable name of the system written to (e.g. "sap"). */
  abstract readonly source: string;
  abstract readonly enabled: boolean;
  /**
   * Writes the change. Resolves with what the system said (written, no such customer, changed by
   * someone else meanwhile, refused as invalid); rejects with an UpstreamError when it could not say.
   */
  abstract updateBilling(customerId: string, change: BillingChange, signal: AbortSignal): Promise<BillingWriteOutcome>;
}

/** The settings every connector's own configuration class has: whether it is called, and its rate limit. */
export interface ConnectorSettings {
  readonly enabled: boolean;
  readonly rateLimit: RateLimit;
}

/** DI token: every registered connector, in registration order. */
export const CONNECTORS = Symbol('CONNECTORS');
/** DI token: the directory used for phone and e-mail look-ups. */
export const CUSTOMER_DIRECTORY = Symbol('CUSTOMER_DIRECTORY');
