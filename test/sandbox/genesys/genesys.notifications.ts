/**
 * The Genesys Cloud Notifications API as the simulator serves it: channels (`POST
 * /api/v2/notifications/channels` → `{id, connectUri, expires}`), their topic subscriptions, and
 * the WebSocket at `connectUri` that delivers `{topicName, version, eventBody, metadata}` messages.
 *
 * What Genesys documents, and this hub does:
 * - a channel lives 24 hours; subscribing again (PUT or POST) extends it by another lifetime;
 * - at most 20 channels per user and OAuth client: a 21st replaces the one used longest ago,
 *   channels without a connected WebSocket first;
 * - at most 1,000 topics per channel, 400 beyond;
 * - one WebSocket per channel: connecting a second one disconnects the first;
 * - a heartbeat every 30 s (`channel.metadata`, `{"message":"WebSocket Heartbeat"}`), and a
 *   client's `{"message":"ping"}` answered on the same topic with `{"message":"pong"}`;
 * - `v2.system.socket_closing` before the server closes a socket for maintenance (sent a minute
 *   ahead), delivered without any subscription;
 * - events reach a channel only while its WebSocket is connected: nothing is queued.
 *
 * The hub knows nothing of HTTP routing or tokens: the simulator authenticates a request, names
 * its owner (OAuth client and user) and passes the parsed request in; the hub answers with data
 * or a refusal the simulator formats as a Genesys error.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';

import { type RawData,WebSocket, WebSocketServer } from 'ws';

export interface NotificationSettings {
  /** How long a channel lives after its creation or its last subscription call (Genesys: 24 h). */
  channelLifetimeMs: number;
  /** Heartbeat interval on a connected WebSocket (Genesys: 30 s). */
  heartbeatIntervalMs: number;
  /** How long after `v2.system.socket_closing` the socket is closed (Genesys: one minute). */
  socketClosingGraceMs: number;
  /** Channels per user and OAuth client (Genesys: 20). */
  maxChannelsPerClient: number;
  /** Topics per channel (Genesys: 1,000). */
  maxTopicsPerChannel: number;
}

export const GENESYS_NOTIFICATION_LIMITS: Readonly<NotificationSettings> = Object.freeze({
  channelLifetimeMs: 24 * 60 * 60_000,
  heartbeatIntervalMs: 30_000,
  socketClosingGraceMs: 60_000,
  maxChannelsPerClient: 20,
  maxTopicsPerChannel: 1000,
});

/** Who a channel belongs to: the OAuth client, the signed-in user (none for client credentials), the organization. */
export interface ChannelOwner {
  clientId: string;
  userId?: string;
  orgId: string;
}

/** A topic the simulator can publish to, or why it cannot be subscribed. */
export type TopicCheck = { ok: true } | { ok: false; reason: 'unknown-topic' | 'not-permitted' };

/** A refusal the simulator answers in Genesys' error format. */
export interface Refusal {
  status: number;
  code: string;
  message: string;
}

/** Counters for tests and the `/__sim/notifications` control. */
export interface NotificationStats {
  channelsCreated: number;
  /** Channels that exist now. */
  channels: number;
  /** Channels removed because they expired, or were replaced by a 21st. */
  channelsExpired: number;
  channelsReplaced: number;
  /** WebSocket connections accepted, and open now. */
  connectionsAccepted: number;
  connected: number;
  /** PUT/POST/DELETE subscription calls that changed a channel, and the topics subscribed now (all channels). */
  subscriptionRequests: number;
  topicsSubscribed: number;
  /** Messages written to WebSockets, in all and by kind. */
  messagesSent: number;
  heartbeats: number;
  pongs: number;
  events: number;
  systemMessages: number;
  /** Events for a subscribed channel whose WebSocket was not connected: dropped, as Genesys does. */
  eventsDropped: number;
}

interface Channel {
  id: string;
  ownerKey: string;
  owner: ChannelOwner;
  /** The access token that created it (listings show other tokens' channels without ids). */
  token: string;
  expiresAt: number;
  lastUsedAt: number;
  /** Topic entries as subscribed (a combined `prefix?a&b` entry counts once). */
  topics: string[];
  socket?: WebSocket;
  expiry?: ReturnType<typeof setTimeout>;
}

/** Per-socket timers (a replaced socket's timers die with it). */
interface SocketTimers {
  heartbeat?: ReturnType<typeof setInterval>;
  closing?: ReturnType<typeof setTimeout>;
}

const CHANNEL_PATH = /^\/channels\/(?<id>streaming-\d+-[a-z0-9]+)\/?$/;
/** Combined topics: `prefix?a&b` stands for `prefix.a` and `prefix.b` (how Genesys' own streaming client shortens lists). */
const COMBINED = /^(?<prefix>[^?]+)\?(?<postfixes>[^?]+)$/;

function zeroStats(): NotificationStats {
  return {
    channelsCreated: 0,
    channels: 0,
    channelsExpired: 0,
    channelsReplaced: 0,
    connectionsAccepted: 0,
    connected: 0,
    subscriptionRequests: 0,
    topicsSubscribed: 0,
    messagesSent: 0,
    heartbeats: 0,
    pongs: 0,
    events: 0,
    systemMessages: 0,
    eventsDropped: 0,
  };
}

/** The individual topics one subscription entry stands for. */
export function expandTopic(entry: string): string[] {
  const m = COMBINED.exec(entry);
  if (!m?.groups) return [entry];
  return m.groups.postfixes.split('&').map((p) => `${m.groups!.prefix}.${p}`);
}

export class NotificationHub {
  private readonly channels = new Map<string, Channel>();
  private readonly timers = new WeakMap<WebSocket, SocketTimers>();
  private readonly wss = new WebSocketServer({ noServer: true, clientTracking: false });
  private counters = zeroStats();
  private heartbeatsStopped = false;
  private refuseNext: Refusal | undefined;
  private channelSeq = 0;

  constructor(
    readonly settings: NotificationSettings,
    private readonly now: () => number,
    /** `ws://host:port` of the running simulator. */
    private readonly socketBase: () => string,
  ) {}

  // ------------------------------------------------------------------------------ channels (REST)

  /** `POST /api/v2/notifications/channels`: a new channel, replacing one of the owner's if they have the maximum. */
  createChannel(owner: ChannelOwner, token: string): Record<string, unknown> {
    const ownerKey = `${owner.orgId}|${owner.clientId}|${owner.userId ?? ''}`;
    const mine = [...this.channels.values()].filter((c) => c.ownerKey === ownerKey);
    if (mine.length >= this.settings.maxChannelsPerClient) {
      // idle channels go first; among equals, the one used longest ago
      const victim = mine.sort((a, b) => Number(a.socket !== undefined) - Number(b.socket !== undefined) || a.lastUsedAt - b.lastUsedAt)[0];
      this.counters.channelsReplaced++;
      this.removeChannel(victim);
    }
    const now = this.now();
    const channel: Channel = { id: `streaming-${this.channelSeq++ % 10}-${randomBytes(16).toString('hex').slice(0, 26)}`, ownerKey, owner, token, expiresAt: now, lastUsedAt: now, topics: [] };
    this.channels.set(channel.id, channel);
    this.extend(channel);
    this.counters.channelsCreated++;
    return this.channelBody(channel);
  }

  /**
   * `GET /api/v2/notifications/channels`: the token's channels (`includechannels=token`, the
   * default), or all of the user's and client's (`oauthclient`), other tokens' shown without their ids.
   */
  listChannels(owner: ChannelOwner, token: string, include: 'token' | 'oauthclient'): Record<string, unknown> {
    const ownerKey = `${owner.orgId}|${owner.clientId}|${owner.userId ?? ''}`;
    const entities = [...this.channels.values()]
      .filter((c) => c.ownerKey === ownerKey && (include === 'oauthclient' || c.token === token))
      .map((c) => (c.token === token ? this.channelBody(c) : { expires: new Date(c.expiresAt).toISOString() }));
    return { entities };
  }

  /** True when the channel exists and belongs to the owner (`HEAD /api/v2/notifications/channels/{id}`). */
  hasChannel(owner: ChannelOwner, channelId: string): boolean {
    return this.ownChannel(owner, channelId) !== undefined;
  }

  /** `GET …/subscriptions`: the channel's topics, or undefined for a channel the owner does not have. */
  subscriptions(owner: ChannelOwner, channelId: string): Record<string, unknown> | undefined {
    const channel = this.ownChannel(owner, channelId);
    return channel ? { entities: channel.topics.map((id) => ({ id })) } : undefined;
  }

  /**
   * `PUT` (replace) or `POST` (add) `…/subscriptions`. Every topic is checked: one the owner may not
   * subscribe fails the whole call with 403, unless `ignoreErrors` — then it is listed as Rejected and
   * the others are subscribed. More than the topic limit is a 400. A successful call extends the
   * channel's life by another lifetime (Genesys: "to maintain a channel for longer than 24 hours,
   * resubscribe to topics").
   */
  subscribe(
    owner: ChannelOwner,
    channelId: string,
    entries: string[],
    mode: 'replace' | 'add',
    ignoreErrors: boolean,
    check: (topic: string) => TopicCheck,
  ): { body: Record<string, unknown> } | { refusal: Refusal } | undefined {
    const channel = this.ownChannel(owner, channelId);
    if (!channel) return undefined;
    if (this.refuseNext) {
      const refusal = this.refuseNext;
      this.refuseNext = undefined;
      return { refusal };
    }
    const results: Array<{ id: string; state: 'Permitted' | 'Rejected'; rejectionReason?: string }> = [];
    for (const entry of [...new Set(entries)]) {
      const failed = expandTopic(entry)
        .map((topic) => ({ topic, result: check(topic) }))
        .find((t) => !t.result.ok);
      if (!failed) {
        results.push({ id: entry, state: 'Permitted' });
        continue;
      }
      const unknown = !failed.result.ok && failed.result.reason === 'unknown-topic';
      if (unknown) return { refusal: { status: 400, code: 'bad.request', message: `The topic ${failed.topic} is not a valid notification topic.` } };
      const message = `The user does not have permissions required for topic ${failed.topic}`;
      if (!ignoreErrors) return { refusal: { status: 403, code: 'notification.unauthorized.topic', message } };
      results.push({ id: entry, state: 'Rejected', rejectionReason: message });
    }
    const permitted = results.filter((r) => r.state === 'Permitted').map((r) => r.id);
    const next = mode === 'replace' ? permitted : [...new Set([...channel.topics, ...permitted])];
    if (next.length > this.settings.maxTopicsPerChannel) {
      return { refusal: { status: 400, code: 'bad.request', message: `A channel can be subscribed to at most ${this.settings.maxTopicsPerChannel} topics; this request would make ${next.length}.` } };
    }
    channel.topics = next;
    channel.lastUsedAt = this.now();
    this.extend(channel);
    this.counters.subscriptionRequests++;
    return { body: { entities: results } };
  }

  /** `DELETE …/subscriptions`: false for a channel the owner does not have. */
  unsubscribeAll(owner: ChannelOwner, channelId: string): boolean {
    const channel = this.ownChannel(owner, channelId);
    if (!channel) return false;
    channel.topics = [];
    channel.lastUsedAt = this.now();
    this.counters.subscriptionRequests++;
    return true;
  }

  // ------------------------------------------------------------------------------ WebSocket

  /** Serves WebSocket upgrades to `/channels/{id}` on the simulator's HTTP server; other upgrades get 404. */
  attach(server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      const channel = this.channels.get(CHANNEL_PATH.exec(path)?.groups?.id ?? '');
      if (!channel) {
        socket.end('HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.connected(channel, ws));
    });
  }

  private connected(channel: Channel, ws: WebSocket): void {
    if (!this.channels.has(channel.id)) {
      ws.terminate(); // expired during the handshake
      return;
    }
    const previous = channel.socket;
    channel.socket = ws;
    channel.lastUsedAt = this.now();
    this.counters.connectionsAccepted++;
    if (previous) this.closeSocket(previous, 'close'); // one WebSocket per channel: the first one goes
    const timers: SocketTimers = {
      heartbeat: setInterval(() => {
        if (!this.heartbeatsStopped) this.send(ws, { topicName: 'channel.metadata', eventBody: { message: 'WebSocket Heartbeat' } }, 'heartbeats');
      }, this.settings.heartbeatIntervalMs),
    };
    this.timers.set(ws, timers);
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (!isBinary && isPing(data)) this.send(ws, { topicName: 'channel.metadata', eventBody: { message: 'pong' } }, 'pongs');
    });
    ws.on('close', () => {
      this.clearTimers(ws);
      if (channel.socket === ws) {
        channel.socket = undefined;
        channel.lastUsedAt = this.now();
      }
    });
    ws.on('error', () => ws.terminate());
  }

  /** Publishes an event to every channel subscribed to the topic whose WebSocket is connected now. Returns how many received it. */
  publish(topicName: string, eventBody: unknown): number {
    let delivered = 0;
    for (const channel of this.channels.values()) {
      if (!channel.topics.some((entry) => expandTopic(entry).includes(topicName))) continue;
      if (channel.socket?.readyState === WebSocket.OPEN) {
        this.send(channel.socket, { topicName, version: '2', eventBody, metadata: { CorrelationId: randomUUID() } }, 'events');
        delivered++;
      } else {
        this.counters.eventsDropped++;
      }
    }
    return delivered;
  }

  // ------------------------------------------------------------------------------ faults

  /** Closes a channel's WebSocket without a closing message or close frame (a network drop). False when none is connected. */
  dropSocket(channelId: string): boolean {
    const ws = this.channels.get(channelId)?.socket;
    if (!ws) return false;
    this.closeSocket(ws, 'terminate');
    return true;
  }

  /** Heartbeats stop (or resume) on every socket. */
  setHeartbeatsStopped(stopped: boolean): void {
    this.heartbeatsStopped = stopped;
  }

  /** The next PUT/POST subscription call is refused with this status in Genesys' format (default 503). */
  refuseNextSubscription(status = 503): void {
    if (!Number.isInteger(status) || status < 400 || status > 599) throw new Error('status must be an HTTP error status (400–599)');
    const code = status === 503 ? 'service.unavailable' : status >= 500 ? 'internal.server.error' : 'bad.request';
    this.refuseNext = { status, code, message: 'The subscription could not be changed.' };
  }

  /** The channel expires now: its WebSocket is closed and it is gone. False for an unknown channel. */
  expireChannel(channelId: string): boolean {
    const channel = this.channels.get(channelId);
    if (!channel) return false;
    this.counters.channelsExpired++;
    this.removeChannel(channel);
    return true;
  }

  /**
   * Sends `v2.system.socket_closing` on the channel's WebSocket and closes it `graceMs` later (a
   * minute by default, as Genesys announces it). False when no WebSocket is connected.
   */
  sendSocketClosing(channelId: string, graceMs = this.settings.socketClosingGraceMs): boolean {
    const channel = this.channels.get(channelId);
    const ws = channel?.socket;
    if (!channel || !ws) return false;
    const correlationId = randomUUID();
    const eventBody = {
      channelId: channel.id,
      systemTopicType: 'socket_closing',
      correlationId,
      organizationId: channel.owner.orgId,
      ...(channel.owner.userId ? { userId: channel.owner.userId } : {}),
      oauthClientId: channel.owner.clientId,
      message: `This WebSocket will be closed in ${Math.round(graceMs / 1000)} seconds. Open a new one to keep receiving notifications.`,
    };
    this.send(ws, { topicName: 'v2.system.socket_closing', version: '2', eventBody, metadata: { CorrelationId: correlationId } }, 'systemMessages');
    const timers = this.timers.get(ws);
    if (timers) timers.closing = setTimeout(() => this.closeSocket(ws, 'close'), graceMs);
    return true;
  }

  // ------------------------------------------------------------------------------ state

  stats(): NotificationStats {
    const all = [...this.channels.values()];
    return {
      ...this.counters,
      channels: all.length,
      connected: all.filter((c) => c.socket !== undefined).length,
      topicsSubscribed: all.reduce((n, c) => n + c.topics.length, 0),
    };
  }

  /** Ids of the channels that exist, oldest first (for controls and tests). */
  channelIds(): string[] {
    return [...this.channels.keys()];
  }

  /** Whether a channel's WebSocket is connected now. */
  isConnected(channelId: string): boolean {
    return this.channels.get(channelId)?.socket !== undefined;
  }

  /** No channels, sockets, faults or counters. */
  reset(): void {
    for (const channel of [...this.channels.values()]) this.removeChannel(channel, 'terminate');
    this.counters = zeroStats();
    this.heartbeatsStopped = false;
    this.refuseNext = undefined;
  }

  // ------------------------------------------------------------------------------ internals

  private ownChannel(owner: ChannelOwner, channelId: string): Channel | undefined {
    const channel = this.channels.get(channelId);
    const ownerKey = `${owner.orgId}|${owner.clientId}|${owner.userId ?? ''}`;
    return channel?.ownerKey === ownerKey ? channel : undefined;
  }

  private channelBody(c: Channel): Record<string, unknown> {
    return { connectUri: `${this.socketBase()}/channels/${c.id}`, id: c.id, expires: new Date(c.expiresAt).toISOString() };
  }

  /** (Re)starts the channel's lifetime from now. */
  private extend(channel: Channel): void {
    if (channel.expiry) clearTimeout(channel.expiry);
    channel.expiresAt = this.now() + this.settings.channelLifetimeMs;
    channel.expiry = setTimeout(() => this.expireChannel(channel.id), this.settings.channelLifetimeMs);
  }

  private removeChannel(channel: Channel, how: 'close' | 'terminate' = 'close'): void {
    if (channel.expiry) clearTimeout(channel.expiry);
    this.channels.delete(channel.id);
    if (channel.socket) this.closeSocket(channel.socket, how);
    channel.socket = undefined;
  }

  private closeSocket(ws: WebSocket, how: 'close' | 'terminate'): void {
    this.clearTimers(ws);
    if (how === 'terminate') ws.terminate();
    else ws.close(1000);
  }

  private clearTimers(ws: WebSocket): void {
    const timers = this.timers.get(ws);
    if (!timers) return;
    if (timers.heartbeat) clearInterval(timers.heartbeat);
    if (timers.closing) clearTimeout(timers.closing);
    this.timers.delete(ws);
  }

  private send(ws: WebSocket, message: Record<string, unknown>, kind: 'heartbeats' | 'pongs' | 'events' | 'systemMessages'): void {
    if (ws.readyState !== WebSocket.OPEN) return;
    ws.send(JSON.stringify(message));
    this.counters.messagesSent++;
    this.counters[kind]++;
  }
}

/** A client's health check: the text `{"message":"ping"}`. */
function isPing(data: RawData): boolean {
  try {
    const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && (value as { message?: unknown }).message === 'ping';
  } catch {
    return false;
  }
}
