import { EventEmitter } from 'node:events';
import type { Logger } from '@nestjs/common';
import { ExponentialBackoff, type IBackoff } from 'cockatiel';
import { isConnectorError } from '../../connectors/connector.errors.js';
import { ChannelSocket, SocketOpenError, type ChannelMessage, type SocketEnd } from './channel-socket.js';
import type { NotificationChannel, SubscriptionResult } from './notifications-api.client.js';

/** The Notifications API calls a subscription needs (NotificationsApiClient in the service). */
export interface ChannelApi {
  createChannel(signal?: AbortSignal): Promise<NotificationChannel>;
  subscribe(channelId: string, topics: string[], signal?: AbortSignal): Promise<SubscriptionResult>;
  signal(): AbortSignal;
}

export interface SubscriptionOptions {
  topicsPerChannel: number;
  pingAfterMs: number;
  pongTimeoutMs: number;
  renewBeforeMs: number;
  reconnectBaseMs: number;
  reconnectMaxMs: number;
  connectTimeoutMs: number;
}

/** Why a channel's WebSocket was (re)connected. */
export type ConnectReason = 'start' | 'reconnect' | 'renew' | 'socket_closing';
/** What a channel message was. */
export type MessageKind = 'conversation' | 'heartbeat' | 'pong' | 'socket_closing' | 'other';

export interface SubscriptionHooks {
  /** A message on one of the subscribed topics. */
  onEvent(topicName: string, eventBody: unknown): void;
  onMessage?(kind: MessageKind): void;
  onConnect?(reason: ConnectReason): void;
  /** A channel is connected again after `ms` without it; about `missed` events were lost meanwhile (Genesys does not replay them). */
  onGap?(ms: number, missed: number): void;
  /** The channels and topics in use changed. */
  onShape?(channels: number, topics: number): void;
}

const SYSTEM_CLOSING = 'v2.system.socket_closing';
const METADATA = 'channel.metadata';
/** A channel renewed in less than this from now is renewed this late instead (a clock far off, or a very short lifetime). */
const MIN_RENEW_DELAY_MS = 1000;

/**
 * Follows a set of topics through as many notification channels as needed (at most
 * `topicsPerChannel` topics on each, Genesys allowing 1,000 per WebSocket), and keeps every one of
 * them connected: reconnect with jittered exponential backoff after a drop or silence (subscribing
 * again first, on a new channel if Genesys no longer has the old one), a new channel before the old
 * one's 24 h end and when Genesys announces `v2.system.socket_closing` (the old socket is closed
 * only once the new one is live, so nothing is missed), and a re-subscription when the topic list
 * changes. Emits `live` whenever every channel is connected.
 */
export class QueueSubscriptions extends EventEmitter {
  private links: ChannelLink[] = [];
  private stopped = false;

  constructor(
    private readonly api: ChannelApi,
    private readonly options: SubscriptionOptions,
    private readonly hooks: SubscriptionHooks,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    super();
  }

  /** Subscribes exactly these topics: kept ones stay where they are, new ones fill channels with room, then new channels. */
  setTopics(topics: readonly string[]): void {
    if (this.stopped) return;
    const wanted = new Set(topics);
    const kept = new Set<string>();
    const changed = new Set<ChannelLink>();
    for (const link of this.links) {
      const remaining = link.topics.filter((t) => wanted.has(t));
      if (remaining.length !== link.topics.length) changed.add(link);
      link.topics = remaining;
      remaining.forEach((t) => kept.add(t));
    }
    const fresh = [...wanted].filter((t) => !kept.has(t));
    for (const link of this.links) {
      while (fresh.length > 0 && link.topics.length > 0 && link.topics.length < this.options.topicsPerChannel) {
        link.topics.push(fresh.shift() as string);
        changed.add(link);
      }
    }
    const added: ChannelLink[] = [];
    while (fresh.length > 0) added.push(new ChannelLink(this, fresh.splice(0, this.options.topicsPerChannel)));
    for (const link of changed) {
      if (link.topics.length === 0) link.stop();
      else link.topicsChanged();
    }
    this.links = [...this.links.filter((l) => l.topics.length > 0), ...added];
    this.hooks.onShape?.(this.links.length, this.topicCount);
    for (const link of added) link.start();
    this.checkLive();
  }

  /** Closes every channel's socket; nothing reconnects afterwards. */
  stop(): void {
    this.stopped = true;
    for (const link of this.links) link.stop();
    this.links = [];
    this.hooks.onShape?.(0, 0);
    this.removeAllListeners();
  }

  get topicCount(): number {
    return this.links.reduce((n, l) => n + l.topics.length, 0);
  }

  /** Channels in use, and how many are connected now. */
  get status(): { channels: number; connected: number; topics: number } {
    return { channels: this.links.length, connected: this.links.filter((l) => l.live).length, topics: this.topicCount };
  }

  /** Queue conversation events per second while connected, over everything seen so far (0 before any). */
  eventsPerSecond(): number {
    const liveMs = this.links.reduce((n, l) => n + l.liveMsSoFar(), 0);
    const events = this.links.reduce((n, l) => n + l.events, 0);
    return liveMs >= 1000 ? (events * 1000) / liveMs : 0;
  }

  /** Resolves once every channel is connected (at once when they are). */
  whenLive(): Promise<void> {
    if (this.links.length > 0 && this.links.every((l) => l.live)) return Promise.resolve();
    return new Promise((resolve) => this.once('live', () => resolve()));
  }

  // -------------------------------------------------------------------- for the links

  /** @internal */ get ctx(): { api: ChannelApi; options: SubscriptionOptions; hooks: SubscriptionHooks; logger: Logger; now: () => number } {
    return { api: this.api, options: this.options, hooks: this.hooks, logger: this.logger, now: this.now };
  }

  /** @internal */ checkLive(): void {
    if (!this.stopped && this.links.length > 0 && this.links.every((l) => l.live)) this.emit('live');
  }
}

/** One channel: its topics, its WebSocket, and what keeps that connected. */
class ChannelLink {
  private channel: NotificationChannel | undefined;
  private socket: ChannelSocket | undefined;
  /** Topics as last subscribed on `channel`. */
  private subscribed = '';
  private connecting = false;
  /** A connect asked for while one was running: done after it. */
  private again: { reason: ConnectReason; newChannel: boolean } | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  private backoff: IBackoff<unknown> | undefined;
  private stopped = false;
  /** Since when this channel should have been connected but was not (a drop). */
  private downSince: number | undefined;
  private liveSince: number | undefined;
  private liveMs = 0;
  events = 0;
  private readonly rejected = new Set<string>();

  constructor(
    private readonly owner: QueueSubscriptions,
    public topics: string[],
  ) {}

  get live(): boolean {
    return this.socket?.connected === true;
  }

  liveMsSoFar(): number {
    return this.liveMs + (this.liveSince !== undefined ? this.owner.ctx.now() - this.liveSince : 0);
  }

  start(): void {
    void this.connect('start', false);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.renewTimer);
    this.socket?.close();
    this.socket = undefined;
  }

  /** The topics changed: subscribe the channel to the new list (a connection in progress does so when it is done). */
  topicsChanged(): void {
    if (this.stopped) return;
    if (this.connecting || !this.channel || !this.live) {
      if (!this.connecting && !this.retryTimer) void this.connect('reconnect', false);
      return;
    }
    const channel = this.channel;
    const topics = [...this.topics];
    const { api, logger } = this.owner.ctx;
    api.subscribe(channel.id, topics, api.signal()).then(
      (result) => {
        if (this.channel === channel) this.subscribed = key(topics);
        this.report(result);
      },
      (err: unknown) => {
        logger.warn({ msg: 'notification topics could not be changed; the channel is subscribed again', err: describe(err) });
        this.scheduleRetry('reconnect');
      },
    );
  }

  private async connect(reason: ConnectReason, newChannel: boolean): Promise<void> {
    if (this.stopped) return;
    if (this.connecting) {
      this.again = { reason, newChannel: newChannel || (this.again?.newChannel ?? false) };
      return;
    }
    this.connecting = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const { api, options, logger, now } = this.owner.ctx;
    try {
      let channel = this.channel;
      if (newChannel || !channel || channel.expiresAt - now() <= options.renewBeforeMs) channel = await api.createChannel(api.signal());
      const topics = [...this.topics];
      let result: SubscriptionResult;
      try {
        result = await api.subscribe(channel.id, topics, api.signal());
      } catch (err) {
        // the channel is gone (expired, or replaced by a 21st): a new one
        if (!(isConnectorError(err) && err.kind === 'not_found')) throw err;
        channel = await api.createChannel(api.signal());
        result = await api.subscribe(channel.id, topics, api.signal());
      }
      this.report(result);
      const socket: ChannelSocket = new ChannelSocket(
        channel.connectUri,
        { pingAfterMs: options.pingAfterMs, pongTimeoutMs: options.pongTimeoutMs, connectTimeoutMs: options.connectTimeoutMs },
        { onMessage: (m) => this.message(socket, m), onEnd: (why) => this.ended(socket, why) },
        now,
      );
      try {
        await socket.open();
      } catch (err) {
        if (err instanceof SocketOpenError && err.status === 404) this.channel = undefined; // gone: the next attempt makes a new one
        throw err;
      }
      if (this.stopped) {
        socket.close();
        return;
      }
      const previous = this.socket;
      this.channel = channel;
      this.socket = socket;
      this.subscribed = key(topics);
      previous?.close(); // make before break: the new socket is live before the old one goes
      this.wentLive(reason);
    } catch (err) {
      if (this.stopped) return;
      logger.warn({ msg: 'notification channel could not be connected; retrying with backoff', reason, err: describe(err) });
      this.scheduleRetry(this.live ? reason : 'reconnect', newChannel && this.live);
    } finally {
      this.connecting = false;
      const again = this.again;
      this.again = undefined;
      if (again && !this.stopped) void this.connect(again.reason, again.newChannel);
      else if (!this.stopped && this.live && this.subscribed !== key(this.topics)) this.topicsChanged();
    }
  }

  private wentLive(reason: ConnectReason): void {
    const { options, hooks, logger, now } = this.owner.ctx;
    const at = now();
    if (this.liveSince === undefined) this.liveSince = at;
    if (this.downSince !== undefined) {
      const gapMs = at - this.downSince;
      const rate = this.eventRate();
      const missed = Math.round((gapMs / 1000) * rate);
      this.downSince = undefined;
      hooks.onGap?.(gapMs, missed);
      logger.warn({ msg: 'notification channel connected again; events published meanwhile are not replayed by Genesys', gapMs, missedEventsEstimate: missed });
    }
    this.backoff = undefined;
    hooks.onConnect?.(reason);
    clearTimeout(this.renewTimer);
    const channel = this.channel as NotificationChannel;
    this.renewTimer = setTimeout(() => void this.connect('renew', true), Math.max(MIN_RENEW_DELAY_MS, channel.expiresAt - options.renewBeforeMs - at));
    this.renewTimer.unref();
    this.owner.checkLive();
  }

  /** Conversation events per second on this channel while it was connected. */
  private eventRate(): number {
    const liveMs = this.liveMsSoFar();
    return liveMs >= 1000 ? (this.events * 1000) / liveMs : this.owner.eventsPerSecond();
  }

  private message(socket: ChannelSocket, m: ChannelMessage): void {
    const { hooks } = this.owner.ctx;
    if (m.topicName === METADATA) {
      const text = typeof m.eventBody === 'object' && m.eventBody !== null ? (m.eventBody as { message?: unknown }).message : undefined;
      hooks.onMessage?.(text === 'pong' ? 'pong' : 'heartbeat');
      return;
    }
    if (m.topicName === SYSTEM_CLOSING) {
      hooks.onMessage?.('socket_closing');
      // Genesys closes this socket within a minute: a new channel now, this one closed once it is live
      if (socket === this.socket) void this.connect('socket_closing', true);
      return;
    }
    if (!this.topics.includes(m.topicName)) {
      hooks.onMessage?.('other');
      return;
    }
    this.events++;
    hooks.onMessage?.('conversation');
    hooks.onEvent(m.topicName, m.eventBody);
  }

  private ended(socket: ChannelSocket, why: SocketEnd): void {
    if (socket !== this.socket || why === 'closed' || this.stopped) return;
    const { logger, now } = this.owner.ctx;
    const at = now();
    if (this.liveSince !== undefined) this.liveMs += at - this.liveSince;
    this.liveSince = undefined;
    this.downSince ??= at;
    this.socket = undefined;
    clearTimeout(this.renewTimer);
    logger.warn({ msg: why === 'silent' ? 'notification channel went silent (no heartbeat, no answer to ping); reconnecting' : 'notification channel disconnected; reconnecting', channel: shortId(this.channel?.id) });
    // the first attempt at once, the next ones after a growing, jittered wait
    void this.connect('reconnect', false);
  }

  private scheduleRetry(reason: ConnectReason, newChannel = false): void {
    if (this.stopped) return;
    const { options } = this.owner.ctx;
    this.backoff = this.backoff ? this.backoff.next(undefined) : new ExponentialBackoff({ initialDelay: options.reconnectBaseMs, maxDelay: options.reconnectMaxMs }).next();
    if (!this.live) this.downSince ??= this.owner.ctx.now();
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.connect(reason, newChannel);
    }, this.backoff.duration);
    this.retryTimer.unref();
  }

  private report(result: SubscriptionResult): void {
    for (const r of result.rejected) {
      if (this.rejected.has(r.topic)) continue;
      this.rejected.add(r.topic);
      this.owner.ctx.logger.warn({ msg: 'Genesys refused a notification topic (check the OAuth client role: queue membership, divisions)', topic: r.topic, reason: r.reason });
    }
  }
}

function key(topics: readonly string[]): string {
  return [...topics].sort().join('\n');
}

/** A channel id shortened for logs (the id is part of the socket URI anyone could connect to). */
function shortId(id: string | undefined): string | undefined {
  return id === undefined ? undefined : `${id.slice(0, 14)}…`;
}

function describe(err: unknown): string {
  if (isConnectorError(err)) return `${err.kind}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}
