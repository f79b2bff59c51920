import { describe, expect, it } from 'vitest';

import type { ProfileResult } from '../aggregation/aggregation.service.js';
import { mergeProfile, type SourceOutcome } from '../aggregation/merge.js';
import { toCustomActionResponse } from './custom-action.mapper.js';

const OUTCOMES: SourceOutcome[] = [
  { source: 'salesforce', state: { status: 'ok' }, data: { accountName: 'Acme Corp', loyaltyTier: 'Gold' } },
  { source: 'sap', state: { status: 'ok' }, data: { balances: [{ amount: '1250.50', currency: 'USD' }] } },
  { source: 'servicenow', state: { status: 'timeout' } },
];

function result(): ProfileResult {
  return { verdict: 'found', view: mergeProfile('0010100001', OUTCOMES, new Date('2026-10-21T07:28:00Z')) };
}

describe('toCustomActionResponse', () => {
  it('maps the view to the flat shape a flow reads', () => {
    expect(toCustomActionResponse(result())).toEqual({
      status: 'degraded',
      data: { customerView: { customerId: '0010100001', name: 'Acme Corp', loyaltyTier: 'Gold', balance: '1250.50', currency: 'USD', balanceSummary: '1,250.50 USD', balanceCurrencies: 1, degradedSources: 'servicenow', isDegraded: true } },
    });
  });

  it('a shared (frozen) view maps to one shared answer, worked out once; the same answer as an unshared one', () => {
    const shared = result();
    Object.freeze(shared.view);
    const first = toCustomActionResponse(shared);
    expect(toCustomActionResponse({ ...shared })).toBe(first); // a phone look-up spreads the result, the view is the same
    expect(Object.isFrozen(first)).toBe(true);
    expect(first).toEqual(toCustomActionResponse(result()));
  });

  it('an unshared view is mapped anew each time (nothing kept for it)', () => {
    const own = result();
    expect(toCustomActionResponse(own)).not.toBe(toCustomActionResponse(own));
  });
});
