import type { RawBodyRequest } from '@nestjs/common';
import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

import { AuthConfig } from './auth.config.js';
import { ReplayStore } from './replay-store.js';
import { parseSignatureHeader, signedContentId, verify } from './signature.js';

/**
 * Checks an `x-signature` over a request's raw body: a timestamp inside the tolerance, an
 * HMAC-SHA256 made with the current or previous key (constant time), never seen before.
 * Shared by the webhook guard and the inbound guard's `hmac` mechanism.
 */
@Injectable()
export class SignatureVerifier {
  constructor(
    private readonly config: AuthConfig,
    private readonly replays: ReplayStore,
  ) {}

  /** Undefined when the signature is good (and now used up), else why it is not. */
  async refusal(request: RawBodyRequest<FastifyRequest>): Promise<string | undefined> {
    const secrets = [this.config.webhookSecret, this.config.webhookSecretPrevious].filter((s): s is string => typeof s === 'string' && s.length > 0);
    const header = request.headers['x-signature'];
    const parsed = parseSignatureHeader(typeof header === 'string' ? header : undefined);
    const tolerance = this.config.signatureToleranceSeconds;
    if (secrets.length === 0) return 'no signing key configured';
    if (!parsed) return 'missing or malformed signature header';
    if (Math.abs(Date.now() / 1000 - parsed.timestamp) > tolerance) return 'timestamp outside tolerance';
    const body = request.rawBody ?? Buffer.alloc(0);
    if (!verify(secrets, parsed.timestamp, body, parsed.signatures)) return 'signature mismatch';
    // the replay key is what was signed (timestamp and body), not one of the values the header lists:
    // adding, reordering or dropping v1 values does not make a captured request new
    if (!(await this.replays.firstUse(signedContentId(parsed.timestamp, body), tolerance * 2000))) return 'replayed';
    return undefined;
  }
}
