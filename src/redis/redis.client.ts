import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';

import { createClient, createCluster, createSentinel, type RedisClientOptions, type RedisClientType, type RedisClusterType, type RedisSentinelType } from '@redis/client';

import type { RedisConnectionSettings, RedisTlsSettings, RedisTopology } from './redis.config.js';

/** The node-redis object behind a connection, for a library that takes one (Keyv's Redis store). */
export type RawRedis = RedisClientType | RedisClusterType | RedisSentinelType;

export type MessageListener = (message: string, channel: string) => void;

/** A Lua script and its SHA-1, sent by hash and only in full when the server does not know it yet. */
export interface RedisScript {
  readonly lua: string;
  readonly sha1: string;
}

export function defineScript(lua: string): RedisScript {
  return { lua, sha1: createHash('sha1').update(lua).digest('hex') };
}

export interface SetOptions {
  /** Only when the key does not exist. */
  NX?: boolean;
  /** Expiry in ms. */
  PX?: number;
}

export interface ScriptCall {
  keys: string[];
  arguments?: string[];
}

/** 'ready': commands can be served (again); 'error': a connection failed (reported, retried); 'end': closed for good. */
export type RedisEvent = 'ready' | 'error' | 'end';

/**
 * The shared Redis, whatever its topology (one server, Sentinel, Cluster): the commands this
 * service uses, with one meaning everywhere.
 *
 * - Multi-key commands and scripts must keep their keys in one slot (`redis-keys.ts`): a Cluster
 *   refuses anything else, and the other topologies are held to the same rule by the tests.
 * - `publish`/`subscribe` are sharded (SPUBLISH/SSUBSCRIBE) on a Cluster, so a message travels to
 *   the shard that owns its channel only; plain pub/sub elsewhere. `subscribe` may be called on
 *   this shared connection: it never turns it into a subscriber-only connection.
 * - Fail fast: while Redis (or, on a Cluster, the node owning a key) is unreachable, commands are
 *   refused at once instead of queued; the connection comes back by itself, with backoff.
 */
export interface Redis {
  readonly topology: RedisTopology;
  /** Commands can be served now (on a Cluster: by at least one master). */
  readonly isReady: boolean;
  /** Connecting or connected (not closed). */
  readonly isOpen: boolean;
  /** The node-redis object, for a library that needs one (never for commands: use the methods here). */
  readonly client: RawRedis;

  on(event: RedisEvent, listener: (...args: unknown[]) => void): this;
  once(event: RedisEvent, listener: (...args: unknown[]) => void): this;
  off(event: RedisEvent, listener: (...args: unknown[]) => void): this;

  get(key: string): Promise<string | null>;
  set(key: string, value: string, options?: SetOptions): Promise<string | null>;
  /** Keys of one slot. */
  mGet(keys: string[]): Promise<Array<string | null>>;
  /** Keys of one slot. */
  del(keys: string | string[]): Promise<number>;
  pExpire(key: string, ms: number): Promise<number>;
  /** Keys of one slot. */
  eval(script: string, call: ScriptCall): Promise<unknown>;
  evalSha(sha1: string, call: ScriptCall): Promise<unknown>;
  /** Runs a script by hash, sending it in full only when the server does not know it yet. Keys of one slot. */
  run(script: RedisScript, call: ScriptCall): Promise<unknown>;

  publish(channel: string, message: string): Promise<number>;
  subscribe(channel: string, listener: MessageListener): Promise<void>;
  unsubscribe(channel: string, listener?: MessageListener): Promise<void>;
  /**
   * The command a script calls to publish as `publish` does: SPUBLISH on a Cluster (the channel
   * then must share the hash tag of the script's keys), PUBLISH elsewhere.
   */
  readonly publishCommand: 'PUBLISH' | 'SPUBLISH';

  /**
   * A new, separate connection to the same Redis (not connected yet). As in node-redis, it is the
   * kind of connection to subscribe on: on one server its subscriptions use it (and it then serves
   * no other command); `subscribe` on the shared connection needs no duplicate.
   */
  duplicate(): Redis;
  /** Resolves once connected; keeps trying (with backoff) until then; rejects if closed first. */
  connect(): Promise<this>;
  /** Closes gracefully, and forcibly when that takes longer than `boundMs` (never hangs). */
  close(boundMs?: number): Promise<void>;
  destroy(): void;
}

export class RedisUnavailable extends Error {
  constructor(what = 'Redis is unavailable') {
    super(what);
  }
}

/** The waits between reconnection attempts: 50 ms doubling up to 2 s. */
export function reconnectDelay(retries: number): number {
  return Math.min(50 * 2 ** Math.min(retries, 6), 2000);
}

const CONNECT_TIMEOUT_MS = 1000;
const DEFAULT_CLOSE_BOUND_MS = 2000;

/** The commands, as the three node-redis types share them (their exact signatures differ only in typing). */
interface Commands {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, options?: SetOptions): Promise<string | null>;
  mGet(keys: string[]): Promise<Array<string | null>>;
  del(keys: string | string[]): Promise<number>;
  pExpire(key: string, ms: number): Promise<number>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  evalSha(sha1: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  publish(channel: string, message: string): Promise<number>;
  sPublish(channel: string, message: string): Promise<number>;
}

function tlsSocket(tls: RedisTlsSettings | undefined): Record<string, unknown> {
  if (!tls) return {};
  return { tls: true, ...(tls.ca ? { ca: tls.ca } : {}), ...(tls.cert ? { cert: tls.cert, key: tls.key } : {}) };
}

/**
 * Options every connection to a data node gets: no offline queue (fail fast), a bounded connect,
 * reconnection with backoff, and no handshake extras an ACL user may not be granted
 * (CLIENT SETINFO, maintenance notifications).
 */
function nodeOptions(settings: RedisConnectionSettings): RedisClientOptions {
  return {
    ...(settings.username ? { username: settings.username } : {}),
    ...(settings.password ? { password: settings.password } : {}),
    disableOfflineQueue: true,
    disableClientInfo: true,
    maintNotifications: 'disabled',
    socket: { connectTimeout: CONNECT_TIMEOUT_MS, reconnectStrategy: reconnectDelay, ...tlsSocket(settings.tls) },
  } as RedisClientOptions;
}

/** Sleeps `ms` unless `cancelled` first; resolves false when cancelled. Never keeps the process alive. */
function pause(ms: number, onCancel: (cancel: () => void) => void): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(true), ms);
    timer.unref();
    onCancel(() => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}

abstract class SharedRedis<R extends RawRedis> extends EventEmitter implements Redis {
  abstract readonly topology: RedisTopology;
  abstract get isReady(): boolean;
  protected closed = false;
  protected connected = false;
  private readonly cancellers = new Set<() => void>();

  constructor(
    protected readonly raw: R,
    protected readonly settings: RedisConnectionSettings,
  ) {
    super();
    // node-redis reports every failed attempt as an 'error' event: forwarded, and never unhandled
    this.on('error', () => undefined);
    (raw as unknown as EventEmitter).on('error', (err: unknown) => this.emit('error', err));
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  get client(): RawRedis {
    return this.raw;
  }

  protected get commands(): Commands {
    return this.raw as unknown as Commands;
  }

  /** Refused at once unless ready: a command never waits for a connection. */
  protected guarded<T>(run: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new RedisUnavailable('Redis connection closed'));
    if (!this.isReady) return Promise.reject(new RedisUnavailable());
    try {
      return run();
    } catch (err) {
      return Promise.reject(err as Error); // node-redis refuses some calls synchronously
    }
  }

  get(key: string): Promise<string | null> {
    return this.guarded(() => this.commands.get(key));
  }

  set(key: string, value: string, options?: SetOptions): Promise<string | null> {
    return this.guarded(() => this.commands.set(key, value, options));
  }

  mGet(keys: string[]): Promise<Array<string | null>> {
    return this.guarded(() => this.commands.mGet(keys));
  }

  del(keys: string | string[]): Promise<number> {
    return this.guarded(() => this.commands.del(keys));
  }

  pExpire(key: string, ms: number): Promise<number> {
    return this.guarded(() => this.commands.pExpire(key, ms));
  }

  eval(script: string, call: ScriptCall): Promise<unknown> {
    return this.guarded(() => this.commands.eval(script, { keys: call.keys, arguments: call.arguments ?? [] }));
  }

  evalSha(sha1: string, call: ScriptCall): Promise<unknown> {
    return this.guarded(() => this.commands.evalSha(sha1, { keys: call.keys, arguments: call.arguments ?? [] }));
  }

  async run(script: RedisScript, call: ScriptCall): Promise<unknown> {
    try {
      return await this.evalSha(script.sha1, call);
    } catch (err) {
      // a node that never ran it (new, restarted, or promoted): once in full, then by hash again
      if (err instanceof Error && err.message.startsWith('NOSCRIPT')) return this.eval(script.lua, call);
      throw err;
    }
  }

  readonly publishCommand: 'PUBLISH' | 'SPUBLISH' = 'PUBLISH';
  abstract publish(channel: string, message: string): Promise<number>;
  abstract subscribe(channel: string, listener: MessageListener): Promise<void>;
  abstract unsubscribe(channel: string, listener?: MessageListener): Promise<void>;
  abstract duplicate(): Redis;

  /** One connection attempt of the underlying client (rejecting when it fails). */
  protected abstract attempt(): Promise<void>;
  /** Closes the underlying client gracefully. */
  protected abstract closeClient(): Promise<void>;
  protected abstract destroyClient(): void;

  private connecting: Promise<this> | undefined;

  connect(): Promise<this> {
    this.connecting ??= this.connectLoop();
    return this.connecting;
  }

  private async connectLoop(): Promise<this> {
    for (let retries = 0; ; retries++) {
      if (this.closed) throw new RedisUnavailable('Redis connection closed before it was established');
      try {
        await this.attempt();
        this.connected = true;
        this.afterConnect();
        return this;
      } catch (err) {
        this.emit('error', err);
      }
      if (!(await this.sleep(reconnectDelay(retries)))) throw new RedisUnavailable('Redis connection closed before it was established');
    }
  }

  /** Called once the first connection is established. */
  protected afterConnect(): void {
    if (this.isReady) this.emit('ready');
  }

  /** Waits `ms`; false when the connection was closed meanwhile. */
  protected sleep(ms: number): Promise<boolean> {
    let cancel: (() => void) | undefined;
    const slept = pause(ms, (c) => {
      cancel = c;
      this.cancellers.add(c);
    });
    return slept.finally(() => cancel && this.cancellers.delete(cancel));
  }

  async close(boundMs = DEFAULT_CLOSE_BOUND_MS): Promise<void> {
    if (this.closed) return;
    this.stop();
    if (!this.connected) {
      this.destroyClient();
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const overdue = new Promise<'overdue'>((resolve) => {
      timer = setTimeout(() => resolve('overdue'), boundMs);
      timer.unref();
    });
    const outcome = await Promise.race([this.closeClient().then(() => 'closed' as const, () => 'failed' as const), overdue]);
    clearTimeout(timer);
    if (outcome !== 'closed') this.destroyClient();
  }

  destroy(): void {
    if (this.closed) return;
    this.stop();
    this.destroyClient();
  }

  private stop(): void {
    if (!this.closed) queueMicrotask(() => this.emit('end'));
    this.closed = true;
    for (const cancel of this.cancellers) cancel();
    this.cancellers.clear();
  }
}

// ───────────────────────────────────────────── one server ─────────────────────────────────────────────

class SingleRedis extends SharedRedis<RedisClientType> {
  readonly topology = 'single';
  /** A connection of its own for subscriptions, opened on the first `subscribe` (the client itself, for a duplicate). */
  private subscriber: RedisClientType | undefined;

  /**
   * @param dedicated a connection made by `duplicate()`, which (as in node-redis) is made to be
   *   subscribed on: its subscriptions use it, not another connection
   */
  constructor(
    settings: Extract<RedisConnectionSettings, { topology: 'single' }>,
    private readonly dedicated = false,
  ) {
    const options = nodeOptions(settings);
    super(createClient({ ...options, url: settings.url, socket: { ...options.socket } } as RedisClientOptions) as RedisClientType, settings);
    this.raw.on('ready', () => this.emit('ready'));
  }

  get isReady(): boolean {
    return !this.closed && this.raw.isReady;
  }

  protected async attempt(): Promise<void> {
    // node-redis keeps reconnecting by itself (reconnectStrategy) once its first connect was made;
    // that first connect itself already retries, so this resolves when Redis first answers
    if (!this.raw.isOpen) await this.raw.connect();
  }

  protected override afterConnect(): void {
    /* node-redis's own 'ready' event is forwarded */
  }

  publish(channel: string, message: string): Promise<number> {
    return this.guarded(() => this.commands.publish(channel, message));
  }

  async subscribe(channel: string, listener: MessageListener): Promise<void> {
    if (!this.isReady) throw new RedisUnavailable();
    if (this.dedicated) this.subscriber = this.raw;
    if (!this.subscriber) {
      const subscriber = this.raw.duplicate();
      subscriber.on('error', () => undefined); // the main connection reports the outage
      this.subscriber = subscriber;
      try {
        await subscriber.connect();
      } catch (err) {
        this.subscriber = undefined;
        subscriber.destroy();
        throw err;
      }
    }
    // node-redis subscribes again by itself after a reconnection
    await this.subscriber.subscribe(channel, listener);
  }

  async unsubscribe(channel: string, listener?: MessageListener): Promise<void> {
    if (this.subscriber?.isReady) await this.subscriber.unsubscribe(channel, listener as Parameters<RedisClientType['unsubscribe']>[1]);
  }

  duplicate(): Redis {
    return new SingleRedis(this.settings as Extract<RedisConnectionSettings, { topology: 'single' }>, true);
  }

  protected async closeClient(): Promise<void> {
    const subscriber = this.subscriber === this.raw ? undefined : this.subscriber;
    this.subscriber = undefined;
    await Promise.all([subscriber?.isOpen ? subscriber.close() : undefined, this.raw.isOpen ? this.raw.close() : undefined]);
  }

  protected destroyClient(): void {
    if (this.subscriber !== this.raw && this.subscriber?.isOpen) this.subscriber.destroy();
    this.subscriber = undefined;
    if (this.raw.isOpen) this.raw.destroy();
  }
}

// ───────────────────────────────────────────── Sentinel ─────────────────────────────────────────────

/** The commands a library may send through `Redis.client`: refused at once while the connection is not ready. */
const LIBRARY_COMMANDS = new Set(['get', 'set', 'mGet', 'del', 'unlink', 'exists', 'expire', 'pExpire', 'pTTL', 'ttl', 'eval', 'evalSha', 'multi', 'publish', 'sendCommand']);

/**
 * A stable stand-in for a node-redis client whose real connection is replaced over time (the
 * primary's, after a failover): every call goes to the current one, and is refused at once while it
 * is not ready (`multi` throws). It never connects by itself and takes no listeners: its owner does.
 */
function forwarding(current: () => RedisClientType | undefined, open: () => boolean): RawRedis {
  const refused = (property: string) => () => {
    if (property === 'multi') throw new RedisUnavailable();
    return Promise.reject(new RedisUnavailable());
  };
  const stand: object = new Proxy(
    {},
    {
      get(_empty, property) {
        switch (property) {
          case 'isOpen':
            return open();
          case 'isReady':
            return current()?.isReady === true;
          case 'connect':
            return () => Promise.resolve(stand);
          case 'on':
          case 'once':
          case 'off':
          case 'addListener':
          case 'removeListener':
            return () => stand;
          case 'then': // not a promise
            return undefined;
        }
        const target = current();
        if (typeof property !== 'string') return undefined;
        if (!target?.isReady) return LIBRARY_COMMANDS.has(property) ? refused(property) : undefined;
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    },
  );
  return stand as RawRedis;
}

/**
 * Sentinel. node-redis's Sentinel client finds the primary and follows the Sentinels' news, but it
 * makes a command wait while it asks them again (at every change, and through a failover, seconds).
 * So it is used here for what it does well — finding the primary, being told of a new one
 * (`MASTER_CHANGE`) and keeping subscriptions on the primary across a failover — and commands go
 * over a plain connection of this class's own to the current primary: refused at once while it is
 * down, replaced when the Sentinels name another.
 */
class SentinelRedis extends SharedRedis<RedisSentinelType> {
  readonly topology = 'sentinel';
  /** The connection to the current primary, for commands. */
  private primary: RedisClientType | undefined;
  private primaryAt: string | undefined;
  private readonly stand = forwarding(
    () => this.primary,
    () => !this.closed,
  );

  constructor(settings: Extract<RedisConnectionSettings, { topology: 'sentinel' }>) {
    const client = createSentinel({
      name: settings.masterName,
      sentinelRootNodes: settings.sentinels,
      nodeClientOptions: nodeOptions(settings),
      sentinelClientOptions: {
        ...(settings.sentinelUsername ? { username: settings.sentinelUsername } : {}),
        ...(settings.sentinelPassword ? { password: settings.sentinelPassword } : {}),
        disableClientInfo: true,
        maintNotifications: 'disabled',
        socket: { connectTimeout: CONNECT_TIMEOUT_MS, ...tlsSocket(settings.tls) },
      },
      // node-redis keeps asking the Sentinels until it has a primary (1 s apart)
      maxCommandRediscovers: Number.MAX_SAFE_INTEGER,
    } as Parameters<typeof createSentinel>[0]) as unknown as RedisSentinelType;
    super(client, settings);
    client.on('topology-change', (event: { type: string; node?: { host: string; port: number } }) => {
      if (event.type === 'MASTER_CHANGE' && event.node) void this.follow(event.node);
    });
  }

  get isReady(): boolean {
    return !this.closed && this.primary?.isReady === true;
  }

  protected override get commands(): Commands {
    return this.primary as unknown as Commands;
  }

  /** For a library (Keyv's store): the current primary's connection, refused at once while it is down. */
  override get client(): RawRedis {
    return this.stand;
  }

  protected override guarded<T>(run: () => Promise<T>): Promise<T> {
    return super.guarded(run).catch((err: unknown) => {
      // a primary demoted behind our back (a change the Sentinels' news did not bring): ask again
      if (err instanceof Error && err.message.startsWith('READONLY')) {
        const node = this.raw.getMasterNode();
        if (node) void this.follow(node);
      }
      throw err;
    });
  }

  protected async attempt(): Promise<void> {
    if (!this.raw.isOpen) await this.raw.connect();
    const node = this.raw.getMasterNode();
    if (!node) throw new RedisUnavailable('the Sentinels name no primary yet');
    await this.follow(node);
  }

  /**
   * Commands go to `node` from now: a new connection to it, the old one dropped. Resolves when it
   * is connected (or replaced, or closed, first).
   */
  private follow(node: { host: string; port: number }): Promise<void> {
    const at = `${node.host}:${node.port}`;
    if (this.closed) return Promise.resolve();
    if (at === this.primaryAt) return this.primaryConnected;
    const options = nodeOptions(this.settings);
    const primary = createClient({ ...options, socket: { ...options.socket, host: node.host, port: node.port } } as RedisClientOptions) as RedisClientType;
    primary.on('error', (err: unknown) => this.emit('error', err));
    primary.on('ready', () => this.emit('ready'));
    const previous = this.primary;
    this.primary = primary;
    this.primaryAt = at;
    if (previous?.isOpen) previous.destroy();
    // failures are reported by 'error'; it keeps trying until replaced or closed
    this.primaryConnected = primary.connect().then(
      () => undefined,
      () => undefined,
    );
    return this.primaryConnected;
  }

  /** Settles when the current primary's connection is first established (or replaced, or closed). */
  private primaryConnected: Promise<void> = Promise.resolve();

  protected override afterConnect(): void {
    /* the primary's connection says 'ready' itself */
  }

  publish(channel: string, message: string): Promise<number> {
    return this.guarded(() => this.commands.publish(channel, message));
  }

  async subscribe(channel: string, listener: MessageListener): Promise<void> {
    if (!this.isReady) throw new RedisUnavailable();
    // node-redis keeps one subscriber connection to the primary, and moves it on failover
    await this.raw.subscribe(channel, listener);
  }

  async unsubscribe(channel: string, listener?: MessageListener): Promise<void> {
    await this.raw.unsubscribe(channel, listener as Parameters<RedisSentinelType['unsubscribe']>[1]);
  }

  duplicate(): Redis {
    return new SentinelRedis(this.settings as Extract<RedisConnectionSettings, { topology: 'sentinel' }>);
  }

  protected async closeClient(): Promise<void> {
    const primary = this.primary;
    this.primary = undefined;
    await Promise.all([primary?.isOpen ? primary.close() : undefined, this.raw.close()]);
  }

  protected destroyClient(): void {
    if (this.primary?.isOpen) this.primary.destroy();
    this.primary = undefined;
    void this.raw.destroy().catch(() => undefined);
  }
}

// ───────────────────────────────────────────── Cluster ─────────────────────────────────────────────

/**
 * A Cluster. node-redis 5 learns a new slot owner only from a MOVED reply, and a dead master sends
 * none (redis/node-redis#2806): after a failover its slots would stay unreachable until the old
 * master came back. So when a master's connection fails, this asks the cluster for its slots again
 * (with backoff) until every slot's master answers, and subscribes its sharded channels again
 * (node-redis drops a removed node's subscriptions).
 */
class ClusterRedis extends SharedRedis<RedisClusterType> {
  override readonly publishCommand = 'SPUBLISH';
  readonly topology = 'cluster';
  private readonly channels = new Map<string, { listeners: Set<MessageListener>; dispatch: (message: string) => void }>();
  private healing = false;

  constructor(settings: Extract<RedisConnectionSettings, { topology: 'cluster' }>) {
    const client = createCluster({
      rootNodes: settings.nodes.map((node) => ({ socket: { host: node.host, port: node.port } })),
      defaults: nodeOptions(settings),
      useReplicas: false,
    } as Parameters<typeof createCluster>[0]) as unknown as RedisClusterType;
    super(client, settings);
    const emitter = client as unknown as EventEmitter;
    // a node's connection failing: reported (its slots are served without Redis meanwhile), then healed
    emitter.on('node-error', (err: unknown) => {
      this.emit('error', err);
      this.heal();
    });
    emitter.on('node-reconnecting', () => this.heal());
  }

  /** Connected, and at least one master answers (a key on a failed master's slots is refused at once). */
  get isReady(): boolean {
    return !this.closed && this.connected && this.raw.masters.some((m) => m.client?.isReady === true);
  }

  protected async attempt(): Promise<void> {
    if (!this.raw.isOpen) {
      await this.raw.connect();
      return;
    }
    // opened by someone else meanwhile (Keyv's store connects a client it finds closed): done once the slots are known
    if (this.raw.masters.length === 0) throw new RedisUnavailable('Redis Cluster still connecting');
  }

  private get allMastersReady(): boolean {
    const masters = this.raw.masters;
    return masters.length > 0 && masters.every((m) => m.client?.isReady === true);
  }

  /** Rediscovers the slots until every master answers; then subscribes the sharded channels again. */
  private heal(): void {
    if (this.healing || !this.connected || this.closed) return;
    this.healing = true;
    void (async () => {
      try {
        for (let retries = 0; !this.closed; retries++) {
          if (!(await this.sleep(reconnectDelay(retries + 2)))) return;
          if (this.allMastersReady) break;
          const via = this.raw.masters.find((m) => m.client?.isReady)?.client ?? this.raw.masters.find((m) => m.client)?.client;
          if (!via) continue;
          try {
            await this.raw._slots.rediscover(via as Parameters<RedisClusterType['_slots']['rediscover']>[0]);
          } catch (err) {
            this.emit('error', err);
          }
        }
        if (this.closed) return;
        await this.resubscribe();
        if (this.isReady) this.emit('ready');
      } finally {
        this.healing = false;
      }
    })();
  }

  private async resubscribe(): Promise<void> {
    for (const [channel, { dispatch }] of this.channels) {
      try {
        await this.raw.sSubscribe(channel, dispatch);
      } catch (err) {
        this.emit('error', err);
      }
    }
  }

  publish(channel: string, message: string): Promise<number> {
    return this.guarded(() => this.commands.sPublish(channel, message));
  }

  async subscribe(channel: string, listener: MessageListener): Promise<void> {
    if (!this.isReady) throw new RedisUnavailable();
    let entry = this.channels.get(channel);
    if (!entry) {
      const listeners = new Set<MessageListener>();
      entry = { listeners, dispatch: (message: string) => listeners.forEach((l) => l(message, channel)) };
      this.channels.set(channel, entry);
    }
    entry.listeners.add(listener);
    try {
      await this.raw.sSubscribe(channel, entry.dispatch);
    } catch (err) {
      entry.listeners.delete(listener);
      if (entry.listeners.size === 0) this.channels.delete(channel);
      throw err;
    }
  }

  async unsubscribe(channel: string, listener?: MessageListener): Promise<void> {
    const entry = this.channels.get(channel);
    if (!entry) return;
    if (listener) entry.listeners.delete(listener);
    else entry.listeners.clear();
    if (entry.listeners.size > 0) return;
    this.channels.delete(channel);
    await this.raw.sUnsubscribe(channel, entry.dispatch);
  }

  duplicate(): Redis {
    return new ClusterRedis(this.settings as Extract<RedisConnectionSettings, { topology: 'cluster' }>);
  }

  protected async closeClient(): Promise<void> {
    await this.raw.close();
  }

  protected destroyClient(): void {
    this.raw.destroy();
  }
}

/** A connection to the configured Redis (not connected yet: call `connect()`). */
export function redisFor(settings: RedisConnectionSettings): Redis {
  switch (settings.topology) {
    case 'single':
      return new SingleRedis(settings);
    case 'sentinel':
      return new SentinelRedis(settings);
    case 'cluster':
      return new ClusterRedis(settings);
  }
}
