import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { nestedDeeperThan } from './json-depth.js';

/** The nesting depth of a parsed JSON value (a scalar is 0, a top-level object 1). */
function depthOf(value: unknown): number {
  if (Array.isArray(value)) return 1 + Math.max(0, ...value.map(depthOf));
  if (typeof value === 'object' && value !== null) return 1 + Math.max(0, ...Object.values(value).map(depthOf));
  return 0;
}

const bytes = (text: string) => Buffer.from(text, 'utf8');

describe('nestedDeeperThan', () => {
  it('agrees with the depth of the parsed value for any JSON text, strings full of brackets and escapes included', () => {
    const text = fc.string({ unit: fc.constantFrom('[', ']', '{', '}', '"', '\\', 'a', 'é', '😀', ' ') });
    const json = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, text, fc.integer(), fc.constant(null), fc.array(tie('value'), { maxLength: 3 }), fc.dictionary(text, tie('value'), { maxKeys: 3 })),
    })).value;
    fc.assert(
      fc.property(json, fc.integer({ min: 0, max: 12 }), fc.boolean(), (value, limit, pretty) => {
        const serialized = JSON.stringify(value, null, pretty ? 2 : undefined);
        expect(nestedDeeperThan(bytes(serialized), limit)).toBe(depthOf(value) > limit);
      }),
      { numRuns: 500 },
    );
  });

  it('stops at the limit on a hostile body', () => {
    expect(nestedDeeperThan(bytes('['.repeat(10_000) + ']'.repeat(10_000)), 16)).toBe(true);
    expect(nestedDeeperThan(bytes('['.repeat(16) + ']'.repeat(16)), 16)).toBe(false);
    expect(nestedDeeperThan(bytes(`{"a":"${'['.repeat(10_000)}"}`), 1)).toBe(false);
    expect(nestedDeeperThan(bytes('{"a":"\\"[[["}'), 1)).toBe(false);
  });
});
