import { describe, expect, it } from 'vitest';

import { E164 } from '../connectors/identifiers.js';
import { toE164 } from './directory.service.js';

describe('toE164', () => {
  it.each([
    ['+1 415-555-0100', 'US', '+14155550100'],
    ['(415) 555-0100', 'US', '+14155550100'],
    ['415.555.0100', 'US', '+14155550100'],
    ['020 7946 0000', 'GB', '+442079460000'],
    ['+44 20 7946 0000', 'US', '+442079460000'],
    ['+14155550100', 'GB', '+14155550100'],
  ])('%j (region %s) → %s', (input, region, expected) => {
    expect(toE164(input, region)).toBe(expected);
  });

  it('reads a national number by the given region', () => {
    // the same digits are a different number in another region
    expect(toE164('020 7946 0000', 'US')).toBeUndefined();
  });

  it.each(['', '12', 'abc', '+1 415-555-010', '+999 1234567', '0000000000', '+'])('refuses the invalid number %j', (input) => {
    expect(toE164(input, 'US')).toBeUndefined();
  });

  // BUG: parsePhoneNumberFromString extracts a number from surrounding text by default (extract: true).
  it.each(["+14155550100' OR '1'='1", '+14155550100; DROP TABLE Account', '4155550100^ORactive=true', '+14155550100} OR {x', 'call +1 415 555 0100 now'])(
    'refuses the injection-shaped %j instead of extracting a number from it',
    (input) => {
      expect(toE164(input, 'US')).toBeUndefined();
    },
  );

  it('whatever it returns is plain E.164, safe to place in a query', () => {
    for (const input of ['+1 (415) 555-0100', "+14155550100' OR '1'='1", '+14155550100; DROP TABLE Account', '(415) 555-0100 ext. 7', '+1 415 555 0100\n']) {
      const out = toE164(input, 'US');
      if (out !== undefined) expect(out).toMatch(E164);
    }
  });
});
