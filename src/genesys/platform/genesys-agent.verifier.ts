import { createHash } from 'node:crypto';

import { Inject, Injectable, Optional } from '@nestjs/common';

import { AgentTokenVerifier, type AgentVerdict } from '../../auth/agent-token.verifier.js';
import { safeEqual } from '../../auth/token.service.js';
import { GenesysConfig } from '../../config/genesys.config.js';
import { GENESYS_PLATFORM_CLOCK, type GenesysPlatformClock } from './genesys-clock.js';
import { GenesysTokenInfoClient } from './genesys-token-info.client.js';

/** How long a verdict is kept. An accepted token is re-checked at least this often (sooner if Genesys says it idles sooner). */
export const ACCEPTED_TTL_MS = 60_000;
/** A token of another org or client stays foreign; kept as long as an accepted one. */
export const FOREIGN_TTL_MS = 60_000;
/** An unknown token is re-asked about soon (it may have been issued a moment ago on another Genesys node). */
export const REJECTED_TTL_MS = 10_000;
/** Bound of the in-process verdict cache (oldest entries go first). */
export const MAX_CACHED_VERDICTS = 10_000;

/** A token is kept and looked up under its SHA-256 only. */
function keyOf(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url');
}

interface Cached {
  verdict: AgentVerdict;
  until: number;
}

/**
 * The inbound guard's AgentTokenVerifier, with Genesys Cloud: verifies opaque access tokens (an
 * agent's, from the side panel's PKCE sign-in) by asking Genesys (`GET /api/v2/tokens/me` with the
 * token) and comparing its organization with GENESYS_ORG_ID and, when WIDGET_OAUTH_CLIENT_ID is
 * set, its OAuth client with that one (both GenesysConfig: it reads no other module's settings). Verdicts are cached in-process under the token's SHA-256 (the raw token is
 * neither stored nor logged), bounded in size; concurrent checks of one token share one call.
 * When Genesys cannot answer, `verify` throws (UpstreamError) and nothing is cached.
 */
@Injectable()
export class GenesysAgentVerifier implements AgentTokenVerifier {
  private readonly cache = new Map<string, Cached>();
  private readonly inflight = new Map<string, Promise<AgentVerdict>>();
  private readonly now: () => number;

  constructor(
    private readonly client: GenesysTokenInfoClient,
    private readonly genesys: GenesysConfig,
    @Optional() @Inject(GENESYS_PLATFORM_CLOCK) clock?: GenesysPlatformClock,
  ) {
    this.now = clock?.now ?? Date.now;
  }

  /** Number of cached verdicts (for tests and health detail). */
  get size(): number {
    return this.cache.size;
  }

  /** Whether `verify(token)` would be answered without a new call to Genesys (a live verdict, or a check already running). */
  knows(token: string): boolean {
    const key = keyOf(token);
    const cached = this.cache.get(key);
    return (cached !== undefined && cached.until > this.now()) || this.inflight.has(key);
  }

  async verify(token: string): Promise<AgentVerdict> {
    const key = keyOf(token);
    const cached = this.cache.get(key);
    if (cached) {
      if (cached.until > this.now()) return cached.verdict;
      this.cache.delete(key);
    }
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.ask(key, token).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return pending;
  }

  private async ask(key: string, token: string): Promise<AgentVerdict> {
    const info = await this.client.tokenInfo(token);
    const now = this.now();
    let verdict: AgentVerdict;
    let until: number;
    if (!info) {
      verdict = 'rejected';
      until = now + REJECTED_TTL_MS;
    } else if (!this.ours(info.organizationId, info.oauthClientId)) {
      verdict = 'foreign';
      until = now + FOREIGN_TTL_MS;
    } else {
      verdict = 'accepted';
      until = Math.min(now + ACCEPTED_TTL_MS, info.idlesAt ?? Infinity);
    }
    if (until > now) this.remember(key, { verdict, until });
    return verdict;
  }

  private ours(organizationId: string, oauthClientId: string | undefined): boolean {
    const org = this.genesys.orgId;
    if (!org || !safeEqual(organizationId, org)) return false;
    const pinned = this.genesys.agentOauthClientId;
    return !pinned || (oauthClientId !== undefined && safeEqual(oauthClientId, pinned));
  }

  private remember(key: string, entry: Cached): void {
    this.cache.delete(key);
    while (this.cache.size >= MAX_CACHED_VERDICTS) {
      const oldest = this.cache.keys().next().value;
      if (oldest === undefined) break;
      this.cache.delete(oldest);
    }
    this.cache.set(key, entry);
  }
}
