import { Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { AuthConfig } from './auth.config.js';
import { WALL_CLOCK } from './wall-clock.js';

/** One budget window. */
const WINDOW_MS = 60_000;
/**
 * Clients with a running window, at most: the least recently charged go first (their budget
 * starts again, so an eviction only ever lets a client through sooner, never refuses one).
 */
export const AGENT_CHECK_CLIENTS_MAX = 10_000;

/**
 * How many opaque tokens one client may have Genesys check per minute without success: each new
 * check takes one unit before Genesys is asked (so a burst is bounded too), and an accepted token
 * gives it back. A client sending random tokens therefore costs at most
 * AGENT_TOKEN_REFUSALS_PER_MIN calls to /api/v2/tokens/me a minute per replica; agents behind
 * one address (a contact center's NAT) only ever hold a unit for the moment their check runs.
 * Tokens already judged are answered from the verifier's cache and never take a unit.
 *
 * The count lives in an lru-cache: bounded in clients, a fixed window from the client's first
 * unit (`noUpdateTTL`), on the wall clock, with no timer per client.
 */
@Injectable()
export class AgentCheckBudget {
  private readonly points: number;
  private readonly used = new LRUCache<string, number>({ max: AGENT_CHECK_CLIENTS_MAX, ttl: WINDOW_MS, noUpdateTTL: true, perf: WALL_CLOCK, ttlResolution: 0 });

  constructor(config: AuthConfig) {
    this.points = config.agentTokenRefusalsPerMin;
  }

  /** Takes a unit for `client`: undefined when taken, else the seconds until one is free again. */
  async take(client: string): Promise<number | undefined> {
    const used = this.used.get(client) ?? 0;
    if (used >= this.points) return Math.max(1, Math.ceil(this.used.getRemainingTTL(client) / 1000));
    this.used.set(client, used + 1);
    return undefined;
  }

  /** Gives a unit back: the token was accepted, or Genesys could not say. */
  async giveBack(client: string): Promise<void> {
    const used = this.used.get(client);
    if (used !== undefined && used > 0) this.used.set(client, used - 1);
  }
}
