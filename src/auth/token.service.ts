import { timingSafeEqual } from 'node:crypto';

import { Injectable, type OnModuleInit } from '@nestjs/common';
import { createLocalJWKSet, createRemoteJWKSet, type JWTPayload, jwtVerify, SignJWT } from 'jose';
import { LRUCache } from 'lru-cache';

import { AuthConfig } from './auth.config.js';
import { SigningKeys } from './signing-keys.js';
import { WALL_CLOCK } from './wall-clock.js';

export interface IssuedAccessToken {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
}

/** Constant-time string equality (length is not secret here; content is). */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

export const VERIFIED_MAX = 10_000;
export const VERIFIED_TTL_MS = 60_000;
/** Clock skew allowed between the token's issuer and this service, in seconds. */
export const CLOCK_TOLERANCE_SECONDS = 5;

/**
 * Why a correctly signed token still lives too long to be accepted, or undefined when it does not:
 * "a stolen token must expire soon". `exp` is required; `iat`, when present, must not lie in the
 * future (beyond the clock tolerance) and `exp − iat` must stay within the maximum lifetime; and
 * whatever `iat` says, `exp` must not lie further ahead than the maximum lifetime.
 */
export function lifetimeRefusal(payload: JWTPayload, nowSeconds: number, maxLifetimeSeconds: number, toleranceSeconds = CLOCK_TOLERANCE_SECONDS): string | undefined {
  if (typeof payload.exp !== 'number') return 'no exp';
  if (typeof payload.iat === 'number') {
    if (payload.iat > nowSeconds + toleranceSeconds) return 'issued in the future';
    if (payload.exp - payload.iat > maxLifetimeSeconds) return 'lifetime too long';
  }
  if (payload.exp - nowSeconds > maxLifetimeSeconds + toleranceSeconds) return 'expires too late';
  return undefined;
}

/** Issues and verifies the service's short-lived JWTs (and, if configured, an external IdP's). */
@Injectable()
export class TokenService implements OnModuleInit {
  private remote: ReturnType<typeof createRemoteJWKSet> | undefined;
  /**
   * Verified tokens and the checks running (lru-cache `fetch`: one check per token however many
   * calls wait for it; an invalid token is not kept). A token is kept until it expires, at most
   * VERIFIED_TTL_MS; a check still running when it is pushed out still answers its callers.
   */
  private readonly verified = new LRUCache<string, JWTPayload>({
    max: VERIFIED_MAX,
    ttl: VERIFIED_TTL_MS,
    perf: WALL_CLOCK,
    ttlResolution: 0,
    ignoreFetchAbort: true,
    fetchMethod: async (token, _stale, { options }) => {
      const payload = await this.verifySignature(token);
      if (!payload || typeof payload.exp !== 'number') return undefined;
      // already past exp but inside the clock tolerance: accepted this once, kept for 1 ms (0 would mean forever)
      options.ttl = Math.max(1, Math.min(payload.exp * 1000 - Date.now(), VERIFIED_TTL_MS));
      return payload;
    },
  });
  /** Built once from our published keys (imported keys are cached inside it), not per request. */
  private local: ReturnType<typeof createLocalJWKSet> | undefined;

  constructor(
    private readonly config: AuthConfig,
    private readonly keys: SigningKeys,
  ) {}

  onModuleInit(): void {
    if (this.config.jwtJwksUrl) this.remote = createRemoteJWKSet(new URL(this.config.jwtJwksUrl), { cooldownDuration: 30_000, timeoutDuration: 2_000 });
  }

  /**
   * Client credentials → a token; 'invalid_client' when they are wrong (checked in constant time).
   * `requestedScope` (RFC 6749 §3.3, space-separated) narrows the token to fewer of the client's
   * scopes, e.g. a read-only token for the agent side panel; asking for more is 'invalid_scope'.
   */
  async issue(clientId: string, clientSecret: string, requestedScope?: string): Promise<IssuedAccessToken | 'invalid_client' | 'invalid_scope'> {
    const id = this.config.tokenClientId;
    const secret = this.config.tokenClientSecret;
    if (!id || !secret) return 'invalid_client';
    const idOk = safeEqual(clientId, id);
    const secretOk = safeEqual(clientSecret, secret);
    if (!idOk || !secretOk) return 'invalid_client';
    const allowed = this.config.tokenClientScopes;
    const requested = requestedScope?.split(' ').filter((s) => s.length > 0) ?? [];
    if (requested.some((s) => !allowed.includes(s))) return 'invalid_scope';
    const key = this.keys.current;
    const scope = (requested.length > 0 ? allowed.filter((s) => requested.includes(s)) : allowed).join(' ');
    const token = await new SignJWT({ scope })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
      .setIssuer(this.config.jwtIssuer)
      .setAudience(this.config.jwtAudience)
      .setSubject(clientId)
      .setIssuedAt()
      .setExpirationTime(`${this.config.jwtTtlSeconds}s`)
      .sign(key.privateKey);
    return { access_token: token, token_type: 'Bearer', expires_in: this.config.jwtTtlSeconds, scope };
  }

  /**
   * The token's claims when it is valid (signature, iss, aud, exp required, lifetime within
   * JWT_MAX_LIFETIME_SECONDS, not issued in the future), else undefined. A token once
   * verified is remembered until it expires (at most a minute, at most VERIFIED_MAX tokens): a
   * signature check costs more CPU than a whole cached screen pop, and Genesys reuses its token
   * for every call until it expires.
   */
  async verify(token: string): Promise<JWTPayload | undefined> {
    // a burst of calls with one new token (a shift starting) checks its signature once
    return this.verified.fetch(token);
  }

  /**
   * The claims of a token verified before and not expired since, without waiting (undefined for
   * one not verified yet, being verified now, or refused: `verify` judges those).
   */
  verifiedBefore(token: string): JWTPayload | undefined {
    return this.verified.get(token);
  }

  private async verifySignature(token: string): Promise<JWTPayload | undefined> {
    const options = { issuer: this.config.jwtIssuer, audience: this.config.jwtAudience, algorithms: ['ES256', 'RS256'], clockTolerance: CLOCK_TOLERANCE_SECONDS, requiredClaims: ['exp'] };
    let payload: JWTPayload | undefined;
    try {
      this.local ??= createLocalJWKSet({ keys: this.keys.published });
      payload = (await jwtVerify(token, this.local, options)).payload;
    } catch {
      if (!this.remote) return undefined;
      try {
        payload = (await jwtVerify(token, this.remote, options)).payload;
      } catch {
        return undefined;
      }
    }
    return lifetimeRefusal(payload, Math.floor(Date.now() / 1000), this.config.jwtMaxLifetimeSeconds) === undefined ? payload : undefined;
  }
}

export function scopesOf(payload: JWTPayload): Set<string> {
  const scope = payload.scope ?? payload.scp;
  const list = Array.isArray(scope) ? scope : typeof scope === 'string' ? scope.split(' ') : [];
  return new Set(list.filter((s): s is string => typeof s === 'string' && s.length > 0));
}
