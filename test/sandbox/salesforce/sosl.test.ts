import { describe, expect, it } from 'vitest';
import { SalesforceQueryError, type SObjectSchema, type SRecord } from './soql.js';
import { parseSosl, runSosl, SOSL_RESERVED } from './sosl.js';

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
