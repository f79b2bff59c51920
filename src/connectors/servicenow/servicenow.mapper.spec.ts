import { describe, expect, it } from 'vitest';

import { UpstreamError } from '../../upstream/upstream-error.js';
import { statsCount, tableRecords, toCustomerPartial } from './servicenow.mapper.js';

function expectBadResponse(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as UpstreamError).kind).toBe('bad_response');
    expect((err as UpstreamError).source).toBe('servicenow');
    return;
  }
  throw new Error('expected a bad_response UpstreamError');
}

const stats = (count: unknown) => ({ result: { stats: { count } } });

describe('statsCount', () => {
  it.each([
    ['3', 3],
    ['0', 0],
    ['120', 120],
  ])('reads the string count %j as %j', (count, expected) => {
    expect(statsCount(stats(count))).toBe(expected);
  });

  it.each([[3], ['abc'], [''], ['-1'], ['1.5'], ['3 '], [null], [undefined]])('refuses the count %j', (count) => {
    expectBadResponse(() => statsCount(stats(count)));
  });

  it.each([[null], [{}], [{ result: [] }], [{ result: { stats: {} } }], ['{"result":{}}']])('refuses the body %j', (body) => {
    expectBadResponse(() => statsCount(body));
  });
});

describe('tableRecords', () => {
  it('returns result', () => {
    expect(tableRecords({ result: [{ sys_id: 'a' }] })).toEqual([{ sys_id: 'a' }]);
  });

  it.each([[null], [{}], [{ result: {} }], [{ result: 'x' }]])('refuses %j', (body) => {
    expectBadResponse(() => tableRecords(body));
  });
});

describe('toCustomerPartial', () => {
  it('carries the open ticket count', () => {
    expect(toCustomerPartial(4)).toEqual({ openTickets: 4 });
  });
});
