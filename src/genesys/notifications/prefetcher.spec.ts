import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CustomerLookupService, LookupResult } from '../../aggregation/customer-lookup.service.js';
import type { SourceState } from '../../aggregation/customer360.schema.js';
import { toE164, type DirectoryService } from '../../aggregation/directory.service.js';
import { CacheConfig } from '../../cache/cache.config.js';
import type { SourceCache } from '../../cache/source-cache.js';
import { ConnectorError } from '../../connectors/connector.errors.js';
import { Metrics } from '../../observability/metrics.js';
import { backgroundWork } from '../../resilience/background.js';
import { PREFETCHED } from './conversation-mapping.js';
import { NotificationsConfig } from './notifications.config.js';
import { NotificationMetrics } from './notifications.metrics.js';
import { Prefetcher, type PrefetchSettled } from './prefetcher.js';
import type { QueueConversationEvent } from './queue-event.js';

const NOW = Date.UTC(2026, 10, 23, 12);
const QUEUE = 'q1';

function view(states: Record<string, SourceState>): LookupResult {
  return { verdict: 'found', view: { customerId: '0010100001', sources: states } as LookupResult['view'], otherMatches: [] };
}
const fresh = (at = NOW): SourceState => ({ status: 'ok', fetchedAt: new Date(at).toISOString(), cache: 'miss' });

function setup(overrides: Partial<NotificationsConfig> = {}) {
  const config = Object.assign(new NotificationsConfig(), { retryMs: 1000, refreshAheadMs: 10_000, ...overrides });
  const cacheConfig = Object.assign(new CacheConfig(), { freshTtlMs: 30_000 });
  const byPhone = vi.fn(async (_phone: string): Promise<LookupResult | undefined> => view({ salesforce: fresh(), sap: fresh(), servicenow: fresh() }));
  const putLookup = vi.fn(async () => undefined);
  const directory = { normalizePhone: (n: string) => toE164(n, 'US') } as unknown as DirectoryService;
  const metrics = new NotificationMetrics(new Metrics());
  const prefetcher = new Prefetcher(config, cacheConfig, { byPhone } as unknown as CustomerLookupService, directory, { putLookup } as unknown as SourceCache, metrics);
  const settled: PrefetchSettled[] = [];
  const stopped: Array<{ conversationId: string; reason: string }> = [];
  prefetcher.events.on('settled', (s: PrefetchSettled) => settled.push(s));
  prefetcher.events.on('stopped', (s: { conversationId: string; reason: string }) => stopped.push(s));
  return { prefetcher, byPhone, putLookup, settled, stopped, metrics };
}

const queued = (id: string, caller: QueueConversationEvent['caller'] = { number: '+14155550100' }): QueueConversationEvent => ({ conversationId: id, queueId: QUEUE, caller, ended: false });
const ended = (id: string): QueueConversationEvent => ({ conversationId: id, queueId: QUEUE, caller: { number: '+14155550100' }, ended: true });

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(NOW);
  vi.spyOn(Math, 'random').mockReturnValue(0.5); // retries exactly PREFETCH_RETRY_MS apart (the jitter's middle)
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('Prefetcher', () => {
  it('maps the conversation to the caller, then looks the caller up once as background work, however many events the call has', async () => {
    const { prefetcher, byPhone, putLookup, settled } = setup();
    let work: unknown;
    byPhone.mockImplementation(async () => {
      work = backgroundWork();
      return view({ salesforce: fresh(), sap: fresh(), servicenow: { status: 'disabled' } });
    });
    prefetcher.handle(queued('c1', { number: '(415) 555-0100' }));
    prefetcher.handle(queued('c1'));
    await vi.advanceTimersByTimeAsync(0);
    prefetcher.handle(queued('c1'));
    expect(putLookup).toHaveBeenCalledWith('conversation', 'c1', ['+14155550100', PREFETCHED]);
    expect(byPhone).toHaveBeenCalledTimes(1);
    expect(byPhone).toHaveBeenCalledWith('+14155550100');
    expect(work).toEqual({ reserveFraction: 0.3, refreshAheadMs: 10_000 });
    expect(settled).toEqual([{ conversationId: 'c1', kind: 'prefetch', outcome: 'ready', customerId: '0010100001' }]);
  });

  it('a withheld number: the mapping says so, nothing is looked up, nothing followed', async () => {
    const { prefetcher, byPhone, putLookup, settled } = setup();
    prefetcher.handle(queued('c1', 'withheld'));
    prefetcher.handle(queued('c2', { number: 'not a number' }));
    await vi.advanceTimersByTimeAsync(0);
    expect(putLookup).toHaveBeenCalledWith('conversation', 'c1', []);
    expect(putLookup).toHaveBeenCalledWith('conversation', 'c2', []);
    expect(byPhone).not.toHaveBeenCalled();
    expect(settled.map((s) => s.outcome)).toEqual(['withheld', 'withheld']);
    expect(prefetcher.size).toBe(0);
  });

  it('waits for a customer participant before doing anything', async () => {
    const { prefetcher, putLookup } = setup();
    prefetcher.handle({ conversationId: 'c1', queueId: QUEUE, ended: false });
    await vi.advanceTimersByTimeAsync(0);
    expect(putLookup).not.toHaveBeenCalled();
  });

  it('a partial profile (a source without a current answer) and a failed look-up are tried again after PREFETCH_RETRY_MS', async () => {
    const { prefetcher, byPhone, settled } = setup();
    byPhone
      .mockRejectedValueOnce(new ConnectorError('salesforce', 'rate_limited', 'no spare budget for background work'))
      .mockResolvedValueOnce(view({ salesforce: fresh(), sap: { status: 'rate_limited', reason: 'rate_limited' }, servicenow: { status: 'not_found', fetchedAt: new Date(NOW - 5000).toISOString(), reason: 'timeout' } }));
    prefetcher.handle(queued('c1'));
    await vi.advanceTimersByTimeAsync(0);
    expect(settled.map((s) => s.outcome)).toEqual(['deferred']);
    await vi.advanceTimersByTimeAsync(999);
    expect(byPhone).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(300);
    expect(settled.map((s) => s.outcome)).toEqual(['deferred', 'partial']);
    await vi.advanceTimersByTimeAsync(1300);
    expect(settled.map((s) => `${s.kind}:${s.outcome}`)).toEqual(['prefetch:deferred', 'prefetch:partial', 'prefetch:ready']);
  });

  it('refreshes ahead: when the oldest part has PREFETCH_REFRESH_AHEAD_MS of fresh time left, until the call ends', async () => {
    const { prefetcher, byPhone, settled, stopped } = setup();
    byPhone.mockImplementation(async () => view({ salesforce: fresh(Date.now()), sap: fresh(Date.now() - 5000), servicenow: fresh(Date.now()) }));
    prefetcher.handle(queued('c1'));
    await vi.advanceTimersByTimeAsync(0);
    // SAP's part is 5 s old: due when 10 s of its 30 s remain, i.e. in 15 s
    await vi.advanceTimersByTimeAsync(14_700);
    expect(byPhone).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(600);
    expect(byPhone).toHaveBeenCalledTimes(2);
    expect(settled[1]).toMatchObject({ kind: 'refresh', outcome: 'ready' });
    prefetcher.handle(ended('c1'));
    expect(stopped).toEqual([{ conversationId: 'c1', reason: 'ended' }]);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(byPhone).toHaveBeenCalledTimes(2);
    // a late duplicate of an earlier event does not start it again
    prefetcher.handle(queued('c1'));
    await vi.advanceTimersByTimeAsync(0);
    expect(byPhone).toHaveBeenCalledTimes(2);
  });

  it('stops refreshing after PREFETCH_REFRESH_MAX_MS', async () => {
    const { prefetcher, byPhone, stopped } = setup({ refreshMaxMs: 60_000 });
    byPhone.mockImplementation(async () => view({ sap: fresh(Date.now()) }));
    prefetcher.handle(queued('c1'));
    await vi.advanceTimersByTimeAsync(120_000);
    // refreshed every 20 s (30 s fresh, 10 s ahead) while within the minute: at 0, 20, 40, 60 s
    expect(byPhone.mock.calls.length).toBeGreaterThanOrEqual(3);
    expect(byPhone.mock.calls.length).toBeLessThanOrEqual(4);
    expect(stopped).toEqual([{ conversationId: 'c1', reason: 'limit' }]);
  });

  it('without refresh-ahead (0), a ready caller is not followed; beyond PREFETCH_MAX_CONVERSATIONS, callers are pre-fetched but not followed', async () => {
    const { prefetcher, byPhone } = setup({ refreshAheadMs: 0 });
    prefetcher.handle(queued('c1'));
    await vi.advanceTimersByTimeAsync(0);
    expect(prefetcher.size).toBe(0);
    const bounded = setup({ maxConversations: 1 });
    bounded.prefetcher.handle(queued('a'));
    bounded.prefetcher.handle(queued('b'));
    await vi.advanceTimersByTimeAsync(0);
    expect(bounded.byPhone).toHaveBeenCalledTimes(2);
    expect(bounded.prefetcher.size).toBe(1);
    expect(byPhone).toHaveBeenCalledTimes(1);
  });

  it('runs at most PREFETCH_CONCURRENCY look-ups at once', async () => {
    const { prefetcher, byPhone } = setup({ prefetchConcurrency: 2 });
    const release: Array<() => void> = [];
    byPhone.mockImplementation(() => new Promise((r) => release.push(() => r(view({ sap: fresh() })))));
    for (const id of ['a', 'b', 'c', 'd']) prefetcher.handle(queued(id));
    await vi.advanceTimersByTimeAsync(0);
    expect(byPhone).toHaveBeenCalledTimes(2);
    release.shift()?.();
    await vi.advanceTimersByTimeAsync(0);
    expect(byPhone).toHaveBeenCalledTimes(3);
  });
});
