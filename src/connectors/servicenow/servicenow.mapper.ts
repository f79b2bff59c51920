import { expectShape } from '../../upstream/vendor-http.js';
import type { CustomerPartial } from '../connector.js';

/** Table API `{ result: [...] }` → records. */
export function tableRecords(body: unknown): Record<string, unknown>[] {
  const r = (body as { result?: unknown } | null)?.result;
  expectShape('servicenow', Array.isArray(r), 'table result');
  return r as Record<string, unknown>[];
}

/** Aggregate API `{ result: { stats: { count: "3" } } }` → 3 (the count arrives as a string). */
export function statsCount(body: unknown): number {
  const count = (body as { result?: { stats?: { count?: unknown } } } | null)?.result?.stats?.count;
  expectShape('servicenow', typeof count === 'string' && /^\d+$/.test(count), 'stats count');
  return Number(count);
}

export function toCustomerPartial(openTickets: number): CustomerPartial {
  return { openTickets };
}
