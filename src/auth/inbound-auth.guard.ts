import { HttpException, HttpStatus, Injectable, Logger, ServiceUnavailableException, SetMetadata, applyDecorators, UseGuards, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { RawBodyRequest } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiBearerAuth, ApiSecurity } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isConnectorError } from '../connectors/connector.errors.js';
import { GenesysConfig } from '../genesys/genesys.config.js';
import { ForbiddenPolicyException } from '../observability/forbidden.exception.js';
import { InvalidSignatureException } from '../observability/invalid-signature.exception.js';
import { AgentCheckBudget } from './agent-check-budget.js';
import { AuthConfig } from './auth.config.js';
import { clientAddress, clientBudgetKey } from './ip-allowlist/client-ip.js';
import { AGENT_SCOPES, GenesysAgentVerifier, type AgentVerdict } from './genesys-agent.verifier.js';
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

  constructor(
    private readonly reflector: Reflector,
    private readonly config: AuthConfig,
    private readonly genesys: GenesysConfig,
    private readonly tokens: TokenService,
    private readonly signatures: SignatureVerifier,
    private readonly agents: GenesysAgentVerifier,
    private readonly agentChecks: AgentCheckBudget,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const meta = this.reflector.getAllAndOverride<SurfaceMeta | undefined>(SURFACE, [context.getHandler(), context.getClass()]);
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
    if (bearer !== undefined && isJwtShaped(bearer)) {
      // ours or the configured IdP's; a JWT is never sent to Genesys
      const claims = modes.includes('jwt') ? await this.tokens.verify(bearer) : undefined;
      if (claims) {
        if (meta.scope && !scopesOf(claims).has(meta.scope)) return this.refuse(request, 'scope', true);
        return true;
      }
    } else if (bearer !== undefined && modes.includes('genesys-agent') && GENESYS_TOKEN.test(bearer)) {
      const verdict = await this.agentVerdict(request, context.switchToHttp().getResponse<FastifyReply>(), bearer);
      if (verdict === 'foreign') return this.refuse(request, 'organization', true);
      if (verdict === 'accepted') {
        if (meta.scope && !AGENT_SCOPES.has(meta.scope)) return this.refuse(request, 'scope', true);
        return true;
      }
    }
    const key = request.headers['x-api-key'];
    if (modes.includes('apikey') && typeof key === 'string' && this.config.genesysApiKey && safeEqual(key, this.config.genesysApiKey)) return true;
    if (modes.includes('hmac') && (await this.signatures.refusal(request)) === undefined) return true;
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
        kind: isConnectorError(err) ? err.kind : 'unknown',
        status: isConnectorError(err) ? err.status : undefined,
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
