import type { CustomerPartial } from '../connector.js';
import { isoDate } from '../dates.js';
import { expectShape } from '../vendor-http.js';
import type { AccountFields } from './salesforce.query.js';

type SfRecord = Record<string, unknown>;

export const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

/** `{ totalSize, done, records }` → the records (shape-checked). */
export function queryRecords(body: unknown): { records: SfRecord[]; nextRecordsUrl?: string } {
  const b = body as { records?: unknown; done?: unknown; nextRecordsUrl?: unknown };
  expectShape('salesforce', typeof b === 'object' && b !== null && Array.isArray(b.records) && typeof b.done === 'boolean', 'query result');
  return { records: b.records as SfRecord[], nextRecordsUrl: b.done === false && typeof b.nextRecordsUrl === 'string' ? b.nextRecordsUrl : undefined };
}

/** `{ searchRecords }` → the records (shape-checked). */
export function searchRecords(body: unknown): SfRecord[] {
  const b = body as { searchRecords?: unknown };
  expectShape('salesforce', typeof b === 'object' && b !== null && Array.isArray(b.searchRecords), 'search result');
  return b.searchRecords as SfRecord[];
}

/**
 * An Account record → the Salesforce part of the canonical profile. The last-interaction field
 * may be a Date (`2026-11-20`) or a DateTime (`2026-11-20T14:03:11.000+0000`, always UTC): either
 * way the profile carries the ISO calendar date (a DateTime's date in UTC); an unreadable value is left out.
 */
export function toCustomerPartial(record: SfRecord, f: AccountFields): CustomerPartial {
  return {
    accountName: str(record.Name),
    loyaltyTier: str(record[f.loyaltyTierField]),
    lastInteractionDate: isoDate(record[f.lastInteractionField]),
    email: str(record[f.emailField]),
    phone: str(record.Phone),
  };
}

export function customerNumbers(records: SfRecord[], f: AccountFields): string[] {
  return records.map((r) => str(r[f.customerNumberField])).filter((v): v is string => v !== undefined);
}

/** Salesforce errors are a JSON array of `{ message, errorCode }`; the first code, if any. */
export function errorCode(body: unknown): string | undefined {
  return Array.isArray(body) && typeof body[0] === 'object' && body[0] !== null ? str((body[0] as { errorCode?: unknown }).errorCode) : undefined;
}
