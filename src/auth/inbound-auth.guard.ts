import { Injectable, Logger, SetMetadata, applyDecorators, UseGuards, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { RawBodyRequest } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiBearerAuth, ApiSecurity } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { GenesysConfig } from '../genesys/genesys.config.js';
import { ForbiddenPolicyException } from '../observability/forbidden.exception.js';
import { InvalidSignatureException } from '../observability/invalid-signature.exception.js';
import { AuthConfig } from './auth.config.js';
import { SignatureVerifier } from './signature-verifier.js';
import { safeEqual, scopesOf, TokenService } from './token.service.js';

const SURFACE = Symbol('auth-surface');
interface SurfaceMeta {
  surface: 'genesys' | 'internal';
  scope?: string;
}

/**
 * Marks a route as Genesys-facing or internal (with the scope it needs). The accepted mechanisms
 * come from configuration (GENESYS_AUTH, INTERNAL_AUTH), not from the code.
 */
export const Authenticated = (surface: 'genesys' | 'internal', scope?: string) =>
  applyDecorators(SetMetadata(SURFACE, { surface, scope } satisfies SurfaceMeta), UseGuards(InboundAuthGuard), ApiBearerAuth(), ...(surface === 'genesys' ? [ApiSecurity('apiKey')] : []));

/**
 * One guard for every inbound mechanism. A request passes when any configured mechanism accepts
 * it: a Bearer JWT (ours or the configured IdP's, with the route's scope), the static API key
 * (constant-time), or an HMAC body signature. Genesys calls may also have to carry the configured
 * ININ-Organization-Id. Failures are a plain 401 {"error":"Invalid Signature"}; policy refusals a
 * plain 403.
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
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const meta = this.reflector.getAllAndOverride<SurfaceMeta | undefined>(SURFACE, [context.getHandler(), context.getClass()]);
    if (!meta) return true;
    const request = context.switchToHttp().getRequest<RawBodyRequest<FastifyRequest>>();
    const modes = meta.surface === 'genesys' ? this.config.genesysAuth : [this.config.internalAuth];
    if (meta.surface === 'genesys' && this.config.requireGenesysOrg && this.genesys.orgId) {
      const org = request.headers['inin-organization-id'];
      if (typeof org !== 'string' || !safeEqual(org, this.genesys.orgId)) return this.refuse(request, 'organization', true);
    }
    if (modes.includes('none')) return true;

    const auth = request.headers.authorization;
    if (modes.includes('jwt') && typeof auth === 'string' && /^bearer /i.test(auth)) {
      const claims = await this.tokens.verify(auth.slice(7).trim());
      if (claims) {
        if (meta.scope && !scopesOf(claims).has(meta.scope)) return this.refuse(request, 'scope', true);
        return true;
      }
    }
    const key = request.headers['x-api-key'];
    if (modes.includes('apikey') && typeof key === 'string' && this.config.genesysApiKey && safeEqual(key, this.config.genesysApiKey)) return true;
    if (modes.includes('hmac') && (await this.signatures.refusal(request)) === undefined) return true;
    return this.refuse(request, 'credentials', false);
  }

  private refuse(request: FastifyRequest, reason: string, policy: boolean): never {
    this.logger.warn({ msg: 'request refused', reason, correlationId: request.id, route: request.routeOptions?.url });
    throw policy ? new ForbiddenPolicyException() : new InvalidSignatureException();
  }
}
