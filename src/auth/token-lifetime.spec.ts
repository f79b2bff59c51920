import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { CLOCK_TOLERANCE_SECONDS, lifetimeRefusal } from './token.service.js';

const NOW = 1_800_000_000;
const MAX = 5400;

describe('lifetimeRefusal', () => {
  it.each([
    ['a token without exp', { iat: NOW }, 'no exp'],
    ['exp years ahead', { iat: NOW, exp: NOW + 10 * 365 * 86_400 }, 'lifetime too long'],
    ['exp far ahead without iat', { exp: NOW + MAX + 60 }, 'expires too late'],
    ['iat in the future', { iat: NOW + 60, exp: NOW + 600 }, 'issued in the future'],
    ['a long lifetime nearly over', { iat: NOW - 86_000, exp: NOW + 60 }, 'lifetime too long'],
  ])('refuses %s', (_what, claims, reason) => {
    expect(lifetimeRefusal(claims, NOW, MAX)).toBe(reason);
  });

  it('accepts every token with exp within the maximum lifetime and iat not ahead of the clock tolerance', () => {
    fc.assert(
      fc.property(fc.integer({ min: -3600, max: CLOCK_TOLERANCE_SECONDS }), fc.integer({ min: 1, max: MAX }), fc.boolean(), (iatOffset, lifetime, withIat) => {
        const iat = NOW + iatOffset;
        const exp = Math.min(iat + lifetime, NOW + MAX);
        expect(lifetimeRefusal(withIat ? { iat, exp } : { exp }, NOW, MAX)).toBeUndefined();
      }),
    );
  });
});
