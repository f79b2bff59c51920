import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The signature header format: `x-signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`.
 * Several v1 values may be sent (a sender rotating keys). Pure functions, so senders and tests
 * compute exactly what the guard checks.
 */
export function sign(secret: string, timestamp: number, rawBody: Buffer | string): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex');
}

export function signatureHeader(secret: string, timestamp: number, rawBody: Buffer | string): string {
  return `t=${timestamp},v1=${sign(secret, timestamp, rawBody)}`;
}

/** At most this many v1 values: one per key a sender may sign with during a rotation (current and previous). */
export const MAX_SIGNATURES = 2;

const TIMESTAMP = /^\d{1,12}$/;
const SIGNATURE = /^[0-9a-f]{64}$/;

/**
 * Parses the header strictly: comma-separated `key=value` items (spaces around an item allowed),
 * exactly one `t`, one to MAX_SIGNATURES distinct `v1` values of 64 lower-case hex digits, and
 * nothing else (no other keys, no empty items, no value containing '='). Anything else is
 * undefined: a header is either exactly what a sender writes or refused.
 */
export function parseSignatureHeader(header: string | undefined): { timestamp: number; signatures: string[] } | undefined {
  if (!header || header.length > 1024) return undefined;
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const item of header.split(',')) {
    const parts = item.trim().split('=');
    if (parts.length !== 2) return undefined;
    const [key, value] = parts;
    if (key === 't' && timestamp === undefined && TIMESTAMP.test(value)) timestamp = Number(value);
    else if (key === 'v1' && SIGNATURE.test(value) && !signatures.includes(value) && signatures.length < MAX_SIGNATURES) signatures.push(value);
    else return undefined;
  }
  return timestamp === undefined || signatures.length === 0 ? undefined : { timestamp, signatures };
}

/** What a signature covers, as a replay key: the same content is one use, however the header lists its signatures. */
export function signedContentId(timestamp: number, rawBody: Buffer | string): string {
  return createHash('sha256').update(`${timestamp}.`).update(rawBody).digest('base64url');
}

/** Constant-time: does any given signature match any accepted secret? Every value is compared with every secret. */
export function verify(secrets: string[], timestamp: number, rawBody: Buffer, signatures: string[]): boolean {
  let ok = false;
  for (const secret of secrets) {
    const expected = Buffer.from(sign(secret, timestamp, rawBody), 'hex');
    for (const candidate of signatures) {
      const given = Buffer.from(candidate, 'hex');
      if (given.length === expected.length && timingSafeEqual(given, expected)) ok = true;
    }
  }
  return ok;
}
