import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { calculateJwkThumbprint, type CryptoKey, exportJWK, generateKeyPair, importPKCS8, type JWK } from 'jose';

import { ServerConfig } from '../config/server.config.js';
import { AuthConfig } from './auth.config.js';

interface SigningKey {
  kid: string;
  alg: 'ES256' | 'RS256';
  privateKey: CryptoKey;
  publicJwk: JWK;
}

/**
 * The keys this service signs its short-lived tokens with: the current one signs, the previous one
 * (during a rotation) is still published and accepted. Both appear in the JWKS at
 * /.well-known/jwks.json, identified by their RFC 7638 thumbprints.
 */
@Injectable()
export class SigningKeys implements OnModuleInit {
  private readonly logger = new Logger(SigningKeys.name);
  private keys: SigningKey[] = [];

  constructor(
    private readonly config: AuthConfig,
    private readonly server: ServerConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    const pems = [this.config.jwtSigningKey, this.config.jwtSigningKeyPrevious].filter((p): p is string => typeof p === 'string' && p.length > 0);
    if (pems.length === 0) {
      if (this.server.mode === 'production') throw new Error('JWT_SIGNING_KEY is required in production');
      const { privateKey } = await generateKeyPair('ES256', { extractable: true });
      this.keys = [await this.describe(privateKey, 'ES256')];
      this.logger.warn('no JWT_SIGNING_KEY: using an ephemeral key (tokens verify on this replica only)');
      return;
    }
    this.keys = await Promise.all(pems.map(async (pem) => {
      const alg = pem.includes('BEGIN PRIVATE KEY') && isRsa(pem) ? 'RS256' : 'ES256';
      return this.describe(await importPKCS8(pem, alg, { extractable: true }), alg);
    }));
  }

  get current(): SigningKey {
    return this.keys[0];
  }

  /** Public keys for verification and for the JWKS. */
  get published(): JWK[] {
    return this.keys.map((k) => k.publicJwk);
  }

  private async describe(privateKey: CryptoKey, alg: 'ES256' | 'RS256'): Promise<SigningKey> {
    const jwk = await exportJWK(privateKey);
    const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicPart } = jwk;
    const kid = await calculateJwkThumbprint(publicPart);
    return { kid, alg, privateKey, publicJwk: { ...publicPart, kid, alg, use: 'sig' } };
  }
}

/** RSA or EC, judged from the key's ASN.1 algorithm identifier. */
function isRsa(pem: string): boolean {
  const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  // rsaEncryption OID 1.2.840.113549.1.1.1
  return der.includes(Buffer.from('2a864886f70d010101', 'hex'));
}
