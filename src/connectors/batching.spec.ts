import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { splitToFit, targetBytes } from './batching.js';

describe('splitToFit', () => {
  it('keeps a run that fits whole, and returns nothing for nothing', () => {
    expect(splitToFit([1, 2, 3], () => true)).toEqual([[1, 2, 3]]);
    expect(splitToFit([], () => false)).toEqual([]);
  });

  it('every run fits, order and items are kept, and no run is split when it already fits (any bound)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 200 }), fc.integer({ min: 50, max: 2000 }), (sizes, bound) => {
        const fits = (run: readonly number[]) => run.reduce((a, b) => a + b, 0) <= bound;
        const runs = splitToFit(sizes, fits);
        expect(runs.flat()).toEqual(sizes);
        for (const run of runs) expect(fits(run)).toBe(true);
        // at most twice the runs a perfect packing would need, plus one
        const total = sizes.reduce((a, b) => a + b, 0);
        expect(runs.length).toBeLessThanOrEqual(2 * Math.ceil(total / bound) + 1);
      }),
      { seed: 16, numRuns: 200 },
    );
  });

  it('refuses an item that fits in no run', () => {
    expect(() => splitToFit(['small', 'far too long'], (run) => run.join('').length <= 5)).toThrow(RangeError);
  });
});

describe('targetBytes', () => {
  it("counts the target as it goes on the wire: a quote the URL parser percent-encodes counts three bytes", () => {
    expect(targetBytes("/q?x='a'")).toBe('/q?x=%27a%27'.length);
    expect(targetBytes('/path?q=%20ok')).toBe('/path?q=%20ok'.length);
  });
});
