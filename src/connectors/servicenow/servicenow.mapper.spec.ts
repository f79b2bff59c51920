import { describe, expect, it } from 'vitest';
import { ConnectorError } from '../connector.errors.js';
import { groupedCounts, statsCount, tableRecords, toCustomerPartial } from './servicenow.mapper.js';

function expectBadResponse(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConnectorError);
    expect((err as ConnectorError).kind).toBe('bad_response');
    expect((err as ConnectorError).source).toBe('servicenow');
    return;
  }
  throw new Error('expected a bad_response ConnectorError');
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

describe('groupedCounts', () => {
  it('reads one count per group value; a value with no records has no entry', () => {
    const body = { result: [{ stats: { count: '3' }, groupby_fields: [{ field: 'company.u_customer_number', value: '0010100001' }] }, { stats: { count: '25' }, groupby_fields: [{ field: 'company.u_customer_number', value: '0010100002' }] }] };
    expect(groupedCounts(body)).toEqual(new Map([['0010100001', 3], ['0010100002', 25]]));
    expect(groupedCounts({ result: [] })).toEqual(new Map());
  });

  it.each([
    ['an ungrouped result', { result: { stats: { count: '3' } } }],
    ['a count that is a number', { result: [{ stats: { count: 3 }, groupby_fields: [{ field: 'f', value: 'v' }] }] }],
    ['no group value', { result: [{ stats: { count: '3' }, groupby_fields: [] }] }],
    ['null', null],
  ])('refuses %s as a bad response', (_name, body) => {
    expectBadResponse(() => groupedCounts(body));
  });
});
