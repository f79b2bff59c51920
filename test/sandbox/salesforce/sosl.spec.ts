import { describe, expect, it } from 'vitest';
import { SalesforceQueryError, type SObjectSchema, type SRecord } from './soql.js';
import { parseSosl, runSosl, SOSL_LIMITS, SOSL_RESERVED, type SoslLimits } from './sosl.js';

const SCHEMA: SObjectSchema = {
  name: 'Account',
  fields: [
    { name: 'Id', type: 'id' },
    { name: 'Name', type: 'string' },
    { name: 'Phone', type: 'phone' },
    { name: 'Email__c', type: 'email' },
    { name: 'BillingCity', type: 'string' },
  ],
};

const ROWS: SRecord[] = [
  { Id: '001000000000001AAA', Name: "O'Neil & Sons", Phone: '+14155550107', Email__c: 'contact8@oneilsons.example.com', BillingCity: 'San Francisco' },
  { Id: '001000000000002AAA', Name: 'Acme Corp', Phone: '+14155550100', Email__c: 'contact1@acmecorp.example.com', BillingCity: 'Dublin' },
  { Id: '001000000000003AAA', Name: 'Globex Industries', Phone: null, Email__c: null, BillingCity: 'London' },
];

function ids(q: string): Array<string | null> {
  return runSosl(q, [SCHEMA], () => ROWS).flatMap((g) => g.records.map((r) => r.Id));
}

function errorOf(q: string): SalesforceQueryError {
  try {
    ids(q);
  } catch (err) {
    if (err instanceof SalesforceQueryError) return err;
    throw err;
  }
  throw new Error(`expected an error for: ${q}`);
}

describe('SOSL parser', () => {
  it('parses term, scope, returning list and limits, keywords in any case', () => {
    const s = parseSosl(String.raw`find {\+1 \(415\) 555\-0100} in phone fields returning account(Id, Name limit 3) limit 10`);
    expect(s.term).toBe('+1 (415) 555-0100');
    expect(s.terms).toEqual(['+1 (415) 555-0100']);
    expect(s.scope).toBe('PHONE');
    expect(s.returning).toMatchObject([{ object: { name: 'account' }, fields: [{ name: 'Id' }, { name: 'Name' }], limit: 3 }]);
    expect(s.limit).toBe(10);
  });

  it('accepts every reserved character when escaped', () => {
    const all = [...SOSL_RESERVED].join('');
    const escaped = [...SOSL_RESERVED].map((c) => `\\${c}`).join('');
    expect(parseSosl(`FIND {${escaped}} RETURNING Account(Id)`).term).toBe(all);
  });

  it.each([...SOSL_RESERVED].filter((c) => c !== '}' && c !== '\\'))('refuses an unescaped %s in the term', (c) => {
    expect(() => parseSosl(`FIND {ab${c}cd} IN ALL FIELDS RETURNING Account(Id)`)).toThrowError(SalesforceQueryError);
  });

  it.each([
    ['an unescaped +', 'FIND {+14155550100} IN PHONE FIELDS RETURNING Account(Id)'],
    ['an escape of a non-reserved character', String.raw`FIND {\a14155550100} IN PHONE FIELDS RETURNING Account(Id)`],
    ['a missing closing brace', 'FIND {abc IN PHONE FIELDS'],
    ['a trailing backslash', 'FIND {abc\\'],
    ['a one-character term', 'FIND {a} RETURNING Account(Id)'],
    ['a missing FIND', '{abc} RETURNING Account(Id)'],
    ['an unknown scope', 'FIND {abc} IN SIDEWAYS FIELDS RETURNING Account(Id)'],
    ['trailing tokens', 'FIND {abc} RETURNING Account(Id) extra'],
    ['an unclosed field list', 'FIND {abc} RETURNING Account(Id'],
    ['a stray character after the term', "FIND {abc} RETURNING Account(Id) OR '1'"],
  ])('refuses %s as MALFORMED_SEARCH', (_label, q) => {
    expect(errorOf(q).errorCode).toBe('MALFORMED_SEARCH');
  });
});

describe('SOSL evaluation', () => {
  it('PHONE compares digits only', () => {
    expect(ids(String.raw`FIND {\+14155550100} IN PHONE FIELDS RETURNING Account(Id)`)).toEqual(['001000000000002AAA']);
    expect(ids(String.raw`FIND {\+1 \(415\) 555\-0100} IN PHONE FIELDS RETURNING Account(Id)`)).toEqual(['001000000000002AAA']);
    expect(ids(String.raw`FIND {4155550100} IN PHONE FIELDS RETURNING Account(Id)`)).toEqual([]);
    expect(ids('FIND {nodigits} IN PHONE FIELDS RETURNING Account(Id)')).toEqual([]);
  });

  it('EMAIL is a case-insensitive exact match', () => {
    expect(ids('FIND {CONTACT1@acmecorp.example.com} IN EMAIL FIELDS RETURNING Account(Id)')).toEqual(['001000000000002AAA']);
    expect(ids('FIND {acmecorp.example.com} IN EMAIL FIELDS RETURNING Account(Id)')).toEqual([]);
  });

  it('NAME is a case-insensitive substring of Name; escaped apostrophes match literally', () => {
    expect(ids(String.raw`FIND {o\'neil} IN NAME FIELDS RETURNING Account(Id)`)).toEqual(['001000000000001AAA']);
    expect(ids('FIND {corp} IN NAME FIELDS RETURNING Account(Id)')).toEqual(['001000000000002AAA']);
    expect(ids('FIND {Dublin} IN NAME FIELDS RETURNING Account(Id)')).toEqual([]);
  });

  it('ALL also searches the other text fields', () => {
    expect(ids('FIND {Dublin} IN ALL FIELDS RETURNING Account(Id)')).toEqual(['001000000000002AAA']);
    expect(ids('FIND {Dublin} RETURNING Account(Id)')).toEqual(['001000000000002AAA']);
  });

  it('returns the requested fields, applies LIMIT and refuses unknown objects and fields', () => {
    const [group] = runSosl('FIND {on} IN NAME FIELDS RETURNING Account(name, Phone)', [SCHEMA], () => ROWS);
    expect(group.fields).toEqual(['Name', 'Phone']);
    expect(group.records.map((r) => r.Name)).toEqual(["O'Neil & Sons"]);
    expect(ids('FIND {co} IN ALL FIELDS RETURNING Account(Id)')).toHaveLength(2);
    expect(ids('FIND {co} IN ALL FIELDS RETURNING Account(Id) LIMIT 1')).toHaveLength(1);
    expect(ids('FIND {Corp} IN ALL FIELDS RETURNING Account(Id LIMIT 0)')).toEqual([]);
    expect(errorOf('FIND {abc} RETURNING Contact(Id)').errorCode).toBe('INVALID_TYPE');
    expect(errorOf('FIND {abc} RETURNING Account(Nope)').errorCode).toBe('INVALID_FIELD');
  });
});

describe('SOSL with several terms (FIND {a OR b})', () => {
  it('splits the search query on OR in any case; each term keeps its words and escapes', () => {
    const s = parseSosl(String.raw`FIND {\+14155550107 OR \+1 \(415\) 555\-0100 or Globex} IN ALL FIELDS RETURNING Account(Id)`);
    expect(s.terms).toEqual(['+14155550107', '+1 (415) 555-0100', 'Globex']);
    expect(s.term).toBe('+14155550107 OR +1 (415) 555-0100 or Globex');
  });

  it('finds the records of every term, once each, in storage order', () => {
    expect(ids(String.raw`FIND {\+14155550100 OR \+14155550107} IN PHONE FIELDS RETURNING Account(Id)`)).toEqual(['001000000000001AAA', '001000000000002AAA']);
    expect(ids(String.raw`FIND {\+14155550100 OR \+1 415 555 0100 OR \+19999999999} IN PHONE FIELDS RETURNING Account(Id)`)).toEqual(['001000000000002AAA']);
    expect(ids('FIND {contact8@oneilsons.example.com OR contact1@acmecorp.example.com} IN EMAIL FIELDS RETURNING Account(Id)')).toEqual(['001000000000001AAA', '001000000000002AAA']);
  });

  it('reads a quoted phrase as one term, and a quoted "or" as a word, as Salesforce documents', () => {
    expect(parseSosl('FIND {"Acme Corp" OR "Globex Industries"} IN NAME FIELDS').terms).toEqual(['Acme Corp', 'Globex Industries']);
    expect(ids('FIND {"Acme Corp" OR "Globex Industries"} IN NAME FIELDS RETURNING Account(Id)')).toEqual(['001000000000002AAA', '001000000000003AAA']);
    expect(parseSosl('FIND {"and" or "or"}').terms).toEqual(['and', 'or']);
  });

  it.each([
    ['a leading OR', String.raw`FIND {OR \+14155550100} IN PHONE FIELDS`],
    ['a trailing OR', String.raw`FIND {\+14155550100 OR} IN PHONE FIELDS`],
    ['two ORs in a row', String.raw`FIND {\+14155550100 OR OR \+14155550107} IN PHONE FIELDS`],
    ['AND (not modelled)', 'FIND {Acme AND Corp} IN NAME FIELDS'],
    ['AND NOT (not modelled)', 'FIND {Acme AND NOT Globex} IN NAME FIELDS'],
    ['an unterminated phrase', 'FIND {"Acme Corp} IN NAME FIELDS'],
    ['a quote inside a word', 'FIND {Ac"me} IN NAME FIELDS'],
  ])('refuses %s as MALFORMED_SEARCH', (_label, q) => {
    expect(errorOf(`${q} RETURNING Account(Id)`).errorCode).toBe('MALFORMED_SEARCH');
  });
});

describe('SOSL limits (Salesforce: operators dropped past 4,000 characters, no rows past 10,000, 2,000 results)', () => {
  const run = (q: string, limits: Partial<SoslLimits>) => runSosl(q, [SCHEMA], () => ROWS, { ...SOSL_LIMITS, ...limits }).flatMap((g) => g.records.map((r) => r.Id));

  it('the defaults are Salesforce\'s', () => {
    expect(SOSL_LIMITS).toEqual({ operatorsDroppedAbove: 4000, noRowsAbove: 10000, maxResults: 2000 });
  });

  it('past the operator bound, AND is no longer refused: every word becomes an OR-ed term (more results, as Salesforce warns)', () => {
    const q = 'FIND {Acme AND London} IN ALL FIELDS RETURNING Account(Id)';
    expect(errorOf(q).errorCode).toBe('MALFORMED_SEARCH');
    const query = 'Acme AND London'; // 15 characters
    expect(parseSosl(q, { ...SOSL_LIMITS, operatorsDroppedAbove: query.length - 1 }).terms).toEqual(['Acme', 'London']);
    expect(run(q, { operatorsDroppedAbove: query.length - 1 })).toEqual(['001000000000002AAA', '001000000000003AAA']);
    expect(() => parseSosl(q, { ...SOSL_LIMITS, operatorsDroppedAbove: query.length })).toThrowError(SalesforceQueryError);
  });

  it('a search query longer than the no-rows bound returns nothing (no error); at the bound it still searches', () => {
    const q = String.raw`FIND {\+14155550100 OR \+14155550107} IN PHONE FIELDS RETURNING Account(Id)`;
    const length = String.raw`\+14155550100 OR \+14155550107`.length;
    expect(run(q, { noRowsAbove: length })).toHaveLength(2);
    expect(run(q, { noRowsAbove: length - 1 })).toEqual([]);
  });

  it('caps the results of one search, over all objects, at maxResults (and at LIMIT when smaller)', () => {
    const q = 'FIND {co} IN ALL FIELDS RETURNING Account(Id)';
    expect(run(q, { maxResults: null })).toHaveLength(2);
    expect(run(q, { maxResults: 1 })).toHaveLength(1);
    expect(run(`${q} LIMIT 1`, { maxResults: 2000 })).toHaveLength(1);
  });

  it('a 500-term search (as a batched phone look-up sends) matches each term', () => {
    const phones = Array.from({ length: 500 }, (_, i) => `+1415555${String(1000 + i)}`);
    const rows: SRecord[] = phones.map((p, i) => ({ Id: `001${String(i).padStart(12, '0')}AAA`, Name: `n${i}`, Phone: p, Email__c: null, BillingCity: null }));
    const wanted = phones.filter((_, i) => i % 5 === 0);
    const q = `FIND {${wanted.map((p) => `\\${p}`).join(' OR ')}} IN PHONE FIELDS RETURNING Account(Phone)`;
    const found = runSosl(q, [SCHEMA], () => rows).flatMap((g) => g.records.map((r) => r.Phone));
    expect(found).toEqual(wanted);
  });
});
