import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { MAX_SIGNATURES, parseSignatureHeader, sign, signatureHeader, signedContentId, verify } from './signature.js';

const SECRET = 'a-webhook-secret-0123456789';
const hex = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex'));

describe('parseSignatureHeader', () => {
  it('reads what a sender writes, with one or two (rotation) signatures, spaces around items allowed', () => {
    const a = sign(SECRET, 1_700_000_000, '{}');
    const b = sign('previous-secret-0123456789', 1_700_000_000, '{}');
    expect(parseSignatureHeader(signatureHeader(SECRET, 1_700_000_000, '{}'))).toEqual({ timestamp: 1_700_000_000, signatures: [a] });
    expect(parseSignatureHeader(`t=1700000000, v1=${a}, v1=${b}`)).toEqual({ timestamp: 1_700_000_000, signatures: [a, b] });
  });

  it.each([
    ['no header', undefined],
    ['two timestamps', `t=1,t=2,v1=${'a'.repeat(64)}`],
    ['more signatures than a rotation needs', `t=1,${Array.from({ length: MAX_SIGNATURES + 1 }, (_, i) => `v1=${String(i).repeat(64)}`).join(',')}`],
    ['a repeated signature', `t=1,v1=${'a'.repeat(64)},v1=${'a'.repeat(64)}`],
    ['an unknown key', `t=1,v1=${'a'.repeat(64)},v0=${'b'.repeat(64)}`],
    ['an empty item', `t=1,,v1=${'a'.repeat(64)}`],
    ['a value with "="', `t=1,v1=${'a'.repeat(64)}=`],
    ['upper-case hex', `t=1,v1=${'A'.repeat(64)}`],
    ['a short signature', `t=1,v1=${'a'.repeat(63)}`],
    ['no signature', 't=1'],
    ['no timestamp', `v1=${'a'.repeat(64)}`],
    ['a huge header', `t=1,v1=${'a'.repeat(64)}${' '.repeat(1024)}`],
  ])('refuses %s', (_what, header) => {
    expect(parseSignatureHeader(header)).toBeUndefined();
  });

  it('never accepts a header that carries a second t, whatever else it holds', () => {
    fc.assert(
      fc.property(fc.array(hex, { minLength: 1, maxLength: MAX_SIGNATURES }), fc.nat(), fc.nat(), fc.nat({ max: 3 }), (sigs, t1, t2, at) => {
        const items = sigs.map((s) => `v1=${s}`);
        items.splice(Math.min(at, items.length), 0, `t=${t2}`);
        expect(parseSignatureHeader([`t=${t1}`, ...items].join(','))).toBeUndefined();
      }),
    );
  });
});

describe('verify and the replay key', () => {
  it('accepts when any listed value matches any secret, and the replay key does not depend on the listed values', () => {
    const good = sign(SECRET, 5, 'body');
    fc.assert(
      fc.property(hex, fc.boolean(), (junk, first) => {
        const listed = first ? [junk, good] : [good, junk];
        expect(verify(['other-secret-0123456789', SECRET], 5, Buffer.from('body'), listed)).toBe(true);
      }),
    );
    expect(verify([SECRET], 5, Buffer.from('body'), [sign(SECRET, 6, 'body')])).toBe(false);
    expect(signedContentId(5, 'body')).toBe(signedContentId(5, Buffer.from('body')));
    expect(signedContentId(5, 'body')).not.toBe(signedContentId(6, 'body'));
    expect(signedContentId(5, 'body')).not.toBe(signedContentId(5, 'body '));
  });
});
