import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  candidateRecords,
  compileEncodedQuery,
  encodedQueryBatchSize,
  type FieldResolver,
  type FieldType,
  parseEncodedQuery,
  parseTerm,
  splitSegments,
} from './encoded-query.js';

type Row = Record<string, string>;

const SCHEMA: Record<string, FieldType> = {
  number: 'string',
  state: 'integer',
  active: 'boolean',
  short_description: 'string',
  opened_at: 'datetime',
  company: 'reference',
  caller_id: 'reference',
};
const COMPANIES: Record<string, Row> = {
  c1: { sys_id: 'c1', u_customer_number: '0010100001', name: 'Acme' },
  c2: { sys_id: 'c2', u_customer_number: '0010100002', name: 'Globex' },
};
const resolve: FieldResolver<Row> = (path) => {
  if (path.startsWith('company.')) {
    const f = path.slice('company.'.length);
    if (!['u_customer_number', 'name', 'sys_id'].includes(f)) return undefined;
    return { type: 'string', get: (r) => COMPANIES[r.company]?.[f] ?? '' };
  }
  const type = SCHEMA[path];
  return type ? { type, get: (r) => r[path] ?? '' } : undefined;
};

const ROWS: Row[] = [
  { number: 'INC001', state: '1', active: 'true', short_description: 'Invoice dispute', opened_at: '2026-10-01 10:00:00', company: 'c1', caller_id: '' },
  { number: 'INC002', state: '2', active: 'true', short_description: 'Refund ^ request', opened_at: '2026-10-03 10:00:00', company: 'c1', caller_id: 'u1' },
  { number: 'INC003', state: '7', active: 'false', short_description: 'Damaged goods', opened_at: '2026-09-01 10:00:00', company: 'c1', caller_id: '' },
  { number: 'INC004', state: '10', active: 'true', short_description: 'Portal login fails', opened_at: '2026-10-02 10:00:00', company: 'c2', caller_id: '' },
  { number: 'INC005', state: '6', active: 'false', short_description: 'Invoice copy', opened_at: '2026-08-01 10:00:00', company: 'c2', caller_id: '' },
];

function run(query: string): string[] {
  const q = compileEncodedQuery(query, resolve);
  return q.sort(ROWS.filter((r) => q.matches(r))).map((r) => r.number);
}

describe('splitSegments', () => {
  it('splits on ^ and classifies ^OR and ^NQ joiners', () => {
    expect(splitSegments('a=1^ORb=2^NQc=3^d=4')).toEqual([
      { joiner: 'start', text: 'a=1' },
      { joiner: 'or', text: 'b=2' },
      { joiner: 'nq', text: 'c=3' },
      { joiner: 'and', text: 'd=4' },
    ]);
  });

  it('treats ^^ as a literal caret, not a separator', () => {
    expect(splitSegments('short_descriptionLIKEx^^ORactive=true')).toEqual([
      { joiner: 'start', text: 'short_descriptionLIKEx^ORactive=true' },
    ]);
  });

  it('does not mistake ORDERBY for an OR', () => {
    expect(splitSegments('active=true^ORDERBYnumber')[1]).toEqual({ joiner: 'and', text: 'ORDERBYnumber' });
  });
});

describe('parseTerm', () => {
  it.each([
    ['active=true', 'active', '=', 'true'],
    ['state!=7', 'state', '!=', '7'],
    ['short_descriptionLIKEinvoice', 'short_description', 'LIKE', 'invoice'],
    ['short_descriptionNOT LIKEinvoice', 'short_description', 'NOT LIKE', 'invoice'],
    ['numberSTARTSWITHINC', 'number', 'STARTSWITH', 'INC'],
    ['numberENDSWITH01', 'number', 'ENDSWITH', '01'],
    ['numberININC001,INC002', 'number', 'IN', 'INC001,INC002'],
    ['numberNOT ININC001', 'number', 'NOT IN', 'INC001'],
    ['caller_idISEMPTY', 'caller_id', 'ISEMPTY', ''],
    ['caller_idISNOTEMPTY', 'caller_id', 'ISNOTEMPTY', ''],
    ['state<3', 'state', '<', '3'],
    ['state>3', 'state', '>', '3'],
    ['state<=3', 'state', '<=', '3'],
    ['state>=3', 'state', '>=', '3'],
    ['company.u_customer_number=0010100001', 'company.u_customer_number', '=', '0010100001'],
    ['short_description=a=b', 'short_description', '=', 'a=b'],
  ])('%s', (text, field, operator, value) => {
    expect(parseTerm(text)).toEqual({ kind: 'condition', condition: { field, operator, value } });
  });

  it.each(['active', '=true', '1field=2', 'activeFOO1', 'Active=true', 'caller_idISEMPTYx', 'company..name=x', ''])(
    '%s is an invalid term',
    (text) => {
      expect(parseTerm(text).kind).toBe('invalid');
    },
  );
});

describe('parseEncodedQuery', () => {
  it('binds ^OR to the preceding term only', () => {
    const q = parseEncodedQuery('active=true^state=1^ORstate=2');
    expect(q.groups).toHaveLength(1);
    expect(q.groups[0].map((clause) => clause.length)).toEqual([1, 2]);
  });

  it('starts a new OR-ed group at ^NQ', () => {
    expect(parseEncodedQuery('state=1^active=true^NQstate=2').groups.map((g) => g.length)).toEqual([2, 1]);
  });

  it('reads ORDERBY / ORDERBYDESC and skips a trailing EQ', () => {
    const q = parseEncodedQuery('active=true^ORDERBYDESCopened_at^ORDERBYnumber^EQ');
    expect(q.orderBy).toEqual([
      { field: 'opened_at', descending: true },
      { field: 'number', descending: false },
    ]);
    expect(q.groups).toHaveLength(1);
  });

  it('never throws on garbage', () => {
    expect(() => parseEncodedQuery('^^^^OR^NQ^=^^')).not.toThrow();
  });
});

describe('compileEncodedQuery (evaluated like ServiceNow)', () => {
  it('ANDs terms', () => {
    expect(run('active=true^company=c1')).toEqual(['INC001', 'INC002']);
  });

  it('ORs with ^OR and across ^NQ groups', () => {
    expect(run('company=c2^state=6^ORstate=10')).toEqual(['INC004', 'INC005']);
    expect(run('number=INC001^NQnumber=INC005')).toEqual(['INC001', 'INC005']);
  });

  it('dot-walks through a reference', () => {
    expect(run('company.u_customer_number=0010100002')).toEqual(['INC004', 'INC005']);
  });

  it('SILENTLY IGNORES an unknown field: bogus_field=1^active=true returns every active row', () => {
    const q = compileEncodedQuery('bogus_field=1^active=true', resolve);
    expect(q.ignored).toEqual(['bogus_field=1']);
    expect(run('bogus_field=1^active=true')).toEqual(['INC001', 'INC002', 'INC004']);
  });

  it('ignores an unknown dot-walked field and an unparseable term the same way', () => {
    expect(run('company.nonexistent=x^active=false')).toEqual(['INC003', 'INC005']);
    expect(run('garbage^active=false')).toEqual(['INC003', 'INC005']);
  });

  it('an all-invalid query matches everything (the widening hazard)', () => {
    expect(run('bogus=1')).toHaveLength(ROWS.length);
    expect(run('')).toHaveLength(ROWS.length);
  });

  it('an injected ^OR widens a customer filter to other customers', () => {
    expect(run('company.u_customer_number=0010100001^ORactive=true')).toEqual(['INC001', 'INC002', 'INC003', 'INC004']);
  });

  it('an escaped ^^OR stays inside the value and matches nothing extra', () => {
    expect(run('company.u_customer_number=0010100001^^ORactive=true')).toEqual([]);
    expect(run('short_descriptionLIKErefund ^^ request')).toEqual(['INC002']);
  });

  it('supports the comparison operators', () => {
    expect(run('numberININC001,INC004')).toEqual(['INC001', 'INC004']);
    expect(run('numberNOT ININC001,INC004')).toEqual(['INC002', 'INC003', 'INC005']);
    expect(run('short_descriptionLIKEinvoice')).toEqual(['INC001', 'INC005']);
    expect(run('short_descriptionNOT LIKEinvoice')).toEqual(['INC002', 'INC003', 'INC004']);
    expect(run('short_descriptionSTARTSWITHdam')).toEqual(['INC003']);
    expect(run('short_descriptionENDSWITHfails')).toEqual(['INC004']);
    expect(run('caller_idISNOTEMPTY')).toEqual(['INC002']);
    expect(run('caller_idISEMPTY^company=c1')).toEqual(['INC001', 'INC003']);
    expect(run('state!=1^company=c1')).toEqual(['INC002', 'INC003']);
    // numeric, not lexicographic: '10' > '7'
    expect(run('state>6')).toEqual(['INC003', 'INC004']);
    expect(run('state<=2')).toEqual(['INC001', 'INC002']);
    expect(run('opened_at>=2026-10-01 00:00:00')).toEqual(['INC001', 'INC002', 'INC004']);
    expect(run('opened_at<2026-09-15 00:00:00')).toEqual(['INC003', 'INC005']);
    expect(run('active=1^company=c2')).toEqual(['INC004']);
  });

  it('sorts with ORDERBY / ORDERBYDESC and ignores unknown sort fields', () => {
    expect(run('active=true^ORDERBYDESCopened_at')).toEqual(['INC002', 'INC004', 'INC001']);
    expect(run('ORDERBYstate^ORDERBYbogus')).toEqual(['INC001', 'INC002', 'INC005', 'INC003', 'INC004']);
  });
});

describe('batched look-ups: fieldINa,b,c', () => {
  const companies: Row[] = Array.from({ length: 300 }, (_, i) => ({ sys_id: i.toString(16).padStart(32, '0'), u_customer_number: `00101${String(i).padStart(5, '0')}`, active: i % 2 === 0 ? 'true' : 'false' }));
  const resolveCompany: FieldResolver<Row> = (path) => (['sys_id', 'u_customer_number', 'active'].includes(path) ? { type: path === 'active' ? 'boolean' : 'string', get: (r) => r[path] ?? '' } : undefined);
  const numbers = (query: string) => {
    const q = compileEncodedQuery(query, resolveCompany);
    return companies.filter((r) => q.matches(r)).map((r) => r.u_customer_number);
  };

  it('u_customer_numberIN with 200 values (some unknown, any order) finds exactly those records', () => {
    const wanted = companies.filter((_, i) => i % 3 === 0).slice(0, 200).map((r) => r.u_customer_number);
    expect(numbers(`u_customer_numberIN${[...wanted].reverse().join(',')},0099999999`)).toEqual(wanted);
  });

  it('companyIN combined with active=true (as the grouped ticket count sends it) applies both', () => {
    const ids = companies.slice(0, 10).map((r) => r.sys_id);
    expect(numbers(`active=true^sys_idIN${ids.join(',')}`)).toEqual(companies.slice(0, 10).filter((r) => r.active === 'true').map((r) => r.u_customer_number));
  });

  it.each([
    ['one equality', 'u_customer_number=0010100001', 1],
    ['an IN list (repeats once)', 'u_customer_numberIN0010100001,0010100002,0010100003,0010100002', 3],
    ['the IN clause beside active=true', 'active=true^companyINa,b,c,d', 4],
    ['an ^OR chain on one field', 'company=a^ORcompany=b^ORcompanyINc,d', 4],
    ['^OR over two fields', 'company=a^ORnumber=b', 0],
    ['NOT IN', 'companyNOT INa,b', 0],
    ['the largest ^NQ group', 'company=a^NQcompanyINb,c', 2],
    ['nothing', '', 0],
  ])('counts the keys an encoded query carries: %s', (_label, query, size) => {
    expect(encodedQueryBatchSize(query)).toBe(size);
  });
});

describe('candidate records (the simulator\'s index on a pinned field)', () => {
  it('matches exactly what a full scan matches, in table order, for any query', () => {
    const value = fc.constantFrom('0010100001', '0010100002', 'c1', 'C2', 'true', 'TRUE', 'false', '1', '2', '');
    const field = fc.constantFrom('company.u_customer_number', 'company', 'active', 'state', 'number', 'company.unknown', 'nonsense');
    const op = fc.constantFrom('=', '!=', 'IN', 'NOT IN', 'LIKE', 'ISEMPTY');
    const term = fc.tuple(field, op, fc.array(value, { minLength: 1, maxLength: 3 })).map(([f, o, vs]) => (o === 'ISEMPTY' ? `${f}${o}` : `${f}${o}${o.includes('IN') ? vs.join(',') : vs[0]}`));
    const clause = fc.array(term, { minLength: 1, maxLength: 2 }).map((ts) => ts.join('^OR'));
    const group = fc.array(clause, { minLength: 1, maxLength: 3 }).map((cs) => cs.join('^'));
    const query = fc.array(group, { minLength: 1, maxLength: 2 }).map((gs) => gs.join('^NQ'));
    const row = fc.record({ number: fc.constantFrom('INC001', 'INC002'), state: fc.constantFrom('1', '2'), active: fc.constantFrom('true', 'false'), short_description: fc.constant(''), opened_at: fc.constant(''), company: fc.constantFrom('c1', 'c2', ''), caller_id: fc.constant('') });
    fc.assert(
      fc.property(fc.array(row, { maxLength: 20 }), query, (rows, text) => {
        const q = compileEncodedQuery(text, resolve);
        expect(candidateRecords(rows, text, resolve).filter((r) => q.matches(r))).toEqual(rows.filter((r) => q.matches(r)));
      }),
      { numRuns: 400 },
    );
  });

  it('narrows to the records holding a pinned value', () => {
    expect(candidateRecords(ROWS, 'company.u_customer_numberIN0010100002,0010100009^active=true', resolve).map((r) => r.company)).toEqual(ROWS.filter((r) => r.company === 'c2').map((r) => r.company));
    expect(candidateRecords(ROWS, 'active=true^ORstate=2', resolve)).toBe(ROWS);
  });
});
