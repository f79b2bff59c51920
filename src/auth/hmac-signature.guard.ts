import type { RawBodyRequest } from '@nestjs/common';
import { type CanActivate, type ExecutionContext,Injectable, Logger } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

import { InvalidSignatureException } from '../observability/invalid-signature.exception.js';
import { SignatureVerifier } from './signature-verifier.js';

/** Accepts a request only with a valid, fresh, unused `x-signature` over its raw body; else a plain 401. */
@Injectable()
export class HmacSignatureGuard implements CanActivate {
  private readonly logger = new Logger(HmacSignatureGuard.name);

  constructor(private readonly signatures: SignatureVerifier) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<RawBodyRequest<FastifyRequest>>();
    const reason = await this.signatures.refusal(request);
    if (reason === undefined) return true;
    this.logger.warn({ msg: 'signature refused', reason, correlationId: request.id });
    throw new InvalidSignatureException();
  }
}
