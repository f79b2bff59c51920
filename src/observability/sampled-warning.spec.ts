import { describe, expect, it } from 'vitest';

import { SampledWarning } from './sampled-warning.js';

describe('SampledWarning', () => {
  it('logs the first warning at once, folds the ones within the interval into the next one logged, and counts them', () => {
    let now = 1_000;
    const lines: unknown[] = [];
    const warning = new SampledWarning({ warn: (m) => lines.push(m) }, 1_000, () => now);
    warning.warn({ msg: 'cache read failed', err: 'a' });
    for (let i = 0; i < 5; i++) warning.warn({ msg: 'cache read failed', err: 'b' });
    expect(lines).toEqual([{ msg: 'cache read failed', err: 'a' }]);
    now += 1_000;
    warning.warn({ msg: 'cache read failed', err: 'c' });
    expect(lines).toEqual([
      { msg: 'cache read failed', err: 'a' },
      { msg: 'cache read failed', err: 'c', suppressed: 5 },
    ]);
    now += 5_000;
    warning.warn({ msg: 'cache read failed', err: 'd' });
    expect(lines.at(-1)).toEqual({ msg: 'cache read failed', err: 'd' }); // nothing folded since the last one
  });
});
