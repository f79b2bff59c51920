import type { CustomerPartial } from '../connectors/connector.js';
import type { Customer360, SourceState } from './customer360.schema.js';

/** What the fan-out learned from one source. */
export interface SourceOutcome {
  source: string;
  state: SourceState;
  /** Data to show (fresh or stale); absent when the source gave none. */
  data?: CustomerPartial;
}

const FIELDS: Array<keyof CustomerPartial> = ['accountName', 'loyaltyTier', 'balances', 'openTickets', 'lastInteractionDate', 'email', 'phone'];

/**
 * Merges per-source outcomes into one view. Outcomes come in registration order, which is also
 * the precedence order when two sources fill the same field (e.g. the name from Salesforce wins
 * over SAP's). Pure: no I/O, no clock.
 */
export function mergeProfile(customerId: string, outcomes: SourceOutcome[], now: Date): Customer360 {
  const view: Customer360 = {
    customerId,
    accountName: null,
    loyaltyTier: null,
    balance: null,
    currency: null,
    balances: null,
    openTickets: null,
    lastInteractionDate: null,
    email: null,
    phone: null,
    sourceSystems: [],
    sources: {},
    degraded: false,
    lastUpdated: now.toISOString(),
  };
  const filled = view as unknown as Record<string, unknown>;
  for (const outcome of outcomes) {
    view.sources[outcome.source] = outcome.state;
    if (isDegraded(outcome.state)) view.degraded = true;
    if (!outcome.data) continue;
    view.sourceSystems.push(outcome.source);
    for (const field of FIELDS) {
      const value = outcome.data[field];
      if (value !== undefined && filled[field] === null) filled[field] = value;
    }
  }
  // the balance as one amount where it is one: the single currency's, or zero when nothing is open
  if (view.balances !== null && view.balances.length <= 1) {
    view.balance = view.balances[0]?.amount ?? '0';
    view.currency = view.balances[0]?.currency ?? null;
  }
  return view;
}

/**
 * A source that could not give a current answer in this request (it failed, timed out or was
 * throttled; a kept copy may stand in). `not_found` from the source itself is an answer, not a
 * degradation.
 */
export function isDegraded(state: SourceState): boolean {
  switch (state.status) {
    case 'ok':
    case 'disabled':
      return false;
    case 'not_found':
      return state.reason !== undefined; // its last answer stands in: the source failed now
    default:
      return true;
  }
}

/**
 * Found somewhere (fresh or stale) → a profile; every enabled source said "not found" → unknown;
 * a source only throttled (our own or its rate limit) → a degraded view, since that is back-pressure
 * and not an outage; else → cannot tell.
 */
export function verdict(outcomes: SourceOutcome[]): 'found' | 'not_found' | 'unavailable' {
  if (outcomes.some((o) => o.data !== undefined)) return 'found';
  const enabled = outcomes.filter((o) => o.state.status !== 'disabled');
  if (enabled.length > 0 && enabled.every((o) => o.state.status === 'not_found')) return 'not_found';
  if (enabled.some((o) => o.state.status === 'rate_limited')) return 'found';
  return 'unavailable';
}
