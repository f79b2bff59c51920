import { describe, expect, it } from 'vitest';

import { compileEncodedQuery, type FieldResolver, parseEncodedQuery } from '../../../test/sandbox/servicenow/encoded-query.js';
import { targetBytes } from '../batching.js';
import { ServiceNowConfig } from './servicenow.config.js';
import { activeIncidentsOfCustomer, companiesUrl, companyByCustomerNumber, companyUrl, encodedValue, openTicketCountsUrl, openTicketCountUrl } from './servicenow.query.js';

const FIELD = 'u_customer_number';

const VALID = ['0010100001', 'A', 'ACME-42', 'acme.eu_01', 'x-', '9.9.9', 'Z'.repeat(64), `a${'._-'.repeat(21)}`];

/** Splits `path?query` and decodes each parameter strictly. */
function splitUrl(url: string): { path: string; params: Array<[string, string]> } {
  const q = url.indexOf('?');
  const params = url
    .slice(q + 1)
    .split('&')
    .map((pair): [string, string] => {
      const eq = pair.indexOf('=');
      return [decodeURIComponent(pair.slice(0, eq)), decodeURIComponent(pair.slice(eq + 1))];
    });
  return { path: url.slice(0, q), params };
}

interface Incident {
  active: string;
  company: { u_customer_number: string };
}

const resolveIncident: FieldResolver<Incident> = (path) => {
  if (path === 'active') return { type: 'boolean', get: (r) => r.active };
  if (path === `company.${FIELD}`) return { type: 'string', get: (r) => r.company.u_customer_number };
  return undefined;
};

const resolveCompany: FieldResolver<{ u_customer_number: string }> = (path) =>
  path === FIELD ? { type: 'string', get: (r) => r.u_customer_number } : undefined;

describe('encodedValue', () => {
  it.each(VALID)('accepts the customer number %j unchanged', (value) => {
    expect(encodedValue(value)).toBe(value);
  });

  it.each([
    ['a caret', 'abc^def'],
    ['an ^OR injection', '0010100001^ORactive=false'],
    ['an ^NQ injection', '0010100001^NQactive=true'],
    ['an equals sign', 'a=b'],
    ['a space', 'ACME 42'],
    ['a single quote', "O'Neil"],
    ['a double quote', 'say"hi"'],
    ['empty', ''],
    ['over-long (65)', 'A'.repeat(65)],
    ['a leading dot', '.hidden'],
    ['a leading dash', '-1'],
    ['a comma (IN list)', 'a,b'],
    ['a newline', 'a\nb'],
    ['unicode', 'Zoë'],
  ])('refuses %s', (_what, value) => {
    expect(() => encodedValue(value)).toThrow(RangeError);
  });
});

describe('built queries and URLs', () => {
  it('companyByCustomerNumber is one equality', () => {
    expect(companyByCustomerNumber(FIELD, 'ACME-42')).toBe('u_customer_number=ACME-42');
  });

  it('activeIncidentsOfCustomer ANDs active with the dot-walked company field', () => {
    expect(activeIncidentsOfCustomer(FIELD, 'ACME-42')).toBe('active=true^company.u_customer_number=ACME-42');
  });

  it('refuses to build anything with a refused value', () => {
    expect(() => companyUrl(FIELD, 'x^ORactive=true')).toThrow(RangeError);
    expect(() => openTicketCountUrl(FIELD, 'x^ORactive=true')).toThrow(RangeError);
  });

  it('companyUrl percent-encodes the query and asks for one record', () => {
    const url = companyUrl(FIELD, 'ACME-42');
    expect(url).toBe(
      '/api/now/table/core_company?sysparm_query=u_customer_number%3DACME-42&sysparm_fields=sys_id%2Cname&sysparm_limit=1&sysparm_exclude_reference_link=true',
    );
  });

  it('openTicketCountUrl percent-encodes the caret and equals signs of the query', () => {
    const url = openTicketCountUrl(FIELD, 'ACME-42');
    const { path, params } = splitUrl(url);
    expect(path).toBe('/api/now/stats/incident');
    expect(url.slice(url.indexOf('?') + 1)).not.toMatch(/[\^ +]/);
    expect(params).toEqual([
      ['sysparm_count', 'true'],
      ['sysparm_query', 'active=true^company.u_customer_number=ACME-42'],
    ]);
  });
});

describe('round trip through the simulator encoded-query parser', () => {
  it.each(VALID)('the incident count query for %j has exactly active=true AND company.<field>=<value>', (value) => {
    const query = splitUrl(openTicketCountUrl(FIELD, value)).params.find(([k]) => k === 'sysparm_query')?.[1] ?? '';
    const parsed = parseEncodedQuery(query);
    expect(parsed).toEqual({
      groups: [
        [
          [{ kind: 'condition', condition: { field: 'active', operator: '=', value: 'true' } }],
          [{ kind: 'condition', condition: { field: `company.${FIELD}`, operator: '=', value } }],
        ],
      ],
      orderBy: [],
    });
    const compiled = compileEncodedQuery(parsed, resolveIncident);
    expect(compiled.ignored).toEqual([]);
    expect(compiled.matches({ active: 'true', company: { u_customer_number: value } })).toBe(true);
    expect(compiled.matches({ active: 'false', company: { u_customer_number: value } })).toBe(false);
    expect(compiled.matches({ active: 'true', company: { u_customer_number: `${value}0` } })).toBe(false);
  });

  it.each(VALID)('the company query for %j has exactly <field>=<value>', (value) => {
    const query = splitUrl(companyUrl(FIELD, value)).params.find(([k]) => k === 'sysparm_query')?.[1] ?? '';
    const parsed = parseEncodedQuery(query);
    expect(parsed.groups).toEqual([[[{ kind: 'condition', condition: { field: FIELD, operator: '=', value } }]]]);
    const compiled = compileEncodedQuery(parsed, resolveCompany);
    expect(compiled.ignored).toEqual([]);
    expect(compiled.matches({ u_customer_number: value })).toBe(true);
    expect(compiled.matches({ u_customer_number: 'someone-else' })).toBe(false);
  });

  it('the check is what stands between a caller and a widened query (the simulator drops nothing it should not)', () => {
    // what an unchecked value would have produced: ServiceNow ORs in a term that matches every active incident
    const widened = compileEncodedQuery(`active=true^company.${FIELD}=nobody^ORactive=true`, resolveIncident);
    expect(widened.matches({ active: 'true', company: { u_customer_number: 'someone-else' } })).toBe(true);
    expect(() => activeIncidentsOfCustomer(FIELD, 'nobody^ORactive=true')).toThrow(RangeError);
  });
});

describe('batched reads (one call for many customers)', () => {
  const numbers = ['0010100001', '0010100002', 'ACME-42'];

  it('companiesUrl asks for exactly those customer numbers with an IN list, the number returned to tell rows apart', () => {
    const url = new URL(companiesUrl(FIELD, numbers), 'http://x');
    expect(url.pathname).toBe('/api/now/table/core_company');
    expect(url.searchParams.get('sysparm_query')).toBe(`${FIELD}IN0010100001,0010100002,ACME-42`);
    expect(url.searchParams.get('sysparm_fields')).toBe(`sys_id,name,${FIELD}`);
    expect(url.searchParams.get('sysparm_limit')).toBe('3');
    expect(parseEncodedQuery(url.searchParams.get('sysparm_query') ?? '')).toMatchObject({ groups: [[[{ kind: 'condition', condition: { field: FIELD, operator: 'IN', value: numbers.join(',') } }]]] });
  });

  it('openTicketCountsUrl groups the active incident count by the dot-walked customer number', () => {
    const url = new URL(openTicketCountsUrl(FIELD, numbers), 'http://x');
    expect(url.pathname).toBe('/api/now/stats/incident');
    expect(url.searchParams.get('sysparm_group_by')).toBe(`company.${FIELD}`);
    expect(url.searchParams.get('sysparm_query')).toBe(`active=true^company.${FIELD}IN${numbers.join(',')}`);
  });

  it.each([['a,b'], ['a^ORb'], ['a b']])('refuses %j as one of the values (it would widen the list)', (bad) => {
    expect(() => companiesUrl(FIELD, ['0010100001', bad])).toThrow(RangeError);
    expect(() => openTicketCountsUrl(FIELD, [bad])).toThrow(RangeError);
  });

  it('a full batch at the default size, of ten-character customer numbers (SAP KUNNR), fits the default URL bound: one call of each kind, no split', () => {
    const config = new ServiceNowConfig();
    const full = Array.from({ length: config.batchMaxCustomers }, (_, i) => String(1_000_000_000 + i * 7_919));
    expect(full.every((n) => n.length === 10)).toBe(true);
    expect(targetBytes(companiesUrl(config.customerNumberField, full))).toBeLessThanOrEqual(config.maxUrlBytes);
    expect(targetBytes(openTicketCountsUrl(config.customerNumberField, full))).toBeLessThanOrEqual(config.maxUrlBytes);
  });
});
