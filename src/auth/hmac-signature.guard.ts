import { Injectable, Logger, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { RawBodyRequest } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { InvalidSignatureException } from '../observability/invalid-signature.exception.js';
import { AuthConfig } from './auth.config.js';
import { ReplayStore } from './replay-store.js';
import { parseSignatureHeader, verify } from './signature.js';

/**
 * Accepts a request only with a valid `x-signature` over its raw body: a timestamp inside the
 * tolerance, an HMAC-SHA256 made with the current or previous key (compared in constant
 * time), and never seen before. Every refusal is the same plain 401.
 */
@Injectable()
export class HmacSignatureGuard implements CanActivate {
  private readonly logger = new Logger(HmacSignatureGuard.name);

  constructor(
    private readonly config: AuthConfig,
    private readonly replays: ReplayStore,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<RawBodyRequest<FastifyRequest>>();
    const secrets = [this.config.webhookSecret, this.config.webhookSecretPrevious].filter((s): s is string => typeof s === 'string' && s.length > 0);
    const header = request.headers['x-signature'];
    const parsed = parseSignatureHeader(typeof header === 'string' ? header : undefined);
    const raw = request.rawBody ?? Buffer.alloc(0);
    const tolerance = this.config.signatureToleranceSeconds;
    const reason = (() => {
      if (secrets.length === 0) return 'no webhook key configured';
      if (!parsed) return 'missing or malformed signature header';
      if (Math.abs(Date.now() / 1000 - parsed.timestamp) > tolerance) return 'timestamp outside tolerance';
      if (!verify(secrets, parsed.timestamp, raw, parsed.signatures)) return 'signature mismatch';
      return undefined;
    })();
    if (reason === undefined && parsed && (await this.replays.firstUse(`${parsed.timestamp}.${parsed.signatures[0]}`, tolerance * 2000))) return true;
    this.logger.warn({ msg: 'signature refused', reason: reason ?? 'replayed', correlationId: request.id });
    throw new InvalidSignatureException();
  }
}
