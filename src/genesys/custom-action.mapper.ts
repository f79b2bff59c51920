import type { ProfileResult } from '../aggregation/aggregation.service.js';
import { isDegraded } from '../aggregation/merge.js';
import type { CustomActionResponse, CustomerView } from './dto/custom-action.dto.js';

/**
 * Customer 360 → the flat view a Genesys flow reads. Missing values are left out (not null) so
 * the data action's translationMapDefaults apply instead of failing the flow.
 */
export function toCustomActionResponse(result: ProfileResult | undefined): CustomActionResponse {
  if (!result || result.verdict === 'not_found') return { status: 'not_found', data: { customerView: null } };
  const v = result.view;
  const degraded = Object.entries(v.sources)
    .filter(([, s]) => isDegraded(s))
    .map(([name]) => name);
  const view: Partial<CustomerView> = {
    customerId: v.customerId,
    name: v.accountName ?? undefined,
    loyaltyTier: v.loyaltyTier ?? undefined,
    balance: v.balance ?? undefined,
    currency: v.currency ?? undefined,
    openTickets: v.openTickets ?? undefined,
    lastInteractionDate: v.lastInteractionDate ?? undefined,
    degradedSources: degraded.join(','),
    isDegraded: degraded.length > 0,
  };
  return { status: degraded.length > 0 ? 'degraded' : 'ok', data: { customerView: view as CustomerView } };
}
