import { describe, expect, it } from 'vitest';

import { type Condition, parseSoql } from '../../../test/sandbox/salesforce/soql.js';
import { parseSosl } from '../../../test/sandbox/salesforce/sosl.js';
import { targetBytes } from '../batching.js';
import type { VendorClients } from '../vendor-clients.js';
import { SalesforceClient } from './salesforce.client.js';
import { SalesforceConfig } from './salesforce.config.js';
import { accountByCustomerNumber, type AccountFields, accountsByCustomerNumbers, accountsByEmail, accountsByPhone, soqlString, soslTerm } from './salesforce.query.js';

const F: AccountFields = {
  customerNumberField: 'Customer_Number__c',
  loyaltyTierField: 'Loyalty_Tier__c',
  lastInteractionField: 'Last_Interaction_Date__c',
  emailField: 'Email__c',
};

const SOSL_RESERVED = ['&', '|', '!', '(', ')', '{', '}', '[', ']', '^', '"', '~', '*', '?', ':', '\\', "'", '+', '-'];

/** Deterministic pseudo-random strings over an alphabet (mulberry32), so failures reproduce. */
function randomStrings(seed: number, count: number, alphabet: string[], minLen: number, maxLen: number): string[] {
  let a = seed >>> 0;
  const rnd = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const len = minLen + Math.floor(rnd() * (maxLen - minLen + 1));
    let s = '';
    for (let j = 0; j < len; j++) s += alphabet[Math.floor(rnd() * alphabet.length)];
    out.push(s);
  }
  return out;
}

describe('soqlString', () => {
  it.each([
    ["O'Neil", "'O\\'Neil'"],
    ['back\\slash', "'back\\\\slash'"],
    ['say "hi"', "'say \\\"hi\\\"'"],
    ['line1\nline2', "'line1\\nline2'"],
    ['a\rb', "'a\\rb'"],
    ['a\tb', "'a\\tb'"],
    ['a\bb', "'a\\bb'"],
    ['a\fb', "'a\\fb'"],
    ['', "''"],
    ['plain 0010100001', "'plain 0010100001'"],
  ])('%j → %s', (input, expected) => {
    expect(soqlString(input)).toBe(expected);
  });

  it('leaves LIKE wildcards and unicode untouched (they are literal in an equality)', () => {
    expect(soqlString('50%_off')).toBe("'50%_off'");
    expect(soqlString('Zoë 東京 😀')).toBe("'Zoë 東京 😀'");
  });

  it.each(['\u0000', '\u0001', '\u000b', '\u001b', '\u001f', 'ok\u0007bell'])('refuses the control character in %j', (input) => {
    expect(() => soqlString(input)).toThrow(RangeError);
  });

  it('turns an injection payload into one literal', () => {
    expect(soqlString("x' OR Name != '")).toBe("'x\\' OR Name != \\''");
  });
});

describe('soslTerm', () => {
  it.each(SOSL_RESERVED)('escapes the reserved character %s', (ch) => {
    expect(soslTerm(`a${ch}b`)).toBe(`a\\${ch}b`);
  });

  it('escapes every reserved character, each exactly once', () => {
    expect(soslTerm(SOSL_RESERVED.join(''))).toBe(SOSL_RESERVED.map((c) => `\\${c}`).join(''));
  });

  it('leaves other characters alone', () => {
    const plain = 'abcXYZ 0123456789 .,;@#$%_=<>/`é東';
    expect(soslTerm(plain)).toBe(plain);
  });

  it('escapes an E.164 number for a phone search', () => {
    expect(soslTerm('+14155550100')).toBe('\\+14155550100');
  });

  it.each(['\n', '\t', '\u0000', 'a\rb'])('refuses the control character in %j', (input) => {
    expect(() => soslTerm(input)).toThrow(RangeError);
  });
});

describe('built queries', () => {
  it('accountByCustomerNumber selects the configured fields and filters on the escaped literal', () => {
    expect(accountByCustomerNumber(F, "0010'1")).toBe(
      "SELECT Id, Name, Phone, Email__c, Loyalty_Tier__c, Last_Interaction_Date__c FROM Account WHERE Customer_Number__c = '0010\\'1' LIMIT 1",
    );
  });

  it('accountsByEmail filters on the escaped literal, newest first, limited', () => {
    expect(accountsByEmail(F, "o'brien@example.com", 5)).toBe(
      "SELECT Id, Customer_Number__c FROM Account WHERE Email__c = 'o\\'brien@example.com' ORDER BY Last_Interaction_Date__c DESC LIMIT 5",
    );
  });

  it('accountsByPhone searches phone fields for the escaped term', () => {
    expect(accountsByPhone(F, '+14155550100', 3)).toBe('FIND {\\+14155550100} IN PHONE FIELDS RETURNING Account(Id, Customer_Number__c) LIMIT 3');
  });

  it('refuses control characters instead of building a query', () => {
    expect(() => accountByCustomerNumber(F, 'a\u0000b')).toThrow(RangeError);
    expect(() => accountsByPhone(F, '+1\n', 3)).toThrow(RangeError);
  });
});

const HOSTILE = [
  "x' OR Name != '",
  "' or '1'='1",
  "'",
  "''",
  '\\',
  "\\'",
  "\\\\'",
  '"',
  "'; DELETE FROM Account; --",
  "x') OR (Name LIKE '%",
  "0010100001' LIMIT 200 --",
  'a\nb\r\tc\bd\fe',
  '50%_off',
  'Zoë 東京 😀 \u200b',
  '\\n is not a newline',
  'a'.repeat(200),
  "'\\\"".repeat(67).slice(0, 200),
];

/** The single `field = 'literal'` a query's WHERE clause must be. */
function singleEquality(where: Condition | null): { field: string; value: string } {
  if (where === null || where.type !== 'compare' || where.op !== '=' || where.value.kind !== 'string') {
    throw new Error(`not a single equality on a string: ${JSON.stringify(where)}`);
  }
  return { field: where.field.name, value: where.value.value };
}

describe('SOQL round trip through the simulator parser', () => {
  it.each(HOSTILE)('accountByCustomerNumber(%j) parses to one equality on the exact value', (value) => {
    const q = parseSoql(accountByCustomerNumber(F, value));
    expect(singleEquality(q.where)).toEqual({ field: 'Customer_Number__c', value });
    expect(q.object.name).toBe('Account');
    expect(q.fields.map((f) => f.name)).toEqual(['Id', 'Name', 'Phone', 'Email__c', 'Loyalty_Tier__c', 'Last_Interaction_Date__c']);
    expect(q.orderBy).toEqual([]);
    expect(q.limit).toBe(1);
    expect(q.offset).toBeNull();
  });

  it.each(HOSTILE)('accountsByEmail(%j) parses to one equality on the exact value', (value) => {
    const q = parseSoql(accountsByEmail(F, value, 5));
    expect(singleEquality(q.where)).toEqual({ field: 'Email__c', value });
    expect(q.orderBy.map((o) => [o.field.name, o.descending])).toEqual([['Last_Interaction_Date__c', true]]);
    expect(q.limit).toBe(5);
  });

  it('holds for 500 generated strings over quotes, backslashes, escapes and unicode', () => {
    const alphabet = ["'", '"', '\\', '\n', '\r', '\t', '\b', '\f', ' ', '%', '_', '(', ')', '=', '!', 'a', 'Z', '0', 'n', 'é', '東', '😀', 'OR', 'LIMIT'];
    for (const value of randomStrings(20260101, 500, alphabet, 0, 200)) {
      expect(singleEquality(parseSoql(accountByCustomerNumber(F, value)).where).value).toBe(value);
    }
  });
});

describe('SOSL round trip through the simulator parser', () => {
  const hostile = [
    '+14155550100',
    '+1 (415) 555-0100',
    'x} RETURNING User(Id',
    'ab*',
    'a\\b',
    "' or '1'='1",
    SOSL_RESERVED.join(''),
    '{}',
    'Zoë 東京',
    '9'.repeat(200),
  ];

  it.each(hostile)('accountsByPhone(%j) parses to exactly that term', (value) => {
    const s = parseSosl(accountsByPhone(F, value, 3));
    expect(s.term).toBe(value);
    expect(s.scope).toBe('PHONE');
    expect(s.returning).toHaveLength(1);
    expect(s.returning[0].object.name).toBe('Account');
    expect(s.returning[0].fields?.map((f) => f.name)).toEqual(['Id', 'Customer_Number__c']);
    expect(s.limit).toBe(3);
  });

  it('holds for 500 generated terms over every reserved character', () => {
    const alphabet = [...SOSL_RESERVED, 'a', '1', ' ', '.', 'é'];
    for (const raw of randomStrings(424242, 500, alphabet, 2, 100)) {
      // the SOSL parser trims the term, so only terms without outer whitespace can round-trip
      const value = `x${raw}y`;
      expect(parseSosl(accountsByPhone(F, value, 3)).term).toBe(value);
    }
  });
});

describe('accountsByCustomerNumbers (one SOQL for many customers)', () => {
  it('is one IN list of escaped literals that the SOQL parser reads back as exactly those values, the customer number selected', () => {
    const numbers = ['0010100001', "0010'2", 'back\\slash', 'x OR Name != null'];
    const q = parseSoql(accountsByCustomerNumbers(F, numbers));
    expect(q.fields.map((f) => f.name)).toContain('Customer_Number__c');
    const where = q.where as Extract<Condition, { type: 'in' }>;
    expect(where.type).toBe('in');
    expect(where.negated).toBe(false);
    expect(where.field.name).toBe('Customer_Number__c');
    expect(where.values.map((v) => (v.kind === 'string' ? v.value : v.kind))).toEqual(numbers);
    expect(q.limit).toBeNull();
  });
});

describe('the default batch size', () => {
  it('a full batch of ten-character customer numbers (SAP KUNNR) fits the default URL bound as it goes on the wire: one call, no split', () => {
    const config = new SalesforceConfig();
    const client = new SalesforceClient(config, { create: () => ({}) } as unknown as VendorClients);
    const full = Array.from({ length: config.batchMaxCustomers }, (_, i) => String(1_000_000_000 + i * 7_919));
    expect(full.every((n) => n.length === 10)).toBe(true);
    const soql = accountsByCustomerNumbers(config, full);
    expect(soql.length).toBeLessThanOrEqual(100_000); // Salesforce's bound on one SOQL statement
    expect(targetBytes(client.queryTarget(soql))).toBeLessThanOrEqual(config.maxUrlBytes);
  });
});
