import { describe, expect, it } from 'vitest';

import { isoDate, isoInstant } from './dates.js';

describe('Salesforce', () => {
  it('a Date field is already ISO: kept', () => {
    expect(isoDate('2026-11-20')).toBe('2026-11-20');
    expect(isoInstant('2026-11-20')).toBeUndefined();
  });

  it('a DateTime (+0000, no colon) becomes an ISO instant in UTC, and its date', () => {
    expect(isoInstant('2026-11-20T14:03:11.000+0000')).toBe('2026-11-20T14:03:11.000Z');
    expect(isoDate('2026-11-20T14:03:11.000+0000')).toBe('2026-11-20');
    expect(isoDate('2026-11-20T23:59:59.999+0000')).toBe('2026-11-20');
  });
});

describe('SAP OData V2', () => {
  it('Edm.DateTime /Date(ms)/ is UTC; a date field is UTC midnight', () => {
    expect(isoInstant('/Date(1662336000000)/')).toBe('2022-09-05T00:00:00.000Z');
    expect(isoDate('/Date(1662336000000)/')).toBe('2022-09-05');
    expect(isoInstant('/Date(1763647391123)/')).toBe('2025-11-20T14:03:11.123Z');
  });

  it('dates before 1970 have negative ticks', () => {
    expect(isoDate('/Date(-327628800000)/')).toBe('1959-08-15');
  });

  it('Edm.DateTimeOffset /Date(ms±HHMM)/: the ticks are UTC, the offset says where it was written', () => {
    // as SAPUI5 reads them: 1420529121547 is 2015-01-06T07:25:21.547Z
    expect(isoInstant('/Date(1420529121547+0000)/')).toBe('2015-01-06T07:25:21.547Z');
    expect(isoInstant('/Date(1420529121547+0530)/')).toBe('2015-01-06T07:25:21.547Z');
    expect(isoInstant('/Date(1420529121547-0530)/')).toBe('2015-01-06T07:25:21.547Z');
    // its calendar date is the one at the writer's offset
    expect(isoDate('/Date(1420502400000+0000)/')).toBe('2015-01-06'); // 00:00 UTC
    expect(isoDate('/Date(1420502400000-0530)/')).toBe('2015-01-05'); // 18:30 the evening before, there
    expect(isoDate('/Date(1420574400000+0530)/')).toBe('2015-01-07'); // 20:00 UTC is 01:30 next day, there
  });
});

describe('ServiceNow', () => {
  it('YYYY-MM-DD HH:mm:ss (actual values) is UTC', () => {
    expect(isoInstant('2026-01-19 04:52:04')).toBe('2026-01-19T04:52:04.000Z');
    expect(isoDate('2026-01-19 23:52:04')).toBe('2026-01-19');
  });
});

describe('ISO 8601 itself', () => {
  it('offsets with a colon, Z, lower and higher precision, no seconds', () => {
    expect(isoInstant('2026-11-20T14:03:11Z')).toBe('2026-11-20T14:03:11.000Z');
    expect(isoInstant('2026-11-20T14:03:11+05:30')).toBe('2026-11-20T08:33:11.000Z');
    expect(isoInstant('2026-11-20T14:03:11.5-08:00')).toBe('2026-11-20T22:03:11.500Z');
    expect(isoInstant('2026-11-20T14:03:11.123456789Z')).toBe('2026-11-20T14:03:11.123Z');
    expect(isoInstant('2026-11-20T14:03Z')).toBe('2026-11-20T14:03:00.000Z');
    expect(isoDate('2026-11-20T22:00:00-05:00')).toBe('2026-11-20'); // 03:00 UTC the next day
  });

  it('leap days exist only in leap years', () => {
    expect(isoDate('2028-02-29')).toBe('2028-02-29');
    expect(isoDate('2026-02-29')).toBeUndefined();
  });
});

describe('bad input → undefined, never a half-converted string', () => {
  it.each([
    ['impossible date', '2026-02-30'],
    ['month 13', '2026-13-01'],
    ['hour 24', '2026-11-20T24:00:00Z'],
    ['minute 60', '2026-11-20T14:60:00Z'],
    ['offset beyond ±14:00', '2026-11-20T14:03:11+1500'],
    ['offset minutes 60', '2026-11-20T14:03:11+0160'],
    ['ISO time without a zone (local time of an unknown place)', '2026-11-20T14:03:11'],
    ['a zone on the space-separated form', '2026-11-20 14:03:11Z'],
    ['two-digit year', '26-11-20'],
    ['slashes', '2026/11/20'],
    ['words', 'yesterday'],
    ['surrounding blanks', ' 2026-11-20 '],
    ['empty', ''],
    ['OData V2 with garbage', '/Date(abc)/'],
    ['OData V2 offset beyond ±14:00', '/Date(1420529121547+1500)/'],
    ['OData V2 beyond year 9999', '/Date(999999999999999)/'],
    ['year 0', '0000-01-01'],
  ])('%s', (_what, value) => {
    expect(isoDate(value)).toBeUndefined();
    expect(isoInstant(value)).toBeUndefined();
  });

  it('non-strings', () => {
    for (const value of [undefined, null, 20261120, new Date(), { value: '2026-11-20' }, ['2026-11-20']]) {
      expect(isoDate(value)).toBeUndefined();
      expect(isoInstant(value)).toBeUndefined();
    }
  });

  it('a long string is not parsed at all', () => {
    expect(isoDate(`2026-11-20${' '.repeat(100)}`)).toBeUndefined();
  });

  it('years 1 and 9999 are the bounds', () => {
    expect(isoDate('0001-01-01')).toBe('0001-01-01');
    expect(isoInstant('9999-12-31T23:59:59.999Z')).toBe('9999-12-31T23:59:59.999Z');
    expect(isoDate('9999-12-31T23:00:00-05:00')).toBeUndefined(); // 04:00 UTC on 10000-01-01
  });
});
