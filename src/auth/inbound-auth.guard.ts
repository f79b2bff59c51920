import type { RawBodyRequest } from '@nestjs/common';
import { applyDecorators, type CanActivate, type ExecutionContext, HttpException, HttpStatus, Injectable, Logger, ServiceUnavailableException, SetMetadata, UseGuards } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiBearerAuth, ApiSecurity } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { JWTPayload } from 'jose';

import { GenesysConfig } from '../config/genesys.config.js';
import { ForbiddenPolicyException } from '../observability/forbidden.exception.js';
import { InvalidSignatureException } from '../observability/invalid-signature.exception.js';
import { isUpstreamError } from '../upstream/upstream-error.js';
import { AgentCheckBudget } from './agent-check-budget.js';
import { AGENT_SCOPES, AgentTokenVerifier, type AgentVerdict } from './agent-token.verifier.js';
import { AuthConfig } from './auth.config.js';
import { clientAddress, clientBudgetKey } from './ip-allowlist/client-ip.js';
import { SignatureVerifier } from './signature-verifier.js';
import { safeEqual, scopesOf, TokenService } from './token.service.js';

const SURFACE = Symbol('auth-surface');
interface SurfaceMeta {
  surface: 'genesys' | 'internal';
  scope?: string;
}

/** A bearer token Genesys could have issued: printable ASCII without spaces, of a sane length (anything else is not forwarded). */
const GENESYS_TOKEN = /^[\x21-\x7e]{16,4096}$/;

/**
 * A compact JWS (header.payload.signature, base64url, a JSON header naming its alg): our tokens and
 * an IdP's. Genesys Cloud access tokens are opaque, so the two kinds never meet: a JWT is only ever
 * verified against our keys (or the IdP's), an opaque token only ever sent to Genesys.
 */
export function isJwtShaped(token: string): boolean {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((p, i) => (i === 2 ? /^[A-Za-z0-9_-]*$/ : /^[A-Za-z0-9_-]+$/).test(p))) return false;
  try {
    const header: unknown = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
    return typeof header === 'object' && header !== null && typeof (header as { alg?: unknown }).alg === 'string';
  } catch {
    return false;
  }
}

/**
 * Marks a route as Genesys-facing or internal (with the scope it needs). The accepted mechanisms
 * come from configuration (GENESYS_AUTH, INTERNAL_AUTH), not from the code.
 */
export const Authenticated = (surface: 'genesys' | 'internal', scope?: string) =>
  applyDecorators(SetMetadata(SURFACE, { surface, scope } satisfies SurfaceMeta), UseGuards(InboundAuthGuard), ApiBearerAuth(), ...(surface === 'genesys' ? [ApiSecurity('apiKey')] : []));

/**
 * One guard for every inbound mechanism. A request passes when any configured mechanism accepts
 * it: a Bearer JWT (ours or the configured IdP's, with the route's scope), an agent's opaque Genesys
 * Cloud token (genesys-agent: verified by Genesys, of GENESYS_ORG_ID, scope customer:read only), the
 * static API key (constant-time), or an HMAC body signature. Genesys calls may also have to carry
 * the configured ININ-Organization-Id. Failures are a plain 401 {"error":"Invalid Signature"};
 * policy refusals (scope, another organization) a plain 403; an agent token Genesys could not
 * verify (outage, timeout) a 503.
 */
@Injectable()
export class InboundAuthGuard implements CanActivate {
  private readonly logger = new Logger('InboundAuth');
  /** The scopes of each verified token's claims (the claims objects are the token cache's own). */
  private readonly scopes = new WeakMap<JWTPayload, Set<string>>();
  /** Each route's @Authenticated (null: none), by handler and class. */
  private readonly metas = new WeakMap<object, WeakMap<object, SurfaceMeta | null>>();

  constructor(
    private readonly reflector: Reflector,
    private readonly config: AuthConfig,
    private readonly genesys: GenesysConfig,
    private readonly tokens: TokenService,
    private readonly signatures: SignatureVerifier,
    private readonly agents: AgentTokenVerifier,
    private readonly agentChecks: AgentCheckBudget,
  ) {}

  /**
   * Answers without a promise when it can (a JWT verified before, the API key): most calls carry
   * the same credential again and again, and Nest takes a plain boolean as it is. Anything else
   * takes `judge`, with the same outcomes.
   */
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const meta = this.metaFor(context.getHandler(), context.getClass());
    if (!meta) return true;
    const request = context.switchToHttp().getRequest<RawBodyRequest<FastifyRequest>>();
    const modes = meta.surface === 'genesys' ? this.config.genesysAuth : this.config.internalAuth;
    if (meta.surface === 'genesys' && this.config.requireGenesysOrg && this.genesys.orgId) {
      const org = request.headers['inin-organization-id'];
      if (typeof org !== 'string' || !safeEqual(org, this.genesys.orgId)) return this.refuse(request, 'organization', true);
    }
    if (modes.includes('none')) return true;

    const auth = request.headers.authorization;
    const bearer = typeof auth === 'string' && /^bearer /i.test(auth) ? auth.slice(7).trim() : undefined;
    if (bearer === undefined) return this.withoutBearer(request, modes);
    // only a JWT-shaped token that passed verification is remembered there
    const known = modes.includes('jwt') ? this.tokens.verifiedBefore(bearer) : undefined;
    if (known) return this.inScope(request, meta, known);
    return this.judge(context, request, meta, modes, bearer);
  }

  /** The route's @Authenticated, read once per handler and class (decorators are fixed at start-up). */
  private metaFor(handler: object, classRef: object): SurfaceMeta | undefined {
    let byClass = this.metas.get(handler);
    if (byClass === undefined) this.metas.set(handler, (byClass = new WeakMap()));
    let meta = byClass.get(classRef);
    if (meta === undefined) byClass.set(classRef, (meta = this.reflector.getAllAndOverride<SurfaceMeta | undefined>(SURFACE, [handler as () => void, classRef as new () => unknown]) ?? null));
    return meta ?? undefined;
  }

  private async judge(context: ExecutionContext, request: RawBodyRequest<FastifyRequest>, meta: SurfaceMeta, modes: readonly string[], bearer: string): Promise<boolean> {
    if (isJwtShaped(bearer)) {
      // ours or the configured IdP's; a JWT is never sent to Genesys
      const claims = modes.includes('jwt') ? await this.tokens.verify(bearer) : undefined;
      if (claims) return this.inScope(request, meta, claims);
    } else if (modes.includes('genesys-agent') && GENESYS_TOKEN.test(bearer)) {
      const verdict = await this.agentVerdict(request, context.switchToHttp().getResponse<FastifyReply>(), bearer);
      if (verdict === 'foreign') return this.refuse(request, 'organization', true);
      if (verdict === 'accepted') {
        if (meta.scope && !AGENT_SCOPES.has(meta.scope)) return this.refuse(request, 'scope', true);
        return true;
      }
    }
    return this.withoutBearer(request, modes);
  }

  /** A valid JWT's claims against the route's scope (the scope list read once per token). */
  private inScope(request: FastifyRequest, meta: SurfaceMeta, claims: JWTPayload): true {
    if (!meta.scope) return true;
    let scopes = this.scopes.get(claims);
    if (scopes === undefined) this.scopes.set(claims, (scopes = scopesOf(claims)));
    return scopes.has(meta.scope) || this.refuse(request, 'scope', true);
  }

  /** The mechanisms that do not take a bearer token: the API key, an HMAC signature. */
  private withoutBearer(request: RawBodyRequest<FastifyRequest>, modes: readonly string[]): boolean | Promise<boolean> {
    const key = request.headers['x-api-key'];
    if (modes.includes('apikey') && typeof key === 'string' && this.config.genesysApiKey && safeEqual(key, this.config.genesysApiKey)) return true;
    if (modes.includes('hmac')) return this.signatures.refusal(request).then((refusal) => refusal === undefined || this.refuse(request, 'credentials', false));
    return this.refuse(request, 'credentials', false);
  }

  /**
   * Genesys's verdict on an agent token; when Genesys cannot answer, a 503 (never a 401: the token
   * may be fine, and the panel would sign in again for nothing). A token not judged before takes
   * one unit of the client's check budget first (given back when accepted): a client whose tokens
   * Genesys keeps refusing gets a 429 without Genesys being asked.
   */
  private async agentVerdict(request: FastifyRequest, reply: FastifyReply, token: string): Promise<AgentVerdict> {
    const client = this.agents.knows(token) ? undefined : clientBudgetKey(clientAddress(request));
    if (client !== undefined) {
      const waitSeconds = await this.agentChecks.take(client);
      if (waitSeconds !== undefined) {
        this.logger.warn({ msg: 'agent token checks exhausted for this client; not asking Genesys', correlationId: request.id, route: request.routeOptions?.url });
        void reply.header('retry-after', String(waitSeconds));
        throw new HttpException('Too many requests; retry later', HttpStatus.TOO_MANY_REQUESTS);
      }
    }
    let verdict: AgentVerdict;
    try {
      verdict = await this.agents.verify(token);
    } catch (err) {
      if (client !== undefined) await this.agentChecks.giveBack(client);
      this.logger.warn({
        msg: 'Genesys Cloud could not verify an agent token',
        source: 'genesys',
        kind: isUpstreamError(err) ? err.kind : 'unknown',
        status: isUpstreamError(err) ? err.status : undefined,
        correlationId: request.id,
        route: request.routeOptions?.url,
      });
      throw new ServiceUnavailableException();
    }
    if (client !== undefined && verdict === 'accepted') await this.agentChecks.giveBack(client);
    return verdict;
  }

  private refuse(request: FastifyRequest, reason: string, policy: boolean): never {
    this.logger.warn({ msg: 'request refused', reason, correlationId: request.id, route: request.routeOptions?.url });
    throw policy ? new ForbiddenPolicyException() : new InvalidSignatureException();
  }
}
