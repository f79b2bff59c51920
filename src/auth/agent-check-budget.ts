import { Injectable } from '@nestjs/common';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';

import { AuthConfig } from './auth.config.js';

/**
 * How many opaque tokens one client may have Genesys check per minute without success: each new
 * check takes one unit before Genesys is asked (so a burst is bounded too), and an accepted token
 * gives it back. A client sending random tokens therefore costs at most
 * AGENT_TOKEN_REFUSALS_PER_MIN calls to /api/v2/tokens/me a minute per replica; agents behind
 * one address (a contact center's NAT) only ever hold a unit for the moment their check runs.
 * Tokens already judged are answered from the verifier's cache and never take a unit.
 */
@Injectable()
export class AgentCheckBudget {
  private readonly limiter: RateLimiterMemory;

  constructor(config: AuthConfig) {
    this.limiter = new RateLimiterMemory({ keyPrefix: 'agent-checks', points: config.agentTokenRefusalsPerMin, duration: 60 });
  }

  /** Takes a unit for `client`: undefined when taken, else the seconds until one is free again. */
  async take(client: string): Promise<number | undefined> {
    try {
      await this.limiter.consume(client);
      return undefined;
    } catch (refusal) {
      if (refusal instanceof RateLimiterRes) return Math.max(1, Math.ceil(refusal.msBeforeNext / 1000));
      throw refusal;
    }
  }

  /** Gives a unit back: the token was accepted, or Genesys could not say. */
  async giveBack(client: string): Promise<void> {
    await this.limiter.reward(client, 1);
  }
}
