import type { CustomerPartial } from '../connector.js';
import { expectShape } from '../vendor-http.js';

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

/**
 * Grouped Aggregate API `{ result: [{ stats: { count: "3" }, groupby_fields: [{ field, value }] }] }` →
 * count per group value. A group without records has no entry (its count is 0).
 */
export function groupedCounts(body: unknown): Map<string, number> {
  const result = (body as { result?: unknown } | null)?.result;
  expectShape('servicenow', Array.isArray(result), 'grouped stats');
  const counts = new Map<string, number>();
  for (const group of result as { stats?: { count?: unknown }; groupby_fields?: unknown }[]) {
    const count = group?.stats?.count;
    const fields = group?.groupby_fields;
    expectShape('servicenow', typeof count === 'string' && /^\d+$/.test(count) && Array.isArray(fields) && fields.length === 1, 'grouped stats entry');
    const value = (fields as { value?: unknown }[])[0]?.value;
    expectShape('servicenow', typeof value === 'string', 'grouped stats value');
    counts.set(value as string, Number(count));
  }
  return counts;
}
