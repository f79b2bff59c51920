import type { ProfileResult } from '../aggregation/aggregation.service.js';
import type { Balance, Customer360 } from '../aggregation/customer360.schema.js';
import { isDegraded } from '../aggregation/merge.js';
import { shareAnswer } from '../observability/shared-answer.js';
import type { CustomActionResponse, CustomerView } from './dto/custom-action.dto.js';

/**
 * Customer 360 → the flat view a Genesys flow reads. Missing values are left out (not null) so
 * the data action's translationMapDefaults apply instead of failing the flow.
 */
export function toCustomActionResponse(result: ProfileResult | undefined): CustomActionResponse {
  if (!result || result.verdict === 'not_found') return { status: 'not_found', data: { customerView: null } };
  // a view shared between requests (frozen: assembled once from fresh parts) maps to the same
  // answer, itself shared (serialized once)
  if (!Object.isFrozen(result.view)) return mapped(result.view);
  let known = MAPPED.get(result.view);
  if (known === undefined) MAPPED.set(result.view, (known = shareAnswer(mapped(result.view))));
  return known;
}

/** The answers of shared views, by view (dropped with the view). */
const MAPPED = new WeakMap<Customer360, CustomActionResponse>();

function mapped(v: Customer360): CustomActionResponse {
  const degraded = Object.entries(v.sources)
    .filter(([, s]) => isDegraded(s))
    .map(([name]) => name);
  const view: Partial<CustomerView> = {
    customerId: v.customerId,
    name: v.accountName ?? undefined,
    loyaltyTier: v.loyaltyTier ?? undefined,
    balance: v.balance ?? undefined,
    currency: v.currency ?? undefined,
    balanceSummary: v.balances === null ? undefined : balanceSummary(v.balances),
    balanceCurrencies: v.balances?.length,
    openTickets: v.openTickets ?? undefined,
    lastInteractionDate: v.lastInteractionDate ?? undefined,
    degradedSources: degraded.join(','),
    isDegraded: degraded.length > 0,
  };
  return { status: degraded.length > 0 ? 'degraded' : 'ok', data: { customerView: view as CustomerView } };
}

/**
 * The open balance in one readable line: "1,150.25 EUR; 12,000 JPY; 80.01 USD" (the view's order,
 * by currency code), "0" when nothing is open. Grouped with commas and the ISO code after the
 * amount whatever the caller's locale, so a flow can show it, say it, or match on it.
 */
export function balanceSummary(balances: readonly Balance[]): string {
  return balances.length === 0 ? '0' : balances.map((b) => `${grouped(b.amount)} ${b.currency}`).join('; ');
}

/** "-1250.50" → "-1,250.50": the decimal string is grouped as text, never turned into a float. */
function grouped(amount: string): string {
  const sign = amount.startsWith('-') ? '-' : '';
  const [whole, fraction] = amount.slice(sign.length).split('.');
  return `${sign}${whole.replace(/\B(?=(\d{3})+$)/g, ',')}${fraction === undefined ? '' : `.${fraction}`}`;
}
