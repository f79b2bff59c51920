import { randomBytes } from 'node:crypto';
import type { Logger } from '@nestjs/common';

/** The Redis commands the lease uses (the service's shared client provides them). */
export interface LeaseRedis {
  readonly isReady: boolean;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
}

/** Take the lease if nobody has it; hand back what the last holder noted (or '' when nothing). */
const ACQUIRE = `
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  local seen = redis.call('get', KEYS[2])
  redis.call('set', KEYS[2], ARGV[3], 'PX', ARGV[4])
  if seen then return seen else return '' end
end
return false`;
/** Extend our lease (and our note) if it is still ours. */
const RENEW = `
if redis.call('get', KEYS[1]) == ARGV[1] then
  redis.call('pexpire', KEYS[1], ARGV[2])
  redis.call('set', KEYS[2], ARGV[3], 'PX', ARGV[4])
  return 1
end
return 0`;
/** Give the lease up if it is still ours (compare-and-delete), leaving our last note for the next holder. */
const RELEASE = `
if redis.call('get', KEYS[1]) == ARGV[1] then
  redis.call('set', KEYS[2], ARGV[2], 'PX', ARGV[3])
  return redis.call('del', KEYS[1])
end
return 0`;

/** How long the holder's note outlives it (a replica taking over later than this learns nothing from it). */
const NOTE_TTL_MS = 3_600_000;
/** The holder treats the lease as lost this much before Redis would expire it, so two holders never overlap. */
const SAFETY_SHARE = 0.2;
/** How long a Redis client that has never connected yet is waited for quietly. */
const STARTUP_GRACE_MS = 10_000;

export interface LeaseHandlers {
  /** We hold the lease now; `previousNote` is what the last holder noted when it last renewed or released ('' when nothing). */
  acquired(previousNote: string): void;
  /** We no longer hold it (another replica has it, or Redis could not confirm it in time). */
  lost(): void;
  /** A short note renewed with the lease, for whoever holds it next. */
  note(): string;
}

export interface LeaseOptions {
  /** Redis key of the lease; its note lives beside it (same hash slot). */
  key: string;
  ttlMs: number;
  renewMs: number;
  logger: Logger;
  now?: () => number;
}

/**
 * One holder at a time, across replicas: `SET key token NX PX ttl`, renewed every `renewMs` by
 * compare-and-expire, given up by compare-and-delete. The holder counts itself as holding only
 * until `ttl × 0.8` after the last renewal Redis confirmed, so it stops before any other replica
 * can take over; the others try every `renewMs`, and one takes over at most `ttl + renewMs` after
 * the holder died (at once after it released the lease on shutdown, within `renewMs`).
 * Without Redis (in-memory mode) this process is the only one and holds it from the start.
 */
export class SubscriptionLease {
  private readonly token = randomBytes(12).toString('base64url');
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private holding = false;
  private validUntil = 0;
  private running = false;
  private ticking: Promise<void> | undefined;
  private handlers: LeaseHandlers | undefined;
  private warned = false;
  private startedAt = 0;
  private seenReady = false;

  constructor(
    private readonly redis: LeaseRedis | null,
    private readonly options: LeaseOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  private get noteKey(): string {
    return `${this.options.key}:seen`;
  }

  /** Whether we may act as the holder right now. */
  held(): boolean {
    return this.holding && (this.redis === null || this.now() < this.validUntil);
  }

  start(handlers: LeaseHandlers): void {
    if (this.running) return;
    this.running = true;
    this.startedAt = this.now();
    this.handlers = handlers;
    if (this.redis === null) {
      this.holding = true;
      handlers.acquired('');
      return;
    }
    const loop = () => {
      if (!this.running) return;
      this.ticking = this.tick().finally(() => {
        this.ticking = undefined;
        if (!this.running) return;
        this.timer = setTimeout(loop, this.options.renewMs);
        this.timer.unref();
      });
    };
    loop();
  }

  /** Stops trying; releases the lease if we hold it (another replica can take it over at once). */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.ticking;
    if (!this.holding) return;
    this.holding = false;
    const redis = this.redis;
    const note = this.handlers?.note() ?? '';
    this.handlers?.lost();
    if (!redis?.isReady) return;
    try {
      await redis.eval(RELEASE, { keys: [this.options.key, this.noteKey], arguments: [this.token, note, String(NOTE_TTL_MS)] });
    } catch {
      /* it expires by itself */
    }
  }

  private async tick(): Promise<void> {
    const redis = this.redis as LeaseRedis;
    const handlers = this.handlers as LeaseHandlers;
    const startedAt = this.now();
    const ttl = String(this.options.ttlMs);
    // a client still making its first connection is not an outage worth a warning (for a while)
    if (!redis.isReady && !this.seenReady && startedAt - this.startedAt < STARTUP_GRACE_MS) return;
    try {
      if (!redis.isReady) throw new Error('redis not connected');
      this.seenReady = true;
      if (this.holding) {
        const renewed = await redis.eval(RENEW, { keys: [this.options.key, this.noteKey], arguments: [this.token, ttl, handlers.note(), String(NOTE_TTL_MS)] });
        if (Number(renewed) === 1) this.validUntil = startedAt + this.options.ttlMs * (1 - SAFETY_SHARE);
        else this.lose('another replica holds the subscription lease now');
      } else {
        const previous = await redis.eval(ACQUIRE, { keys: [this.options.key, this.noteKey], arguments: [this.token, ttl, handlers.note(), String(NOTE_TTL_MS)] });
        if (typeof previous === 'string') {
          this.holding = true;
          this.validUntil = startedAt + this.options.ttlMs * (1 - SAFETY_SHARE);
          this.options.logger.log({ msg: 'this replica holds the Genesys notification subscription now' });
          handlers.acquired(previous);
        }
      }
      this.warned = false;
    } catch (err) {
      if (!this.warned) this.options.logger.warn({ msg: 'the subscription lease cannot be checked in Redis; no replica follows Genesys notifications until it can', err: (err as Error).message });
      this.warned = true;
      if (this.holding && this.now() >= this.validUntil) this.lose('the lease could not be renewed in time');
    }
  }

  private lose(why: string): void {
    if (!this.holding) return;
    this.holding = false;
    this.options.logger.warn({ msg: 'this replica gave up the Genesys notification subscription', why });
    this.handlers?.lost();
  }
}
