import { describe, expect, it } from 'vitest';

import type { SourceState, SourceStatus } from './customer360.schema.js';
import { mergeProfile, type SourceOutcome,verdict } from './merge.js';

const NOW = new Date('2026-10-21T07:28:00.000Z');

function state(status: SourceStatus, extra: Partial<SourceState> = {}): SourceState {
  return { status, ...extra };
}

const sf = (data?: SourceOutcome['data'], status: SourceStatus = 'ok'): SourceOutcome => ({ source: 'salesforce', state: state(status), data });
const sap = (data?: SourceOutcome['data'], status: SourceStatus = 'ok'): SourceOutcome => ({ source: 'sap', state: state(status), data });
const sn = (data?: SourceOutcome['data'], status: SourceStatus = 'ok'): SourceOutcome => ({ source: 'servicenow', state: state(status), data });

describe('mergeProfile', () => {
  it('combines the fields of every source into one view', () => {
    const view = mergeProfile(
      '0010100001',
      [
        sf({ accountName: 'Acme Corp', loyaltyTier: 'Gold', lastInteractionDate: '2026-10-12', email: 'c@acme.example', phone: '+14155550100' }),
        sap({ accountName: 'ACME CORPORATION', balances: [{ amount: '1250.50', currency: 'USD' }] }),
        sn({ openTickets: 3 }),
      ],
      NOW,
    );
    expect(view).toEqual({
      customerId: '0010100001',
      accountName: 'Acme Corp',
      loyaltyTier: 'Gold',
      balance: '1250.50',
      currency: 'USD',
      balances: [{ amount: '1250.50', currency: 'USD' }],
      openTickets: 3,
      lastInteractionDate: '2026-10-12',
      email: 'c@acme.example',
      phone: '+14155550100',
      sourceSystems: ['salesforce', 'sap', 'servicenow'],
      sources: { salesforce: { status: 'ok' }, sap: { status: 'ok' }, servicenow: { status: 'ok' } },
      degraded: false,
      lastUpdated: '2026-10-21T07:28:00.000Z',
    });
  });

  it('the first outcome with a field wins (Salesforce name over SAP name)', () => {
    expect(mergeProfile('1', [sf({ accountName: 'Acme Corp' }), sap({ accountName: 'ACME CORPORATION' })], NOW).accountName).toBe('Acme Corp');
    // precedence is the order given, not the source's name
    expect(mergeProfile('1', [sap({ accountName: 'ACME CORPORATION' }), sf({ accountName: 'Acme Corp' })], NOW).accountName).toBe('ACME CORPORATION');
  });

  it('a later source fills what an earlier one lacks', () => {
    expect(mergeProfile('1', [sf({ loyaltyTier: 'Gold' }), sap({ accountName: 'ACME' })], NOW)).toMatchObject({ loyaltyTier: 'Gold', accountName: 'ACME' });
  });

  it('a falsy value (0 tickets, empty tier) still counts as given', () => {
    const view = mergeProfile('1', [sn({ openTickets: 0 }), { source: 'other', state: state('ok'), data: { openTickets: 5 } }], NOW);
    expect(view.openTickets).toBe(0);
  });

  it('fields nobody gave are null', () => {
    const view = mergeProfile('1', [sn({ openTickets: 1 })], NOW);
    expect(view).toMatchObject({ accountName: null, loyaltyTier: null, balance: null, currency: null, balances: null, email: null, phone: null, lastInteractionDate: null });
  });

  it('copies each source state as given', () => {
    const states: Record<string, SourceState> = {
      salesforce: state('ok', { fetchedAt: '2026-10-21T07:27:59.000Z', latencyMs: 42 }),
      sap: state('stale', { fetchedAt: '2026-10-21T07:00:00.000Z', ageMs: 1_680_000, reason: 'timeout' }),
      servicenow: state('disabled'),
    };
    const view = mergeProfile(
      '1',
      [
        { source: 'salesforce', state: states.salesforce, data: { accountName: 'A' } },
        { source: 'sap', state: states.sap, data: { balances: [{ amount: '1.00', currency: 'EUR' }] } },
        { source: 'servicenow', state: states.servicenow },
      ],
      NOW,
    );
    expect(view.sources).toEqual(states);
  });

  it.each<[string, SourceStatus[], boolean]>([
    ['all ok', ['ok', 'ok', 'ok'], false],
    ['one disabled, rest ok', ['ok', 'disabled', 'ok'], false],
    ['all disabled', ['disabled', 'disabled', 'disabled'], false],
    ['one stale', ['ok', 'stale', 'ok'], true],
    ['one timeout', ['ok', 'ok', 'timeout'], true],
    ['one rate limited', ['rate_limited', 'ok', 'ok'], true],
    ['one unavailable', ['ok', 'unavailable', 'disabled'], true],
    ['one not found (the source says so: an answer)', ['ok', 'not_found', 'ok'], false],
  ])('degraded when any enabled source could not answer now: %s → %s', (_what, statuses, degraded) => {
    const outcomes = statuses.map((s, i): SourceOutcome => ({ source: `s${i}`, state: state(s), data: s === 'ok' || s === 'stale' ? { email: `${i}@x.example` } : undefined }));
    expect(mergeProfile('1', outcomes, NOW).degraded).toBe(degraded);
  });

  it('is degraded when a not_found stands in from the last answer because the source failed now', () => {
    const outcomes: SourceOutcome[] = [sf({ accountName: 'A' }), { source: 'sap', state: state('not_found', { fetchedAt: '2026-10-21T07:00:00.000Z', ageMs: 60_000, reason: 'unavailable' }) }];
    expect(mergeProfile('1', outcomes, NOW).degraded).toBe(true);
  });

  it('lists only sources with data (stale included), in order', () => {
    const view = mergeProfile('1', [sf({ accountName: 'A' }), sap({ balances: [] }, 'stale'), sn(undefined, 'timeout'), { source: 'x', state: state('disabled') }], NOW);
    expect(view.sourceSystems).toEqual(['salesforce', 'sap']);
  });

  it('one currency: balance and currency say it, and balances holds it', () => {
    expect(mergeProfile('1', [sap({ balances: [{ amount: '12.50', currency: 'EUR' }] })], NOW)).toMatchObject({
      balance: '12.50',
      currency: 'EUR',
      balances: [{ amount: '12.50', currency: 'EUR' }],
    });
  });

  it('several currencies: one balance each in balances, no single balance or currency', () => {
    const balances = [
      { amount: '1150.25', currency: 'EUR' },
      { amount: '12000', currency: 'JPY' },
      { amount: '80.01', currency: 'USD' },
    ];
    expect(mergeProfile('1', [sap({ balances })], NOW)).toMatchObject({ balance: null, currency: null, balances });
  });

  it('nothing open: balances is empty, the balance zero without a currency', () => {
    expect(mergeProfile('1', [sap({ balances: [] })], NOW)).toMatchObject({ balance: '0', currency: null, balances: [] });
  });

  it('no data from SAP: no balance of any kind (null, never zero)', () => {
    expect(mergeProfile('1', [sf({ accountName: 'A' }), sap(undefined, 'timeout')], NOW)).toMatchObject({ balance: null, currency: null, balances: null });
  });

  it('does not change the outcomes it is given', () => {
    const outcomes = [sf({ accountName: 'A' }), sap({ balances: [{ amount: '12.50', currency: 'EUR' }] })];
    const copy = structuredClone(outcomes);
    mergeProfile('1', outcomes, NOW);
    expect(outcomes).toEqual(copy);
  });
});

describe('verdict', () => {
  it('found when any source has data, even stale', () => {
    expect(verdict([sf(undefined, 'not_found'), sap({ balances: [{ amount: '1.00', currency: 'EUR' }] }, 'stale'), sn(undefined, 'timeout')])).toBe('found');
  });

  it('not_found when every enabled source said not found (disabled ignored)', () => {
    expect(verdict([sf(undefined, 'not_found'), sap(undefined, 'not_found'), sn(undefined, 'not_found')])).toBe('not_found');
    expect(verdict([sf(undefined, 'not_found'), sap(undefined, 'disabled'), sn(undefined, 'not_found')])).toBe('not_found');
  });

  it('unavailable when a source that could know did not answer', () => {
    expect(verdict([sf(undefined, 'not_found'), sap(undefined, 'timeout'), sn(undefined, 'not_found')])).toBe('unavailable');
    expect(verdict([sf(undefined, 'unavailable')])).toBe('unavailable');
  });

  it('unavailable when no source is enabled or there are none', () => {
    expect(verdict([sf(undefined, 'disabled'), sap(undefined, 'disabled')])).toBe('unavailable');
    expect(verdict([])).toBe('unavailable');
  });
});
