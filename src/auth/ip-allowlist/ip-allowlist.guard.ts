import { Injectable, Logger, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AddressSet } from './cidr.js';
import { clientAddress } from './client-ip.js';
import { ForbiddenPolicyException } from './forbidden-policy.exception.js';
import { IpAllowlistConfig } from './ip-allowlist.config.js';
import { IpRangesRefresher } from './ip-ranges.refresher.js';

/**
 * Lets a request through only from an allowed network: GENESYS_ALLOWED_CIDRS plus the Genesys
 * IP ranges the refresher keeps. The client is `request.ip` as Fastify determined it: the socket's
 * peer, or — behind a trusted proxy (TRUSTED_PROXY_CIDRS, Fastify's `trustProxy`, see
 * client-ip.ts) — the first untrusted hop of X-Forwarded-For read from the right. With
 * neither networks nor a refresh configured the allowlist is off. A refusal (or an unknowable
 * client) is a plain `403 {"error":"Forbidden"}`.
 */
@Injectable()
export class IpAllowlistGuard implements CanActivate {
  private readonly logger = new Logger(IpAllowlistGuard.name);
  private readonly allowed: AddressSet;

  constructor(
    private readonly config: IpAllowlistConfig,
    private readonly ranges: IpRangesRefresher,
  ) {
    this.allowed = AddressSet.parse(config.allowedCidrs);
  }

  /** The decision alone: is this client address allowed right now? */
  allows(address: string | undefined): boolean {
    if (!this.config.enabled) return true;
    return address !== undefined && (this.allowed.has(address) || this.ranges.current.has(address));
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.config.enabled) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const peer = request.raw.socket?.remoteAddress;
    const client = clientAddress(request);
    if (this.allows(client)) return true;
    this.logger.warn({ msg: 'address refused', clientIp: client ?? 'unknown', peer: peer ?? 'unknown', correlationId: request.id });
    throw new ForbiddenPolicyException();
  }
}
