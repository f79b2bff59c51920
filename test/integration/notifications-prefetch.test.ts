import type { EventEmitter } from 'node:events';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { AggregationService } from '../../src/aggregation/aggregation.service.js';
import { NotificationMetrics } from '../../src/genesys/notifications/notifications.metrics.js';
import { NotificationsService } from '../../src/genesys/notifications/notifications.service.js';
import { Prefetcher, type PrefetchSettled } from '../../src/genesys/notifications/prefetcher.js';
import { SANDBOX_QUEUE, SANDBOX_QUEUES } from '../sandbox/genesys/genesys.data.js';
import { GenesysSimulator } from '../sandbox/genesys/genesys.simulator.js';
import { DEMO, demoCustomer } from '../sandbox/shared/seed.js';
import type { Simulators } from '../sandbox/simulators.js';
import { serviceSuite } from '../support/service-suite.js';
import { startService, type TestService } from '../support/test-app.js';

/**
 * The service follows Genesys queue conversations over the simulator's real WebSocket and
 * pre-fetches each caller before an agent answers (issue 18). One process, in-memory cache: the
 * process holds the subscription by itself (the Redis lease is tested with several services in
 * notifications-prefetch-lease.test.ts).
 */
const suite = serviceSuite();

/** Retries soon: a pre-fetch that finds no spare budget (e.g. a 1 s window's last 250 ms already spoken for) is tried again. */
const NOTIFICATIONS = { GENESYS_NOTIFICATIONS_ENABLED: 'true', GENESYS_NOTIFICATIONS_RECONNECT_BASE_MS: '100', GENESYS_NOTIFICATIONS_RECONNECT_MAX_MS: '400', PREFETCH_RETRY_MS: '100' };
/** A pre-fetch that is done: not waiting for budget or a source. */
const done = (s: PrefetchSettled) => s.outcome !== 'deferred' && s.outcome !== 'partial';
const caller = demoCustomer(DEMO.healthy);

interface Running {
  s: TestService;
  notifications: NotificationsService;
  prefetcher: Prefetcher;
  metrics: NotificationMetrics;
}

async function start(env: Record<string, string> = {}, sims?: Simulators): Promise<Running> {
  const s = sims ? await startService({ sims, env: { ...NOTIFICATIONS, ...env } }) : await suite.service({ ...NOTIFICATIONS, ...env });
  const notifications = s.app.get(NotificationsService);
  await notifications.whenLive();
  return { s, notifications, prefetcher: s.app.get(Prefetcher), metrics: s.app.get(NotificationMetrics) };
}

/** The next `event` on `emitter` whose value passes `accept`. */
function next<T>(emitter: EventEmitter, event: string, accept: (value: T) => boolean = () => true): Promise<T> {
  return new Promise((resolve) => {
    const listener = (value: T) => {
      if (!accept(value)) return;
      emitter.off(event, listener);
      resolve(value);
    };
    emitter.on(event, listener);
  });
}

async function counter(c: { get(): Promise<{ values: Array<{ value: number; labels: Partial<Record<string, string | number>> }> }> }, labels: Record<string, string> = {}): Promise<number> {
  const { values } = await c.get();
  return values.filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l)).reduce((n, v) => n + v.value, 0);
}

function crmCalls(sims: Simulators): number {
  return sims.salesforce.callCount() + sims.sap.callCount() + sims.servicenow.callCount();
}

/** Places a call and waits for the pre-fetch it starts. */
async function placeAndPrefetch(r: Running, genesys: GenesysSimulator, ani: string, queueId: string = SANDBOX_QUEUE.customerCare): Promise<{ id: string; settled: PrefetchSettled }> {
  const id = genesys.placeInboundCall({ ani, queueId });
  // the event travels over the WebSocket: the listener is in place before it can arrive
  const settled = await r.prefetcher.whenSettled(id, done);
  // a look-up answers before its cache writes land: the panel's look-up comes after them
  await r.s.app.get(AggregationService).whenIdle();
  return { id, settled };
}

describe('queue notifications and the pre-fetch', () => {
  it("subscribes every queue's conversation topic, pre-fetches a caller the moment they reach a queue, and the side panel then needs no Genesys call and no CRM call", async () => {
    const r = await start();
    const { genesys } = suite.sims;
    const stats = genesys.notifications.stats();
    expect(stats).toMatchObject({ channels: 1, connected: 1, topicsSubscribed: SANDBOX_QUEUES.length });
    expect(r.notifications.status()).toEqual({ holder: true, channels: 1, connected: 1, topics: SANDBOX_QUEUES.length });
    const { id, settled } = await placeAndPrefetch(r, genesys, `tel:${caller.phone}`);
    expect(settled).toEqual({ conversationId: id, kind: 'prefetch', outcome: 'ready', customerId: caller.customerId });
    const before = crmCalls(suite.sims);
    const res = await r.s.get(`/v1/conversations/${id}/customer`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ customerId: caller.customerId, accountName: caller.name, degraded: false });
    expect(Object.values(res.body.sources as Record<string, { cache: string }>).map((s) => s.cache)).toEqual(['hit', 'hit', 'hit']);
    expect(genesys.callCount('conversation')).toBe(0);
    expect(crmCalls(suite.sims)).toBe(before);
    expect(await counter(r.metrics.panelHits)).toBe(1);
    expect(await counter(r.metrics.prefetches, { kind: 'prefetch', outcome: 'ready' })).toBe(1);
  });

  it('opens one channel per GENESYS_NOTIFICATIONS_TOPICS_PER_CHANNEL topics', async () => {
    const r = await start({ GENESYS_NOTIFICATIONS_TOPICS_PER_CHANNEL: '3' });
    const { genesys } = suite.sims;
    expect(genesys.notifications.stats()).toMatchObject({ channels: 2, connected: 2, topicsSubscribed: 4 });
    expect(r.notifications.status()).toMatchObject({ channels: 2, connected: 2, topics: 4 });
    // a queue on each channel
    for (const queueId of [SANDBOX_QUEUE.customerCare, SANDBOX_QUEUE.vip]) {
      const { settled } = await placeAndPrefetch(r, genesys, `tel:${caller.phone}`, queueId);
      expect(settled.outcome).toBe('ready');
    }
  });

  it('follows only the queues given in GENESYS_NOTIFICATIONS_QUEUES, without listing the queues', async () => {
    const r = await start({ GENESYS_NOTIFICATIONS_QUEUES: SANDBOX_QUEUE.billing });
    const { genesys } = suite.sims;
    expect(genesys.callCount('queues')).toBe(0);
    expect(genesys.notifications.stats()).toMatchObject({ channels: 1, topicsSubscribed: 1 });
    const elsewhere = genesys.placeInboundCall({ ani: `tel:${caller.phone}`, queueId: SANDBOX_QUEUE.customerCare });
    const { settled } = await placeAndPrefetch(r, genesys, `tel:${demoCustomer(DEMO.apostrophe).phone}`, SANDBOX_QUEUE.billing);
    expect(settled.customerId).toBe(DEMO.apostrophe);
    expect(await counter(r.metrics.prefetches)).toBe(1);
    expect((await r.s.get(`/v1/conversations/${elsewhere}/customer`)).status).toBe(200); // the panel still works, through Genesys
    expect(genesys.callCount('conversation')).toBe(1);
  });

  it('a withheld number: the panel learns it from the mapping (404 withheld) without asking Genesys; no CRM is called', async () => {
    const r = await start();
    const { genesys } = suite.sims;
    const before = crmCalls(suite.sims);
    const { id, settled } = await placeAndPrefetch(r, genesys, 'sip:anonymous@anonymous.invalid');
    expect(settled.outcome).toBe('withheld');
    const res = await r.s.get(`/v1/conversations/${id}/customer`);
    expect(res.status).toBe(404);
    expect(res.body.message).toBe("The caller's number is withheld or not a phone number");
    expect(genesys.callCount('conversation')).toBe(0);
    expect(crmCalls(suite.sims)).toBe(before);
  });

  it('an unknown number: looked up once, the panel answers 404 from the cache', async () => {
    const r = await start();
    const { genesys } = suite.sims;
    const { id, settled } = await placeAndPrefetch(r, genesys, 'tel:+14155559999');
    expect(settled.outcome).toBe('unknown_caller');
    const searches = suite.sims.salesforce.callCount('search');
    const res = await r.s.get(`/v1/conversations/${id}/customer`);
    expect(res.status).toBe(404);
    expect(res.body.message).toBe("No customer matches the caller's number");
    expect(suite.sims.salesforce.callCount('search')).toBe(searches);
    expect(genesys.callCount('conversation')).toBe(0);
  });
});

describe('keeping the channel healthy', () => {
  it('a dropped socket is reconnected on the same channel, subscribed again first; a refused subscription is retried with backoff; an event of the gap is lost, counted, and its call caught at its next event', async () => {
    const r = await start();
    const { genesys } = suite.sims;
    const [channelId] = genesys.notifications.channelIds();
    genesys.notifications.refuseNextSubscription(400); // not transient: the policy does not retry it, the channel's backoff does
    const reconnected = next<string>(r.notifications.events, 'connect');
    const gap = next<{ ms: number; missed: number }>(r.notifications.events, 'gap');
    expect(genesys.notifications.dropSocket(channelId)).toBe(true);
    // published while no socket is connected: Genesys drops it, as it does
    const lost = genesys.placeInboundCall({ ani: `tel:${caller.phone}`, queueId: SANDBOX_QUEUE.customerCare });
    expect(genesys.notifications.stats().eventsDropped).toBe(1);
    expect(await reconnected).toBe('reconnect');
    expect((await gap).ms).toBeGreaterThan(0);
    expect(r.s.logs.some((l) => l.includes('notification channel could not be connected; retrying with backoff'))).toBe(true);
    expect(await counter(r.metrics.disconnectedSeconds)).toBeGreaterThan(0);
    expect(await counter(r.metrics.connects, { reason: 'reconnect' })).toBe(1);
    // the same channel, subscribed again (the refused call changed nothing), a second socket
    expect(genesys.notifications.stats()).toMatchObject({ channelsCreated: 1, subscriptionRequests: 2, connectionsAccepted: 2, connected: 1 });
    // the lost call is pre-fetched at its next event (the agent's phone rings)
    const settled = r.prefetcher.whenSettled(lost, done);
    genesys.answerInboundCall(lost);
    expect((await settled).outcome).toBe('ready');
  });

  it('v2.system.socket_closing: a new channel is opened and the old socket closed once the new one is live', async () => {
    const r = await start();
    const { genesys } = suite.sims;
    const [old] = genesys.notifications.channelIds();
    const rotated = next<string>(r.notifications.events, 'connect');
    expect(genesys.notifications.sendSocketClosing(old, 60_000)).toBe(true);
    expect(await rotated).toBe('socket_closing');
    const channels = genesys.notifications.channelIds();
    expect(channels).toHaveLength(2);
    // our side closed the old socket once the new one was live; the simulator sees it go a moment later
    await vi.waitFor(() => expect(genesys.notifications.isConnected(old)).toBe(false));
    expect(genesys.notifications.isConnected(channels[1])).toBe(true);
    expect((await placeAndPrefetch(r, genesys, `tel:${caller.phone}`)).settled.outcome).toBe('ready');
  });

  it('a channel Genesys ended (expired) is replaced by a new one', async () => {
    const r = await start();
    const { genesys } = suite.sims;
    const [old] = genesys.notifications.channelIds();
    const back = next<string>(r.notifications.events, 'connect');
    expect(genesys.notifications.expireChannel(old)).toBe(true);
    expect(await back).toBe('reconnect');
    expect(genesys.notifications.channelIds()).toHaveLength(1);
    expect(genesys.notifications.channelIds()[0]).not.toBe(old);
    expect((await placeAndPrefetch(r, genesys, `tel:${caller.phone}`)).settled.outcome).toBe('ready');
  });
});

describe('with short channel lifetimes and fast heartbeats', () => {
  let genesys: GenesysSimulator;
  const started: TestService[] = [];
  beforeAll(async () => {
    genesys = new GenesysSimulator({ port: 0, notifications: { channelLifetimeMs: 4000, heartbeatIntervalMs: 100 } });
    await genesys.start();
  });
  afterEach(async () => {
    await Promise.all(started.splice(0).map((s) => s.close()));
  });
  afterAll(async () => {
    await genesys.stop();
  });
  const own = async (env: Record<string, string>) => {
    genesys.reset();
    const r = await start(env, { ...suite.sims, genesys });
    started.push(r.s);
    return r;
  };

  it('opens a new channel before the current one ends (GENESYS_NOTIFICATIONS_CHANNEL_RENEW_BEFORE_MS), closing the old socket only then: no gap', async () => {
    const r = await own({ GENESYS_NOTIFICATIONS_CHANNEL_RENEW_BEFORE_MS: '3000' });
    const [old] = genesys.notifications.channelIds();
    expect(await next<string>(r.notifications.events, 'connect')).toBe('renew');
    await vi.waitFor(() => expect(genesys.notifications.isConnected(old)).toBe(false));
    expect(genesys.notifications.stats()).toMatchObject({ channelsCreated: 2, connected: 1, channelsExpired: 0 });
    expect(await counter(r.metrics.disconnectedSeconds)).toBe(0);
  });

  it('counts heartbeats; when they stop, our ping is answered by a pong and the channel stays', async () => {
    const r = await own({ GENESYS_NOTIFICATIONS_CHANNEL_RENEW_BEFORE_MS: '1000', GENESYS_NOTIFICATIONS_PING_AFTER_MS: '300', GENESYS_NOTIFICATIONS_PONG_TIMEOUT_MS: '2000' });
    await next<string>(r.notifications.events, 'message', (k) => k === 'heartbeat');
    genesys.notifications.stopHeartbeats();
    await next<string>(r.notifications.events, 'message', (k) => k === 'pong');
    expect(genesys.notifications.stats()).toMatchObject({ pongs: 1, connectionsAccepted: 1 });
    expect(await counter(r.metrics.events, { kind: 'heartbeat' })).toBeGreaterThan(0);
  });
});

describe('pre-fetch priority and refresh-ahead', () => {
  it('takes no budget live look-ups need: with nothing spare it calls no CRM and tries again; the live look-up gets the budget, and the retry is served by what it cached', async () => {
    // Salesforce allows 1 call a second: the reserve (at least one call) leaves nothing spare; the live
    // look-up's second Salesforce call waits for the next second (its deadline allows it here)
    const r = await start({ SALESFORCE_RATE_LIMIT_PER_SEC: '1', PREFETCH_RETRY_MS: '200', RATE_LIMIT_MAX_WAIT_MS: '1500', AGGREGATION_DEADLINE_MS: '2500' });
    const { genesys, salesforce } = suite.sims;
    const id = genesys.placeInboundCall({ ani: `tel:${caller.phone}`, queueId: SANDBOX_QUEUE.customerCare });
    const first = await r.prefetcher.whenSettled(id);
    expect(first.outcome).toBe('deferred');
    expect(salesforce.callCount('search')).toBe(0);
    const ready = r.prefetcher.whenSettled(id, (s) => s.outcome === 'ready');
    // the live look-up (the data action) gets Salesforce
    const live = await r.s.post('/genesys/v1/customer-lookup', { phone: caller.phone });
    expect(live.status).toBe(200);
    expect(live.body).toMatchObject({ status: 'ok', data: { customerView: { customerId: caller.customerId } } });
    // a retry finds what the live look-up cached: ready, and the pre-fetch never called Salesforce
    expect((await ready).customerId).toBe(caller.customerId);
    expect(salesforce.callCount('search')).toBe(1);
    expect(salesforce.requests().filter((q) => q.route !== 'token')).toHaveLength(2); // the live look-up's two calls
  });

  it('refreshes the caller before the parts go stale while the call lasts, and stops when it ends', async () => {
    const r = await start({ CACHE_FRESH_TTL_MS: '1500', PREFETCH_REFRESH_AHEAD_MS: '700' });
    const { genesys, sap } = suite.sims;
    const { id, settled } = await placeAndPrefetch(r, genesys, `tel:${caller.phone}`);
    expect(settled.outcome).toBe('ready');
    const sapCalls = sap.callCount();
    const refreshed = await r.prefetcher.whenSettled(id, (s) => s.kind === 'refresh');
    expect(refreshed.outcome).toBe('ready');
    expect(sap.callCount()).toBeGreaterThan(sapCalls);
    // the panel opened now finds every part fresh
    genesys.answerInboundCall(id);
    const res = await r.s.get(`/v1/conversations/${id}/customer`);
    expect(Object.values(res.body.sources as Record<string, { cache: string }>).map((s) => s.cache)).toEqual(['hit', 'hit', 'hit']);
    const stopped = next<{ conversationId: string; reason: string }>(r.prefetcher.events, 'stopped', (s) => s.conversationId === id);
    genesys.disconnectInboundCall(id, 'agent');
    expect((await stopped).reason).toBe('ended');
    expect(r.prefetcher.size).toBe(0);
    expect(await counter(r.metrics.tracked)).toBe(0);
  });

  it('refresh-ahead is bounded by PREFETCH_REFRESH_MAX_COUNT', async () => {
    const r = await start({ CACHE_FRESH_TTL_MS: '1000', PREFETCH_REFRESH_AHEAD_MS: '500', PREFETCH_REFRESH_MAX_COUNT: '2' });
    const { id } = await placeAndPrefetch(r, suite.sims.genesys, `tel:${caller.phone}`);
    const stopped = await next<{ conversationId: string; reason: string }>(r.prefetcher.events, 'stopped', (s) => s.conversationId === id);
    expect(stopped.reason).toBe('limit');
    expect(await counter(r.metrics.prefetches, { kind: 'refresh' })).toBe(2);
  });
});
