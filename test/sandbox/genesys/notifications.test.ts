/**
 * The Genesys simulator's Notifications API over real HTTP and a real WebSocket: channels,
 * subscriptions and their limits, heartbeats and pong, queue conversation events as inbound calls
 * are placed, answered and hung up, `v2.system.socket_closing`, expiry, and the `/__sim` controls.
 * Every body is checked against the Platform SDK's models, and the SDK's own NotificationsApi and
 * RoutingApi run against the simulator. Timers are Vitest's fake ones; everything else is an event.
 */
import platformClient from 'purecloud-platform-client-v2';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';

import { SANDBOX_CREDENTIALS } from '../shared/credentials.js';
import { SANDBOX_QUEUE, SANDBOX_QUEUES, type SandboxQueue } from './genesys.data.js';
import { GenesysSimulator } from './genesys.simulator.js';
import { modelViolations } from './genesys-models.js';

const CREDS = SANDBOX_CREDENTIALS.genesys;
const DAY_MS = 24 * 60 * 60_000;
const CALLER = 'tel:+14155550100';
const conversationsTopic = (queueId: string) => `v2.routing.queues.${queueId}.conversations`;
const callsTopic = (queueId: string) => `v2.routing.queues.${queueId}.conversations.calls`;

type Json = Record<string, unknown>;

const sim = new GenesysSimulator();

beforeAll(async () => {
  await sim.start();
});
afterAll(async () => {
  await sim.stop();
});
beforeEach(() => {
  sim.reset();
});
afterEach(() => {
  vi.useRealTimers();
});

/** Only the timers: sockets, HTTP and the clock stay real. */
function fakeTimers(): void {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
}

async function clientToken(target: GenesysSimulator = sim): Promise<string> {
  const res = await fetch(`${target.url}/oauth/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${CREDS.clientId}:${CREDS.clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

function api(token: string | null, method: string, path: string, body?: unknown, target: GenesysSimulator = sim): Promise<Response> {
  return fetch(`${target.url}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function json(res: Response, status: number): Promise<Json> {
  expect(res.status, await res.clone().text()).toBe(status);
  return (await res.json()) as Json;
}

async function createChannel(token: string, target: GenesysSimulator = sim): Promise<{ id: string; connectUri: string; expires: string }> {
  const body = await json(await api(token, 'POST', '/api/v2/notifications/channels', undefined, target), 200);
  expect(modelViolations('Channel', body)).toEqual([]);
  return body as { id: string; connectUri: string; expires: string };
}

async function subscribe(token: string, channelId: string, topics: string[], method: 'PUT' | 'POST' = 'PUT', query = ''): Promise<Response> {
  return api(token, method, `/api/v2/notifications/channels/${channelId}/subscriptions${query}`, topics.map((id) => ({ id })));
}

/** A WebSocket client that keeps every message, and hands them out in order as they arrive. */
class Listener {
  private readonly received: Json[] = [];
  private readonly waiting: Array<(message: Json) => void> = [];
  readonly closed: Promise<{ code: number }>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const message = JSON.parse(data.toString()) as Json;
      const next = this.waiting.shift();
      if (next) next(message);
      else this.received.push(message);
    });
    this.closed = new Promise((resolve) => ws.once('close', (code) => resolve({ code })));
  }

  static async connect(connectUri: string): Promise<Listener> {
    const ws = new WebSocket(connectUri);
    const listener = new Listener(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return listener;
  }

  /** The next message (already received, or the next to arrive). */
  next(): Promise<Json> {
    const queued = this.received.shift();
    return queued ? Promise.resolve(queued) : new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Messages received and not yet taken. */
  get pending(): number {
    return this.received.length;
  }

  send(value: unknown): void {
    this.ws.send(JSON.stringify(value));
  }

  close(): Promise<{ code: number }> {
    this.ws.close();
    return this.closed;
  }
}

/** A channel subscribed to topics, with a connected listener. */
async function listening(token: string, topics: string[]): Promise<{ channelId: string; connectUri: string; listener: Listener }> {
  const channel = await createChannel(token);
  await json(await subscribe(token, channel.id, topics), 200);
  return { channelId: channel.id, connectUri: channel.connectUri, listener: await Listener.connect(channel.connectUri) };
}

function participant(body: Json, purpose: string): Json {
  const found = (body.participants as Json[]).find((p) => p.purpose === purpose);
  if (!found) throw new Error(`no ${purpose} participant in ${JSON.stringify(body)}`);
  return found;
}

const firstCall = (p: Json) => (p.calls as Json[])[0];

describe('channels: POST/GET /api/v2/notifications/channels, HEAD /api/v2/notifications/channels/{id}', () => {
  it('creates a channel {id, connectUri, expires}: a ws:// URI on the simulator port, living 24 hours', async () => {
    const token = await clientToken();
    const before = Date.now();
    const channel = await createChannel(token);
    expect(Object.keys(channel).sort()).toEqual(['connectUri', 'expires', 'id']);
    expect(channel.id).toMatch(/^streaming-\d-[a-z0-9]{26}$/);
    expect(channel.connectUri).toBe(`ws://127.0.0.1:${sim.port}/channels/${channel.id}`);
    const expires = Date.parse(channel.expires);
    expect(expires).toBeGreaterThanOrEqual(before + DAY_MS);
    expect(expires).toBeLessThanOrEqual(Date.now() + DAY_MS);
    expect((await api(token, 'HEAD', `/api/v2/notifications/channels/${channel.id}`)).status).toBe(200);
    expect(sim.notifications.stats()).toMatchObject({ channelsCreated: 1, channels: 1, connected: 0 });
  });

  it("lists the token's channels; includechannels=oauthclient also shows the client's other tokens' channels, without their ids", async () => {
    const first = await clientToken();
    const second = await clientToken();
    const mine = await createChannel(first);
    const theirs = await createChannel(second);
    const listing = await json(await api(first, 'GET', '/api/v2/notifications/channels'), 200);
    expect(modelViolations('ChannelEntityListing', listing)).toEqual([]);
    expect(listing).toEqual({ entities: [mine] });
    const all = await json(await api(first, 'GET', '/api/v2/notifications/channels?includechannels=oauthclient'), 200);
    expect(modelViolations('ChannelEntityListing', all)).toEqual([]);
    expect(all).toEqual({ entities: [mine, { expires: theirs.expires }] });
    const wrong = await json(await api(first, 'GET', '/api/v2/notifications/channels?includechannels=everyone'), 400);
    expect(modelViolations('ErrorBody', wrong)).toEqual([]);
    expect(wrong).toMatchObject({ status: 400, code: 'bad.request' });
  });

  it("another user's channel is not found; every route needs a live token", async () => {
    const token = await clientToken();
    const channel = await createChannel(token);
    const agent = sim.issueAgentToken();
    expect((await api(agent, 'HEAD', `/api/v2/notifications/channels/${channel.id}`)).status).toBe(404);
    expect(await json(await api(agent, 'GET', `/api/v2/notifications/channels/${channel.id}/subscriptions`), 404)).toMatchObject({ code: 'not.found' });
    expect(await json(await subscribe(agent, channel.id, [conversationsTopic(SANDBOX_QUEUE.billing)]), 404)).toMatchObject({ code: 'not.found' });
    expect((await api(agent, 'DELETE', `/api/v2/notifications/channels/${channel.id}/subscriptions`)).status).toBe(404);
    for (const [method, path] of [
      ['POST', '/api/v2/notifications/channels'],
      ['GET', '/api/v2/notifications/channels'],
      ['GET', `/api/v2/notifications/channels/${channel.id}/subscriptions`],
      ['PUT', `/api/v2/notifications/channels/${channel.id}/subscriptions`],
      ['GET', '/api/v2/routing/queues'],
    ]) {
      const res = await api(null, method, path, method === 'PUT' ? [] : undefined);
      expect(await json(res, 401)).toMatchObject({ status: 401, code: 'authentication.required' });
    }
  });

  it('keeps at most 20 channels per client: a 21st replaces the idle channel used longest ago, a connected one is kept', async () => {
    const token = await clientToken();
    // the first channel is connected before the others are created: it was used longest ago
    const channels = [await createChannel(token)];
    const connected = await Listener.connect(channels[0].connectUri);
    for (let i = 1; i < 20; i++) channels.push(await createChannel(token));
    const newest = await createChannel(token);
    const ids = sim.notifications.channelIds();
    expect(ids).toHaveLength(20);
    expect(ids).toContain(channels[0].id); // the oldest, but connected
    expect(ids).not.toContain(channels[1].id); // the oldest idle one went
    expect(ids).toContain(newest.id);
    expect((await api(token, 'HEAD', `/api/v2/notifications/channels/${channels[1].id}`)).status).toBe(404);
    expect(sim.notifications.stats()).toMatchObject({ channelsCreated: 21, channelsReplaced: 1, channels: 20 });
    expect(sim.notifications.isConnected(channels[0].id)).toBe(true);
    await connected.close();
  });

  it('when all 20 are connected, the one used longest ago is replaced and its WebSocket closed', async () => {
    const token = await clientToken();
    const listeners = [];
    for (let i = 0; i < 20; i++) listeners.push({ channel: await createChannel(token), listener: undefined as Listener | undefined });
    for (const l of listeners) l.listener = await Listener.connect(l.channel.connectUri);
    await createChannel(token);
    await expect(listeners[0].listener!.closed).resolves.toEqual({ code: 1000 });
    expect(sim.notifications.channelIds()).not.toContain(listeners[0].channel.id);
    expect(sim.notifications.stats()).toMatchObject({ channels: 20, connected: 19, channelsReplaced: 1 });
    await Promise.all(listeners.slice(1).map((l) => l.listener!.close()));
  });

  it("other clients' channels do not count toward a client's 20", async () => {
    const token = await clientToken();
    const agent = sim.issueAgentToken();
    for (let i = 0; i < 20; i++) await createChannel(token);
    await createChannel(agent);
    expect(sim.notifications.stats()).toMatchObject({ channels: 21, channelsReplaced: 0 });
  });
});

describe('subscriptions: PUT/POST/GET/DELETE /api/v2/notifications/channels/{id}/subscriptions', () => {
  it('PUT replaces, POST adds, GET lists, DELETE removes them all: ChannelTopicEntityListing', async () => {
    const token = await clientToken();
    const { id } = await createChannel(token);
    const put = await json(await subscribe(token, id, [conversationsTopic(SANDBOX_QUEUE.customerCare), callsTopic(SANDBOX_QUEUE.customerCare)]), 200);
    expect(modelViolations('ChannelTopicEntityListing', put)).toEqual([]);
    expect(put).toEqual({
      entities: [
        { id: conversationsTopic(SANDBOX_QUEUE.customerCare), state: 'Permitted' },
        { id: callsTopic(SANDBOX_QUEUE.customerCare), state: 'Permitted' },
      ],
    });
    const post = await json(await subscribe(token, id, [conversationsTopic(SANDBOX_QUEUE.billing)], 'POST'), 200);
    expect(post).toEqual({ entities: [{ id: conversationsTopic(SANDBOX_QUEUE.billing), state: 'Permitted' }] });
    const listed = await json(await api(token, 'GET', `/api/v2/notifications/channels/${id}/subscriptions`), 200);
    expect(modelViolations('ChannelTopicEntityListing', listed)).toEqual([]);
    expect(listed).toEqual({ entities: [conversationsTopic(SANDBOX_QUEUE.customerCare), callsTopic(SANDBOX_QUEUE.customerCare), conversationsTopic(SANDBOX_QUEUE.billing)].map((t) => ({ id: t })) });
    await json(await subscribe(token, id, [conversationsTopic(SANDBOX_QUEUE.vip)]), 200);
    expect(await json(await api(token, 'GET', `/api/v2/notifications/channels/${id}/subscriptions`), 200)).toEqual({ entities: [{ id: conversationsTopic(SANDBOX_QUEUE.vip) }] });
    const deleted = await api(token, 'DELETE', `/api/v2/notifications/channels/${id}/subscriptions`);
    expect(deleted.status).toBe(204);
    expect(await json(await api(token, 'GET', `/api/v2/notifications/channels/${id}/subscriptions`), 200)).toEqual({ entities: [] });
    expect(sim.notifications.stats()).toMatchObject({ subscriptionRequests: 4, topicsSubscribed: 0 });
  });

  it('a queue the org does not have: 403 notification.unauthorized.topic, nothing subscribed; with ignoreErrors=true the rest is', async () => {
    const token = await clientToken();
    const { id } = await createChannel(token);
    const unknownQueue = conversationsTopic('00000000-0000-4000-8000-000000000000');
    const refused = await json(await subscribe(token, id, [conversationsTopic(SANDBOX_QUEUE.billing), unknownQueue]), 403);
    expect(modelViolations('ErrorBody', refused)).toEqual([]);
    expect(refused).toMatchObject({ status: 403, code: 'notification.unauthorized.topic', message: `The user does not have permissions required for topic ${unknownQueue}` });
    expect(await json(await api(token, 'GET', `/api/v2/notifications/channels/${id}/subscriptions`), 200)).toEqual({ entities: [] });
    const partial = await json(await subscribe(token, id, [conversationsTopic(SANDBOX_QUEUE.billing), unknownQueue], 'PUT', '?ignoreErrors=true'), 200);
    expect(modelViolations('ChannelTopicEntityListing', partial)).toEqual([]);
    expect(partial).toEqual({
      entities: [
        { id: conversationsTopic(SANDBOX_QUEUE.billing), state: 'Permitted' },
        { id: unknownQueue, state: 'Rejected', rejectionReason: `The user does not have permissions required for topic ${unknownQueue}` },
      ],
    });
    expect(await json(await api(token, 'GET', `/api/v2/notifications/channels/${id}/subscriptions`), 200)).toEqual({ entities: [{ id: conversationsTopic(SANDBOX_QUEUE.billing) }] });
  });

  it('refuses what is not a topic, or not a list of topics, with 400; an unknown channel with 404', async () => {
    const token = await clientToken();
    const { id } = await createChannel(token);
    const path = `/api/v2/notifications/channels/${id}/subscriptions`;
    for (const body of ['not json', '{"id":"x"}', '[{"topic":"x"}]', '[{"id":""}]']) {
      expect(await json(await api(token, 'PUT', path, body), 400)).toMatchObject({ status: 400, code: 'bad.request' });
    }
    expect(await json(await subscribe(token, id, ['v2.users.me.presence']), 400)).toMatchObject({ code: 'bad.request', message: 'The topic v2.users.me.presence is not a valid notification topic.' });
    expect(await json(await subscribe(token, id, [conversationsTopic(SANDBOX_QUEUE.vip)], 'PUT', '?ignoreErrors=maybe'), 400)).toMatchObject({ code: 'bad.request' });
    expect(await json(await subscribe(token, 'streaming-0-abcdefghijklmnopqrstuvwxyz', [conversationsTopic(SANDBOX_QUEUE.vip)]), 404)).toMatchObject({ code: 'not.found' });
    expect(sim.notifications.stats().subscriptionRequests).toBe(0);
  });

  it('a combined topic (prefix?a&b) subscribes each of its topics and counts once', async () => {
    const token = await clientToken();
    const { id, connectUri } = await createChannel(token);
    const combined = `v2.routing.queues.${SANDBOX_QUEUE.vip}.conversations?calls&emails`;
    // emails is not a topic the sandbox publishes
    expect(await json(await subscribe(token, id, [combined]), 400)).toMatchObject({ message: `The topic v2.routing.queues.${SANDBOX_QUEUE.vip}.conversations.emails is not a valid notification topic.` });
    const ok = `v2.routing.queues.${SANDBOX_QUEUE.vip}?conversations`;
    expect(await json(await subscribe(token, id, [ok]), 200)).toEqual({ entities: [{ id: ok, state: 'Permitted' }] });
    const listener = await Listener.connect(connectUri);
    sim.placeInboundCall({ ani: CALLER, queueId: SANDBOX_QUEUE.vip });
    expect((await listener.next()).topicName).toBe(conversationsTopic(SANDBOX_QUEUE.vip));
    await listener.close();
  });

  it('at most 1,000 topics per channel: 400 beyond, whether by PUT or by POST', async () => {
    const queues: SandboxQueue[] = Array.from({ length: 501 }, (_, i) => ({ ...SANDBOX_QUEUES[0], id: `9b1f0000-0000-4000-8000-${String(i).padStart(12, '0')}`, name: `Queue ${i}` }));
    const big = await new GenesysSimulator({ queues }).start();
    try {
      const token = await clientToken(big);
      const { id } = await createChannel(token, big);
      const topics = queues.flatMap((q) => [conversationsTopic(q.id), callsTopic(q.id)]); // 1,002
      const path = `/api/v2/notifications/channels/${id}/subscriptions`;
      const over = await json(await api(token, 'PUT', path, topics.map((t) => ({ id: t })), big), 400);
      expect(modelViolations('ErrorBody', over)).toEqual([]);
      expect(over).toMatchObject({ status: 400, code: 'bad.request' });
      expect(await json(await api(token, 'PUT', path, topics.slice(0, 1000).map((t) => ({ id: t })), big), 200)).toMatchObject({ entities: expect.any(Array) });
      expect(await json(await api(token, 'POST', path, [{ id: topics[1000] }], big), 400)).toMatchObject({ code: 'bad.request' });
      // the same topic again changes nothing, so it fits
      await json(await api(token, 'POST', path, [{ id: topics[0] }], big), 200);
      expect(big.notifications.stats().topicsSubscribed).toBe(1000);
    } finally {
      await big.stop();
    }
  });

  it('refuseNextSubscription: the next PUT or POST fails once in the Genesys format, then subscribing works again', async () => {
    const token = await clientToken();
    const { id } = await createChannel(token);
    sim.notifications.refuseNextSubscription();
    expect(await json(await subscribe(token, id, [conversationsTopic(SANDBOX_QUEUE.vip)]), 503)).toMatchObject({ status: 503, code: 'service.unavailable' });
    await json(await subscribe(token, id, [conversationsTopic(SANDBOX_QUEUE.vip)]), 200);
    expect(() => sim.notifications.refuseNextSubscription(200)).toThrow(/400–599/);
  });
});

describe('GET /api/v2/routing/queues', () => {
  it('lists the seeded queues as a QueueEntityListing sorted by name, paged', async () => {
    const token = await clientToken();
    const all = await json(await api(token, 'GET', '/api/v2/routing/queues'), 200);
    expect(modelViolations('QueueEntityListing', all)).toEqual([]);
    expect((all.entities as Json[]).map((q) => q.name)).toEqual(['Billing', 'Customer Care', 'Technical Support', 'VIP Line']);
    expect(all).toMatchObject({ pageSize: 25, pageNumber: 1, total: 4, pageCount: 1 });
    expect(all.nextUri).toBeUndefined();
    const page2 = await json(await api(token, 'GET', '/api/v2/routing/queues?pageSize=3&pageNumber=2'), 200);
    expect(modelViolations('QueueEntityListing', page2)).toEqual([]);
    expect(page2).toMatchObject({ pageSize: 3, pageNumber: 2, total: 4, pageCount: 2, previousUri: '/api/v2/routing/queues?pageSize=3&pageNumber=1', lastUri: '/api/v2/routing/queues?pageSize=3&pageNumber=2' });
    expect((page2.entities as Json[]).map((q) => q.name)).toEqual(['VIP Line']);
    expect((await json(await api(token, 'GET', '/api/v2/routing/queues?pageSize=3'), 200)).nextUri).toBe('/api/v2/routing/queues?pageSize=3&pageNumber=2');
  });

  it('filters by name (with * at either end), by id, and sorts descending', async () => {
    const token = await clientToken();
    const names = async (query: string) => ((await json(await api(token, 'GET', `/api/v2/routing/queues?${query}`), 200)).entities as Json[]).map((q) => q.name);
    expect(await names('name=billing')).toEqual(['Billing']);
    expect(await names('name=*Care')).toEqual(['Customer Care']);
    expect(await names('name=T*')).toEqual(['Technical Support']);
    expect(await names('name=Care')).toEqual([]);
    expect(await names(`id=${SANDBOX_QUEUE.vip}&id=${SANDBOX_QUEUE.billing}`)).toEqual(['Billing', 'VIP Line']);
    expect(await names('sortOrder=desc')).toEqual(['VIP Line', 'Technical Support', 'Customer Care', 'Billing']);
  });

  it('refuses a bad page or sort order with 400', async () => {
    const token = await clientToken();
    for (const query of ['pageSize=0', 'pageSize=501', 'pageSize=ten', 'pageNumber=0', 'sortOrder=sideways']) {
      expect(await json(await api(token, 'GET', `/api/v2/routing/queues?${query}`), 400), query).toMatchObject({ status: 400, code: 'bad.request' });
    }
  });
});

describe('the WebSocket at connectUri', () => {
  it('sends a heartbeat every 30 s on channel.metadata, and none while heartbeats are stopped', async () => {
    const token = await clientToken();
    const { id, connectUri } = await createChannel(token);
    fakeTimers();
    const listener = await Listener.connect(connectUri);
    vi.advanceTimersByTime(29_999);
    expect(sim.notifications.stats().heartbeats).toBe(0);
    vi.advanceTimersByTime(1);
    expect(await listener.next()).toEqual({ topicName: 'channel.metadata', eventBody: { message: 'WebSocket Heartbeat' } });
    vi.advanceTimersByTime(30_000);
    expect(await listener.next()).toEqual({ topicName: 'channel.metadata', eventBody: { message: 'WebSocket Heartbeat' } });
    sim.notifications.stopHeartbeats();
    vi.advanceTimersByTime(90_000);
    expect(sim.notifications.stats().heartbeats).toBe(2);
    sim.notifications.resumeHeartbeats();
    vi.advanceTimersByTime(30_000);
    expect(await listener.next()).toEqual({ topicName: 'channel.metadata', eventBody: { message: 'WebSocket Heartbeat' } });
    expect(sim.notifications.isConnected(id)).toBe(true);
    await listener.close();
  });

  it('honours a configured heartbeat interval', async () => {
    const quick = await new GenesysSimulator({ notifications: { heartbeatIntervalMs: 1_000 } }).start();
    try {
      const channel = await createChannel(await clientToken(quick), quick);
      fakeTimers();
      const listener = await Listener.connect(channel.connectUri);
      vi.advanceTimersByTime(1_000);
      expect(await listener.next()).toEqual({ topicName: 'channel.metadata', eventBody: { message: 'WebSocket Heartbeat' } });
      await listener.close();
    } finally {
      await quick.stop();
    }
  });

  it('answers {"message":"ping"} with a pong on channel.metadata, and ignores anything else', async () => {
    const token = await clientToken();
    const { connectUri } = await createChannel(token);
    const listener = await Listener.connect(connectUri);
    listener.send({ message: 'hello' });
    listener.ws.send('not json');
    listener.send({ message: 'ping' });
    expect(await listener.next()).toEqual({ topicName: 'channel.metadata', eventBody: { message: 'pong' } });
    expect(listener.pending).toBe(0);
    expect(sim.notifications.stats()).toMatchObject({ pongs: 1, messagesSent: 1 });
    await listener.close();
  });

  it('refuses a WebSocket for a channel that does not exist with 404', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${sim.port}/channels/streaming-0-abcdefghijklmnopqrstuvwxyz`);
    const outcome = await new Promise<string>((resolve) => {
      ws.once('error', (err) => resolve(err.message));
      ws.once('open', () => resolve('open'));
    });
    expect(outcome).toBe('Unexpected server response: 404');
    expect(sim.notifications.stats().connectionsAccepted).toBe(0);
  });

  it('one WebSocket per channel: a second connection disconnects the first and receives the events', async () => {
    const token = await clientToken();
    const { channelId, connectUri, listener: first } = await listening(token, [conversationsTopic(SANDBOX_QUEUE.billing)]);
    const second = await Listener.connect(connectUri);
    await expect(first.closed).resolves.toEqual({ code: 1000 });
    const conversationId = sim.placeInboundCall({ ani: CALLER, queueId: SANDBOX_QUEUE.billing });
    expect(((await second.next()).eventBody as Json).id).toBe(conversationId);
    expect(first.pending).toBe(0);
    expect(sim.notifications.stats()).toMatchObject({ connectionsAccepted: 2, connected: 1 });
    expect(sim.notifications.isConnected(channelId)).toBe(true);
    await second.close();
  });
});

describe('queue conversation events as a call is placed, answered and hung up', () => {
  it('placing a call publishes {topicName, version, eventBody, metadata} with the caller, the IVR and the ACD leg (QueueConversationEventTopicConversation)', async () => {
    const token = await clientToken();
    const { listener } = await listening(token, [conversationsTopic(SANDBOX_QUEUE.customerCare)]);
    const conversationId = sim.placeInboundCall({ ani: CALLER, queueId: SANDBOX_QUEUE.customerCare });
    const message = await listener.next();
    expect(Object.keys(message)).toEqual(['topicName', 'version', 'eventBody', 'metadata']);
    expect(message).toMatchObject({ topicName: conversationsTopic(SANDBOX_QUEUE.customerCare), version: '2', metadata: { CorrelationId: expect.stringMatching(/^[0-9a-f-]{36}$/) } });
    const body = message.eventBody as Json;
    expect(modelViolations('QueueConversationEventTopicConversation', body)).toEqual([]);
    expect(body.id).toBe(conversationId);
    expect((body.participants as Json[]).map((p) => p.purpose)).toEqual(['customer', 'ivr', 'acd']);
    const customer = participant(body, 'customer');
    // this model has no `ani`: the caller is the customer's address and its call's self
    expect(customer.address).toBe(CALLER);
    expect(firstCall(customer)).toMatchObject({ state: 'connected', direction: 'inbound', self: { addressNormalized: CALLER, addressRaw: '+14155550100' } });
    expect(participant(body, 'acd')).toMatchObject({ queueId: SANDBOX_QUEUE.customerCare, name: 'Customer Care' });
    expect(firstCall(participant(body, 'acd')).state).toBe('connected');
    expect(firstCall(participant(body, 'ivr'))).toMatchObject({ state: 'disconnected', disconnectType: 'transfer' });
    await listener.close();
  });

  it('the .conversations.calls topic carries the caller as ani on the customer participant (QueueConversationCallEventTopicCallConversation)', async () => {
    const token = await clientToken();
    const { listener } = await listening(token, [callsTopic(SANDBOX_QUEUE.vip)]);
    const conversationId = sim.placeInboundCall({ ani: CALLER, queueId: SANDBOX_QUEUE.vip, dnis: 'tel:+18005550111' });
    const message = await listener.next();
    expect(message.topicName).toBe(callsTopic(SANDBOX_QUEUE.vip));
    const body = message.eventBody as Json;
    expect(modelViolations('QueueConversationCallEventTopicCallConversation', body)).toEqual([]);
    expect(body.id).toBe(conversationId);
    expect(participant(body, 'customer')).toMatchObject({ ani: CALLER, dnis: 'tel:+18005550111', state: 'connected', direction: 'inbound', address: CALLER });
    expect(participant(body, 'acd')).toMatchObject({ queue: { id: SANDBOX_QUEUE.vip, name: 'VIP Line' }, state: 'connected' });
    await listener.close();
  });

  it('answering publishes the agent ringing, then connected with the ACD leg ended; hanging up publishes everyone disconnected', async () => {
    const token = await clientToken();
    const { listener } = await listening(token, [conversationsTopic(SANDBOX_QUEUE.billing)]);
    const conversationId = sim.placeInboundCall({ ani: CALLER, queueId: SANDBOX_QUEUE.billing });
    await listener.next();

    sim.answerInboundCall(conversationId, { userId: 'a1b2c3d4-0000-4000-8000-000000000001', name: 'Ada Agent' });
    const ringing = (await listener.next()).eventBody as Json;
    const connected = (await listener.next()).eventBody as Json;
    for (const body of [ringing, connected]) expect(modelViolations('QueueConversationEventTopicConversation', body)).toEqual([]);
    expect(participant(ringing, 'agent')).toMatchObject({ userId: 'a1b2c3d4-0000-4000-8000-000000000001', name: 'Ada Agent', queueId: SANDBOX_QUEUE.billing });
    expect(firstCall(participant(ringing, 'agent'))).toMatchObject({ state: 'alerting', initialState: 'alerting' });
    expect(firstCall(participant(ringing, 'acd')).state).toBe('connected');
    expect(firstCall(participant(connected, 'agent')).state).toBe('connected');
    expect(firstCall(participant(connected, 'acd'))).toMatchObject({ state: 'disconnected', disconnectType: 'transfer' });

    sim.disconnectInboundCall(conversationId);
    const ended = (await listener.next()).eventBody as Json;
    expect(modelViolations('QueueConversationEventTopicConversation', ended)).toEqual([]);
    for (const p of ended.participants as Json[]) {
      expect(firstCall(p).state, String(p.purpose)).toBe('disconnected');
      expect(p.endTime, String(p.purpose)).toEqual(expect.any(String));
    }
    expect(firstCall(participant(ended, 'customer')).disconnectType).toBe('endpoint');
    expect(firstCall(participant(ended, 'agent')).disconnectType).toBe('peer');
    expect(sim.notifications.stats()).toMatchObject({ events: 4 });
    await listener.close();
  });

  it('the call is readable through GET /api/v2/conversations/{id} at every step (Conversation)', async () => {
    const token = await clientToken();
    const read = async (id: string) => {
      const body = await json(await api(token, 'GET', `/api/v2/conversations/${id}`), 200);
      expect(modelViolations('Conversation', body)).toEqual([]);
      return body;
    };
    const id = sim.placeInboundCall({ ani: CALLER, queueId: SANDBOX_QUEUE.technicalSupport });
    const queued = await read(id);
    expect((queued.participants as Json[]).map((p) => p.purpose)).toEqual(['customer', 'ivr', 'acd']);
    expect(participant(queued, 'customer')).toMatchObject({ ani: CALLER, participantType: 'External' });
    expect(queued.state).toBe('connected');
    sim.answerInboundCall(id);
    const answered = await read(id);
    expect(participant(answered, 'agent')).toMatchObject({ purpose: 'agent', connectedTime: expect.any(String), queueId: SANDBOX_QUEUE.technicalSupport });
    sim.disconnectInboundCall(id, 'agent');
    const ended = await read(id);
    expect(ended).toMatchObject({ state: 'disconnected', endTime: expect.any(String) });
    expect(firstCall(participant(ended, 'agent')).disconnectType).toBe('client');
    expect(firstCall(participant(ended, 'customer')).disconnectType).toBe('peer');
  });

  it('a caller who hangs up while queued: the ACD leg ends too', async () => {
    const token = await clientToken();
    const { listener } = await listening(token, [conversationsTopic(SANDBOX_QUEUE.billing)]);
    const id = sim.placeInboundCall({ ani: CALLER, queueId: SANDBOX_QUEUE.billing });
    await listener.next();
    sim.disconnectInboundCall(id);
    const ended = (await listener.next()).eventBody as Json;
    expect((ended.participants as Json[]).map((p) => p.purpose)).toEqual(['customer', 'ivr', 'acd']);
    expect(firstCall(participant(ended, 'acd'))).toMatchObject({ state: 'disconnected', disconnectType: 'peer' });
    expect(() => sim.answerInboundCall(id)).toThrow(/ended/);
    expect(() => sim.disconnectInboundCall(id)).toThrow(/already ended/);
    await listener.close();
  });

  it('events reach only the channels subscribed to that queue', async () => {
    const token = await clientToken();
    const careChannel = await listening(token, [conversationsTopic(SANDBOX_QUEUE.customerCare)]);
    const billingChannel = await listening(token, [conversationsTopic(SANDBOX_QUEUE.billing)]);
    const careCall = sim.placeInboundCall({ ani: CALLER, queueId: SANDBOX_QUEUE.customerCare });
    const billingCall = sim.placeInboundCall({ ani: 'tel:+14155550101', queueId: SANDBOX_QUEUE.billing });
    expect(((await careChannel.listener.next()).eventBody as Json).id).toBe(careCall);
    // the billing channel's first message is the billing call: the other queue's event never came
    expect(((await billingChannel.listener.next()).eventBody as Json).id).toBe(billingCall);
    expect(careChannel.listener.pending).toBe(0);
    await Promise.all([careChannel.listener.close(), billingChannel.listener.close()]);
  });

  it('events are not queued while no WebSocket is connected', async () => {
    const token = await clientToken();
    const { id, connectUri } = await createChannel(token);
    await json(await subscribe(token, id, [conversationsTopic(SANDBOX_QUEUE.customerCare)]), 200);
    sim.placeInboundCall({ ani: CALLER, queueId: SANDBOX_QUEUE.customerCare });
    expect(sim.notifications.stats()).toMatchObject({ events: 0, eventsDropped: 1 });
    const listener = await Listener.connect(connectUri);
    const later = sim.placeInboundCall({ ani: 'tel:+14155550102', queueId: SANDBOX_QUEUE.customerCare });
    expect(((await listener.next()).eventBody as Json).id).toBe(later);
    await listener.close();
  });

  it('refuses a call it cannot place, and a step a call cannot take', () => {
    expect(() => sim.placeInboundCall({ ani: '+14155550100', queueId: SANDBOX_QUEUE.billing })).toThrow(/ani/);
    expect(() => sim.placeInboundCall({ ani: CALLER, queueId: 'no-such-queue' })).toThrow(/queueId/);
    expect(() => sim.answerInboundCall('no-such-call')).toThrow(/no call/);
    const id = sim.placeInboundCall({ ani: 'sip:anonymous@anonymous.invalid', queueId: SANDBOX_QUEUE.billing });
    expect(() => sim.disconnectInboundCall(id, 'agent')).toThrow(/no agent/);
    sim.answerInboundCall(id);
    expect(() => sim.answerInboundCall(id)).toThrow(/connected/);
  });
});

describe('closing, dropping and expiring sockets and channels', () => {
  it('socket_closing: v2.system.socket_closing (SystemMessageSystemMessage), then the socket closes a minute later', async () => {
    const token = await clientToken();
    const { channelId, listener } = await listening(token, [conversationsTopic(SANDBOX_QUEUE.vip)]);
    fakeTimers();
    expect(sim.notifications.sendSocketClosing(channelId)).toBe(true);
    const message = await listener.next();
    expect(message).toMatchObject({ topicName: 'v2.system.socket_closing', version: '2', metadata: { CorrelationId: expect.any(String) } });
    expect(modelViolations('SystemMessageSystemMessage', message.eventBody)).toEqual([]);
    expect(message.eventBody).toMatchObject({ channelId, systemTopicType: 'socket_closing', oauthClientId: CREDS.clientId, organizationId: CREDS.orgId });
    vi.advanceTimersByTime(59_999);
    expect(sim.notifications.isConnected(channelId)).toBe(true);
    vi.advanceTimersByTime(1);
    await expect(listener.closed).resolves.toEqual({ code: 1000 });
    // the channel itself lives on: a new WebSocket receives its events
    vi.useRealTimers();
    const again = await Listener.connect(`ws://127.0.0.1:${sim.port}/channels/${channelId}`);
    sim.placeInboundCall({ ani: CALLER, queueId: SANDBOX_QUEUE.vip });
    expect((await again.next()).topicName).toBe(conversationsTopic(SANDBOX_QUEUE.vip));
    await again.close();
  });

  it('dropping a socket closes it without a message or close frame', async () => {
    const token = await clientToken();
    const { channelId, listener } = await listening(token, [conversationsTopic(SANDBOX_QUEUE.vip)]);
    expect(sim.notifications.dropSocket(channelId)).toBe(true);
    await expect(listener.closed).resolves.toEqual({ code: 1006 });
    expect(listener.pending).toBe(0);
    expect(sim.notifications.dropSocket(channelId)).toBe(false);
  });

  it('a channel expires 24 h after its last subscription: its socket closes and it is gone', async () => {
    const token = await clientToken();
    fakeTimers();
    const { channelId, listener } = await listening(token, [conversationsTopic(SANDBOX_QUEUE.vip)]);
    vi.advanceTimersByTime(23 * 60 * 60_000);
    // resubscribing keeps it alive for another 24 h
    await json(await subscribe(token, channelId, [conversationsTopic(SANDBOX_QUEUE.vip)]), 200);
    const [listed] = (await json(await api(token, 'GET', '/api/v2/notifications/channels'), 200)).entities as Array<{ expires: string }>;
    expect(Date.parse(listed.expires)).toBeGreaterThanOrEqual(Date.now() + DAY_MS - 60_000);
    vi.advanceTimersByTime(DAY_MS - 1);
    expect(sim.notifications.isConnected(channelId)).toBe(true);
    vi.advanceTimersByTime(1);
    await expect(listener.closed).resolves.toEqual({ code: 1000 });
    expect((await api(token, 'HEAD', `/api/v2/notifications/channels/${channelId}`)).status).toBe(404);
    expect(sim.notifications.stats()).toMatchObject({ channelsExpired: 1, channels: 0 });
  });

  it('honours a configured channel lifetime', async () => {
    const short = await new GenesysSimulator({ notifications: { channelLifetimeMs: 60_000 } }).start();
    try {
      const token = await clientToken(short);
      const before = Date.now();
      fakeTimers();
      const channel = await createChannel(token, short);
      expect(Date.parse(channel.expires)).toBeGreaterThanOrEqual(before + 60_000);
      expect(Date.parse(channel.expires)).toBeLessThan(before + DAY_MS);
      vi.advanceTimersByTime(60_000);
      expect(short.notifications.channelIds()).toEqual([]);
    } finally {
      await short.stop();
    }
  });

  it('expireChannel ends a channel now', async () => {
    const token = await clientToken();
    const { channelId, listener } = await listening(token, [conversationsTopic(SANDBOX_QUEUE.vip)]);
    expect(sim.notifications.expireChannel(channelId)).toBe(true);
    await expect(listener.closed).resolves.toEqual({ code: 1000 });
    expect(await json(await api(token, 'GET', `/api/v2/notifications/channels/${channelId}/subscriptions`), 404)).toMatchObject({ code: 'not.found' });
    expect(sim.notifications.expireChannel(channelId)).toBe(false);
  });
});

describe('/__sim controls over HTTP', () => {
  const control = (method: string, path: string, body?: unknown) =>
    fetch(`${sim.url}/__sim${path}`, { method, ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}) });

  it('places, answers and hangs up a call; each step is published and answered with the Conversation', async () => {
    const token = await clientToken();
    const { listener } = await listening(token, [callsTopic(SANDBOX_QUEUE.customerCare)]);
    const placed = await json(await control('POST', '/inbound-calls', { ani: CALLER, queueId: SANDBOX_QUEUE.customerCare }), 201);
    const conversationId = placed.conversationId as string;
    expect(((await listener.next()).eventBody as Json).id).toBe(conversationId);
    const answered = await json(await control('POST', `/inbound-calls/${conversationId}/answer`), 200);
    expect(modelViolations('Conversation', answered)).toEqual([]);
    expect(participant(answered, 'agent')).toMatchObject({ name: 'Sandbox Agent' });
    await listener.next();
    await listener.next();
    const ended = await json(await control('POST', `/inbound-calls/${conversationId}/disconnect`, { by: 'agent' }), 200);
    expect(ended.state).toBe('disconnected');
    expect(participant((await listener.next()).eventBody as Json, 'agent')).toMatchObject({ state: 'disconnected', disconnectType: 'client' });
    await listener.close();
  });

  it('refuses bad requests with 400 and unknown calls with 404', async () => {
    expect((await control('POST', '/inbound-calls', { ani: 'nobody', queueId: SANDBOX_QUEUE.billing })).status).toBe(400);
    expect((await control('POST', '/inbound-calls', { ani: CALLER, queueId: 'nope' })).status).toBe(400);
    expect((await control('POST', '/inbound-calls', '[1]')).status).toBe(400);
    expect((await control('POST', '/inbound-calls/no-such-call/answer')).status).toBe(404);
    expect((await control('POST', '/notifications/channels/streaming-0-x/expire')).status).toBe(404);
    expect((await control('POST', '/notifications/channels/streaming-0-x/drop')).status).toBe(404);
    expect((await control('POST', '/notifications/channels/streaming-0-x/socket-closing', { graceMs: -1 })).status).toBe(400);
    expect((await control('POST', '/notifications/refuse-next-subscription', { status: 'soon' })).status).toBe(400);
  });

  it('sets the faults and reads the counters', async () => {
    const token = await clientToken();
    const { channelId, listener } = await listening(token, [conversationsTopic(SANDBOX_QUEUE.vip)]);
    expect(await json(await control('POST', `/notifications/channels/${channelId}/socket-closing`, { graceMs: 0 }), 200)).toEqual({ 'socket-closing': channelId });
    expect((await listener.next()).topicName).toBe('v2.system.socket_closing');
    await expect(listener.closed).resolves.toEqual({ code: 1000 });

    const again = await Listener.connect(`ws://127.0.0.1:${sim.port}/channels/${channelId}`);
    await json(await control('POST', `/notifications/channels/${channelId}/drop`), 200);
    await expect(again.closed).resolves.toEqual({ code: 1006 });

    await json(await control('POST', '/notifications/heartbeats/stop'), 200);
    fakeTimers();
    const third = await Listener.connect(`ws://127.0.0.1:${sim.port}/channels/${channelId}`);
    vi.advanceTimersByTime(60_000);
    expect(sim.notifications.stats().heartbeats).toBe(0);
    vi.useRealTimers();
    await json(await control('POST', '/notifications/heartbeats/resume'), 200);

    await json(await control('POST', '/notifications/refuse-next-subscription', { status: 500 }), 200);
    expect(await json(await subscribe(token, channelId, [conversationsTopic(SANDBOX_QUEUE.vip)]), 500)).toMatchObject({ code: 'internal.server.error' });

    const stats = await json(await control('GET', '/notifications'), 200);
    expect(stats).toMatchObject({ channelsCreated: 1, channels: 1, connected: 1, connectionsAccepted: 3, subscriptionRequests: 1, topicsSubscribed: 1, systemMessages: 1, channelIds: [channelId] });

    await json(await control('POST', `/notifications/channels/${channelId}/expire`), 200);
    await expect(third.closed).resolves.toEqual({ code: 1000 });
    expect((await json(await control('GET', '/notifications'), 200)).channels).toBe(0);
  });

  it('a simulator reset closes every socket and forgets channels, calls and counters', async () => {
    const token = await clientToken();
    const { listener } = await listening(token, [conversationsTopic(SANDBOX_QUEUE.vip)]);
    const id = sim.placeInboundCall({ ani: CALLER, queueId: SANDBOX_QUEUE.vip });
    await json(await control('POST', '/reset'), 200);
    await expect(listener.closed).resolves.toEqual({ code: 1006 });
    expect(sim.notifications.stats()).toMatchObject({ channels: 0, channelsCreated: 0, events: 0 });
    expect((await api(await clientToken(), 'GET', `/api/v2/conversations/${id}`)).status).toBe(404);
  });
});

describe("Genesys's own SDK (NotificationsApi, RoutingApi) against the simulator", () => {
  const client = platformClient.ApiClient.instance;

  beforeAll(() => {
    client.config.live_reload_config = false;
    client.setGateway({ host: '127.0.0.1', protocol: 'http', port: sim.port });
  });
  beforeEach(async () => {
    client.clearAccessToken();
    await client.loginClientCredentialsGrant(CREDS.clientId, CREDS.clientSecret);
  });

  it('creates a channel, subscribes to a queue found through getRoutingQueues, reads and removes the subscriptions', async () => {
    const notifications = new platformClient.NotificationsApi();
    const queues = await new platformClient.RoutingApi().getRoutingQueues({ name: 'Customer*' });
    expect(modelViolations('QueueEntityListing', queues)).toEqual([]);
    const queueId = queues.entities?.[0]?.id ?? '';
    expect(queueId).toBe(SANDBOX_QUEUE.customerCare);

    const channel = await notifications.postNotificationsChannels();
    expect(modelViolations('Channel', channel)).toEqual([]);
    const channelId = channel.id ?? '';
    const put = await notifications.putNotificationsChannelSubscriptions(channelId, [{ id: conversationsTopic(queueId) }]);
    expect(modelViolations('ChannelTopicEntityListing', put)).toEqual([]);
    const post = await notifications.postNotificationsChannelSubscriptions(channelId, [{ id: callsTopic(queueId) }]);
    expect(post.entities).toEqual([{ id: callsTopic(queueId), state: 'Permitted' }]);
    const listed = await notifications.getNotificationsChannelSubscriptions(channelId);
    expect(modelViolations('ChannelTopicEntityListing', listed)).toEqual([]);
    expect(listed.entities?.map((t) => t.id)).toEqual([conversationsTopic(queueId), callsTopic(queueId)]);
    const channels = await notifications.getNotificationsChannels();
    expect(modelViolations('ChannelEntityListing', channels)).toEqual([]);
    expect(channels.entities?.map((c) => c.id)).toEqual([channelId]);
    await notifications.headNotificationsChannel(channelId);

    // the SDK's connectUri works as is
    const listener = await Listener.connect(channel.connectUri ?? '');
    const conversationId = sim.placeInboundCall({ ani: CALLER, queueId });
    const topics = [(await listener.next()).topicName, (await listener.next()).topicName];
    expect(topics.sort()).toEqual([conversationsTopic(queueId), callsTopic(queueId)].sort());
    expect(sim.placedCalls).toEqual([]); // inbound calls are not click-to-dial calls
    await listener.close();

    await notifications.deleteNotificationsChannelSubscriptions(channelId);
    expect((await notifications.getNotificationsChannelSubscriptions(channelId)).entities).toEqual([]);
    expect(conversationId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('the SDK rejects with the ErrorBody of a refused subscription, and of a channel that is gone', async () => {
    const notifications = new platformClient.NotificationsApi();
    const channelId = (await notifications.postNotificationsChannels()).id ?? '';
    const refused: unknown = await notifications.putNotificationsChannelSubscriptions(channelId, [{ id: conversationsTopic('00000000-0000-4000-8000-000000000000') }]).then(
      () => 'resolved',
      (err: unknown) => err,
    );
    expect(modelViolations('ErrorBody', refused)).toEqual([]);
    expect(refused).toMatchObject({ status: 403, code: 'notification.unauthorized.topic' });
    sim.notifications.expireChannel(channelId);
    const gone: unknown = await notifications.getNotificationsChannelSubscriptions(channelId).then(
      () => 'resolved',
      (err: unknown) => err,
    );
    expect(gone).toMatchObject({ status: 404, code: 'not.found' });
  });
});
