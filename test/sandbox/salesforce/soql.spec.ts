import { describe, expect, it } from 'vitest';
import { parseSoql, runSoql, SalesforceQueryError, soqlBatchSize, SOQL_LIMITS, tokenizeSoql, type SObjectSchema, type SRecord } from './soql.js';

const SCHEMA: SObjectSchema = {
  name: 'Account',
  fields: [
    { name: 'Id', type: 'id' },
    { name: 'Name', type: 'string' },
    { name: 'Customer_Number__c', type: 'string' },
    { name: 'Loyalty_Tier__c', type: 'picklist' },
    { name: 'Last_Interaction_Date__c', type: 'date' },
  ],
};

const ROWS: SRecord[] = [
  { Id: '001000000000001AAA', Name: "O'Neil & Sons", Customer_Number__c: '0010100008', Loyalty_Tier__c: 'Gold', Last_Interaction_Date__c: '2026-10-01' },
  { Id: '001000000000002AAA', Name: 'Acme Corp', Customer_Number__c: '0010100001', Loyalty_Tier__c: 'Bronze', Last_Interaction_Date__c: '2026-09-15' },
  { Id: '001000000000003AAA', Name: 'Back\\slash 50%_off', Customer_Number__c: '0010100002', Loyalty_Tier__c: 'Silver', Last_Interaction_Date__c: null },
  { Id: '001000000000004AAA', Name: 'acme corp', Customer_Number__c: '0010100004', Loyalty_Tier__c: null, Last_Interaction_Date__c: '2026-07-30' },
];

function run(q: string): SRecord[] {
  return runSoql(q, [SCHEMA], () => ROWS).records;
}

function names(q: string): Array<string | null> {
  return run(q).map((r) => r.Name);
}

function errorOf(q: string): SalesforceQueryError {
  try {
    run(q);
  } catch (err) {
    if (err instanceof SalesforceQueryError) return err;
    throw err;
  }
  throw new Error(`expected an error for: ${q}`);
}

describe('SOQL tokenizer', () => {
  it('decodes every legal escape in a string literal', () => {
    const [t] = tokenizeSoql(String.raw`'a\'b\\c\nd\re\tf\bg\fh\"i'`);
    expect(t).toMatchObject({ kind: 'string', value: 'a\'b\\c\nd\re\tf\bg\fh"i' });
  });

  it('accepts the upper-case forms Salesforce documents (\\N \\R \\T \\B \\F)', () => {
    const [t] = tokenizeSoql(String.raw`'\N\R\T\B\F'`);
    expect(t).toMatchObject({ kind: 'string', value: '\n\r\t\b\f' });
  });

  it('refuses any other backslash escape', () => {
    for (const bad of [String.raw`'\d'`, String.raw`'\x41'`, String.raw`'\u0041'`, String.raw`'a\ b'`]) {
      expect(() => tokenizeSoql(bad), bad).toThrowError(SalesforceQueryError);
    }
  });

  it('refuses an unterminated string, including one whose last quote is escaped', () => {
    expect(() => tokenizeSoql("'abc")).toThrowError(/EOF/);
    expect(() => tokenizeSoql(String.raw`'abc\'`)).toThrowError(/EOF/);
  });

  it('reads dates, datetimes, numbers, operators and punctuation', () => {
    const kinds = tokenizeSoql("2026-01-31 2026-01-31T10:00:00Z 42 -1.5 != <> <= >= = < > ( , ) Name").map((t) => t.kind);
    expect(kinds).toEqual(['date', 'datetime', 'number', 'number', 'op', 'op', 'op', 'op', 'op', 'op', 'op', 'punct', 'punct', 'punct', 'ident', 'eof']);
  });

  it('refuses impossible dates and stray characters', () => {
    expect(() => tokenizeSoql('2026-02-30')).toThrowError(SalesforceQueryError);
    expect(() => tokenizeSoql('Name = "x"')).toThrowError(SalesforceQueryError);
    expect(() => tokenizeSoql('Name = :bind')).toThrowError(SalesforceQueryError);
    expect(() => tokenizeSoql("Name = 'x';")).toThrowError(SalesforceQueryError);
  });
});

describe('SOQL parser', () => {
  it('parses the full clause set, keywords in any case', () => {
    const q = parseSoql("select Id, name from account where (Name = 'a' or Name LIKE 'b%') and not Loyalty_Tier__c in ('Gold', null) order by Name desc nulls first, Id limit 5 offset 1");
    expect(q.fields.map((f) => f.name)).toEqual(['Id', 'name']);
    expect(q.object.name).toBe('account');
    expect(q.where?.type).toBe('and');
    expect(q.orderBy).toMatchObject([{ field: { name: 'Name' }, descending: true, nullsFirst: true }, { field: { name: 'Id' }, descending: false, nullsFirst: true }]);
    expect(q.limit).toBe(5);
    expect(q.offset).toBe(1);
  });

  it.each([
    ['empty', ''],
    ['no FROM', 'SELECT Id'],
    ['trailing comma', 'SELECT Id, FROM Account'],
    ['trailing tokens', "SELECT Id FROM Account WHERE Name = 'a' 'b'"],
    ['classic injection', "SELECT Id FROM Account WHERE Name = 'x' OR '1'='1'"],
    ['AND and OR mixed without parentheses', "SELECT Id FROM Account WHERE Name = 'a' AND Name = 'b' OR Name = 'c'"],
    ['unbalanced parenthesis', "SELECT Id FROM Account WHERE (Name = 'a'"],
    ['empty IN list', 'SELECT Id FROM Account WHERE Name IN ()'],
    ['LIKE without a string', 'SELECT Id FROM Account WHERE Name LIKE 5'],
    ['non-integer LIMIT', 'SELECT Id FROM Account LIMIT 1.5'],
    ['keyword as field', 'SELECT FROM FROM Account'],
    ['second statement', "SELECT Id FROM Account WHERE Name = 'a'; DELETE"],
    ['bad escape', String.raw`SELECT Id FROM Account WHERE Name = 'O\Keil'`],
  ])('refuses %s as MALFORMED_QUERY', (_label, q) => {
    expect(errorOf(q).errorCode).toBe('MALFORMED_QUERY');
  });

  it('points at the offending token like Salesforce does', () => {
    const err = errorOf("SELECT Id FROM Account WHERE Name = 'a' 'b'");
    expect(err.message).toContain('ERROR at Row:1:Column:41');
    expect(err.message).toContain("unexpected token: ''b''");
  });
});

describe('SOQL evaluation', () => {
  it('matches an escaped apostrophe exactly', () => {
    expect(names(String.raw`SELECT Name FROM Account WHERE Name = 'O\'Neil & Sons'`)).toEqual(["O'Neil & Sons"]);
  });

  it('matches an escaped backslash literally', () => {
    expect(names(String.raw`SELECT Name FROM Account WHERE Name = 'Back\\slash 50%_off'`)).toEqual(['Back\\slash 50%_off']);
  });

  it('an unescaped injection that happens to parse really widens the query (why clients must escape)', () => {
    const input = "x' OR Name != '";
    expect(run(`SELECT Id FROM Account WHERE Name = '${input}'`)).toHaveLength(ROWS.length);
  });

  it('the same injection, properly escaped, is one literal and matches nothing', () => {
    const escaped = "x' OR Name != '".replace(/[\\']/g, (c) => `\\${c}`);
    expect(run(`SELECT Id FROM Account WHERE Name = '${escaped}'`)).toEqual([]);
  });

  it('compares text case-insensitively with = and LIKE, as Salesforce does', () => {
    expect(names("SELECT Name FROM Account WHERE Name = 'ACME CORP'")).toEqual(['Acme Corp', 'acme corp']);
    expect(names("SELECT Name FROM Account WHERE Name LIKE 'acme%'")).toEqual(['Acme Corp', 'acme corp']);
  });

  it('LIKE supports % and _ wildcards and \\% \\_ escapes', () => {
    expect(names("SELECT Name FROM Account WHERE Name LIKE '_cme%'")).toEqual(['Acme Corp', 'acme corp']);
    expect(names(String.raw`SELECT Name FROM Account WHERE Name LIKE '%50\%\_off'`)).toEqual(['Back\\slash 50%_off']);
    expect(names(String.raw`SELECT Name FROM Account WHERE Name LIKE '%0\%%'`)).toEqual(['Back\\slash 50%_off']);
    expect(names("SELECT Name FROM Account WHERE Name LIKE 'cme%'")).toEqual([]);
  });

  it('\\% outside LIKE is a syntax error', () => {
    expect(errorOf(String.raw`SELECT Id FROM Account WHERE Name = '50\%'`).errorCode).toBe('MALFORMED_QUERY');
  });

  it('supports =, !=, <>, IN, NOT IN, null and NOT', () => {
    expect(names("SELECT Name FROM Account WHERE Customer_Number__c IN ('0010100001', '0010100008')")).toEqual(["O'Neil & Sons", 'Acme Corp']);
    expect(names("SELECT Name FROM Account WHERE Loyalty_Tier__c NOT IN ('Gold', 'Bronze')")).toEqual(['Back\\slash 50%_off', 'acme corp']);
    expect(names('SELECT Name FROM Account WHERE Loyalty_Tier__c = null')).toEqual(['acme corp']);
    expect(names('SELECT Name FROM Account WHERE Loyalty_Tier__c != null')).toHaveLength(3);
    expect(names("SELECT Name FROM Account WHERE Loyalty_Tier__c <> 'gold'")).toHaveLength(3);
    expect(names("SELECT Name FROM Account WHERE NOT Name LIKE 'acme%'")).toEqual(["O'Neil & Sons", 'Back\\slash 50%_off']);
  });

  it('evaluates AND / OR groups with parentheses', () => {
    expect(names("SELECT Name FROM Account WHERE (Loyalty_Tier__c = 'Gold' OR Loyalty_Tier__c = 'Silver') AND Name LIKE 'O%'")).toEqual(["O'Neil & Sons"]);
    expect(names("SELECT Name FROM Account WHERE Loyalty_Tier__c = 'Gold' OR (Loyalty_Tier__c = 'Silver' AND Name LIKE 'O%')")).toEqual(["O'Neil & Sons"]);
  });

  it('compares dates with unquoted date literals and refuses quoted ones', () => {
    expect(names('SELECT Name FROM Account WHERE Last_Interaction_Date__c >= 2026-09-15')).toEqual(["O'Neil & Sons", 'Acme Corp']);
    expect(errorOf("SELECT Id FROM Account WHERE Last_Interaction_Date__c = '2026-09-15'").errorCode).toBe('INVALID_QUERY_FILTER_OPERATOR');
    expect(errorOf('SELECT Id FROM Account WHERE Name = 5').errorCode).toBe('INVALID_QUERY_FILTER_OPERATOR');
  });

  it('validates Id literals', () => {
    expect(run("SELECT Id FROM Account WHERE Id = '001000000000002'")).toEqual([ROWS[1]]);
    expect(run("SELECT Id FROM Account WHERE Id = '001000000000002AAA'")).toEqual([ROWS[1]]);
    expect(errorOf("SELECT Id FROM Account WHERE Id = 'x'' OR Id != '''").errorCode).toBe('MALFORMED_QUERY');
    expect(errorOf("SELECT Id FROM Account WHERE Id = 'abc'").errorCode).toBe('INVALID_QUERY_FILTER_OPERATOR');
  });

  it('orders, limits and offsets', () => {
    expect(names('SELECT Name FROM Account ORDER BY Last_Interaction_Date__c')).toEqual(['Back\\slash 50%_off', 'acme corp', 'Acme Corp', "O'Neil & Sons"]);
    expect(names('SELECT Name FROM Account ORDER BY Last_Interaction_Date__c DESC')).toEqual(["O'Neil & Sons", 'Acme Corp', 'acme corp', 'Back\\slash 50%_off']);
    expect(names('SELECT Name FROM Account ORDER BY Customer_Number__c LIMIT 2 OFFSET 1')).toEqual(['Back\\slash 50%_off', 'acme corp']);
    expect(names('SELECT Name FROM Account LIMIT 0')).toEqual([]);
  });

  it('resolves field and object names case-insensitively to their canonical spelling', () => {
    const result = runSoql('SELECT customer_number__C, NAME FROM ACCOUNT', [SCHEMA], () => ROWS);
    expect(result.fields).toEqual(['Customer_Number__c', 'Name']);
    expect(result.object.name).toBe('Account');
  });

  it('reports unknown fields, duplicate fields and unknown objects with their own codes', () => {
    const unknown = errorOf('SELECT Id, Foo__c FROM Account');
    expect(unknown.errorCode).toBe('INVALID_FIELD');
    expect(unknown.message).toContain("No such column 'Foo__c' on entity 'Account'");
    expect(errorOf("SELECT Id FROM Account WHERE Bar = 'x'").errorCode).toBe('INVALID_FIELD');
    expect(errorOf('SELECT Id FROM Account ORDER BY Baz').errorCode).toBe('INVALID_FIELD');
    expect(errorOf('SELECT Id, id FROM Account').errorCode).toBe('INVALID_FIELD');
    expect(errorOf('SELECT Id FROM Contact').errorCode).toBe('INVALID_TYPE');
  });
});

describe('SOQL DateTime fields', () => {
  const schema: SObjectSchema = { name: 'Account', fields: [{ name: 'Name', type: 'string' }, { name: 'LastModifiedDate', type: 'datetime' }] };
  // stored and returned as Salesforce sends them: UTC, milliseconds, an offset without a colon
  const rows: SRecord[] = [
    { Name: 'early', LastModifiedDate: '2026-11-20T08:00:00.000+0000' },
    { Name: 'late', LastModifiedDate: '2026-11-20T14:03:11.000+0000' },
  ];
  const select = (where: string) => runSoql(`SELECT Name, LastModifiedDate FROM Account WHERE ${where}`, [schema], () => rows).records;

  it('returns the value verbatim and compares datetime literals as instants, whatever their zone', () => {
    expect(select('LastModifiedDate > 2026-11-20T12:00:00Z')).toEqual([{ Name: 'late', LastModifiedDate: '2026-11-20T14:03:11.000+0000' }]);
    expect(select('LastModifiedDate = 2026-11-20T15:03:11+01:00').map((r) => r.Name)).toEqual(['late']);
  });

  it('refuses a date or a quoted string where a dateTime belongs', () => {
    for (const where of ['LastModifiedDate > 2026-11-20', "LastModifiedDate > '2026-11-20T12:00:00Z'"]) {
      let error: unknown;
      try {
        select(where);
      } catch (err) {
        error = err;
      }
      expect(error, where).toBeInstanceOf(SalesforceQueryError);
      expect((error as SalesforceQueryError).errorCode, where).toBe('INVALID_QUERY_FILTER_OPERATOR');
    }
  });
});

describe('SOQL batched look-ups (IN lists)', () => {
  const MANY: SRecord[] = Array.from({ length: 1000 }, (_, i) => ({
    Id: `001${String(i).padStart(12, '0')}AAA`,
    Name: `Customer ${i}`,
    Customer_Number__c: `00101${String(i).padStart(5, '0')}`,
    Loyalty_Tier__c: i % 2 === 0 ? 'Gold' : 'Silver',
    Last_Interaction_Date__c: null,
  }));
  const numbers = (q: string) => runSoql(q, [SCHEMA], () => MANY).records.map((r) => r.Customer_Number__c);
  const inList = (values: readonly string[]) => values.map((v) => `'${v}'`).join(',');

  it('an IN list of 500 values finds exactly those records, in storage order, and ignores unknown values', () => {
    const wanted = MANY.filter((_, i) => i % 2 === 1).map((r) => r.Customer_Number__c ?? '');
    const unknown = ['0019999998', '0019999999'];
    const got = numbers(`SELECT Customer_Number__c FROM Account WHERE Customer_Number__c IN (${inList([...wanted].reverse())},${inList(unknown)})`);
    expect(got).toEqual(wanted);
  });

  it('an IN list combined with another condition applies both', () => {
    const wanted = MANY.slice(0, 10).map((r) => r.Customer_Number__c ?? '');
    expect(numbers(`SELECT Customer_Number__c FROM Account WHERE Customer_Number__c IN (${inList(wanted)}) AND Loyalty_Tier__c = 'Gold'`)).toEqual(wanted.filter((_, i) => i % 2 === 0));
  });

  it.each([
    ['one equality', "Customer_Number__c = 'a'", 1],
    ['an IN list (duplicates once)', "Customer_Number__c IN ('a', 'b', 'c', 'b')", 3],
    ['an OR chain of equalities on one field', "(Customer_Number__c = 'a' OR Customer_Number__c = 'b' OR Customer_Number__c IN ('c', 'd'))", 4],
    ['the largest key set of an AND', "Customer_Number__c IN ('a', 'b') AND Loyalty_Tier__c = 'Gold'", 2],
    ['OR over different fields', "Customer_Number__c = 'a' OR Name = 'b'", 0],
    ['NOT IN', "Customer_Number__c NOT IN ('a', 'b')", 0],
    ['a range', 'Last_Interaction_Date__c > 2026-01-01', 0],
  ])('counts the keys a WHERE clause carries: %s', (_label, where, size) => {
    expect(soqlBatchSize(parseSoql(`SELECT Id FROM Account WHERE ${where}`).where)).toBe(size);
  });

  it('no WHERE clause carries no keys', () => {
    expect(soqlBatchSize(parseSoql('SELECT Id FROM Account').where)).toBe(0);
  });
});

describe('SOQL limits (Salesforce: 100,000 characters a statement, 4,000 a WHERE string)', () => {
  const base = "SELECT Id FROM Account WHERE Name = ''";
  /** A statement of exactly `length` characters (padding the name literal). */
  const statementOf = (length: number) => `SELECT Id FROM Account WHERE Name = '${'x'.repeat(length - base.length)}'`;

  it('the defaults are Salesforce\'s', () => {
    expect(SOQL_LIMITS).toEqual({ maxStatementLength: 100_000, maxWhereStringLength: 4_000 });
  });

  it('a statement of exactly the limit runs; one character more is MALFORMED_QUERY in Salesforce\'s words', () => {
    const limits = { maxStatementLength: 200, maxWhereStringLength: null };
    expect(runSoql(statementOf(200), [SCHEMA], () => ROWS, limits).records).toEqual([]);
    let error: unknown;
    try {
      runSoql(statementOf(201), [SCHEMA], () => ROWS, limits);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SalesforceQueryError);
    expect((error as SalesforceQueryError).errorCode).toBe('MALFORMED_QUERY');
    expect((error as SalesforceQueryError).message).toBe('SOQL statements can not be longer than 200 characters.');
  });

  it('at the default, 100,000 characters run and 100,001 do not', () => {
    expect(runSoql(statementOf(100_000), [SCHEMA], () => ROWS, { ...SOQL_LIMITS, maxWhereStringLength: null }).records).toEqual([]);
    expect(() => runSoql(statementOf(100_001), [SCHEMA], () => ROWS, { ...SOQL_LIMITS, maxWhereStringLength: null })).toThrowError('SOQL statements can not be longer than 100000 characters.');
  });

  it('each WHERE string may hold 4,000 characters; 4,001 is MALFORMED_QUERY pointing at the string (=, IN and LIKE alike)', () => {
    const ok = 'a'.repeat(4000);
    const long = 'a'.repeat(4001);
    expect(run(`SELECT Id FROM Account WHERE Name = '${ok}'`)).toEqual([]);
    expect(run(`SELECT Id FROM Account WHERE Name IN ('${ok}', '${ok}')`)).toEqual([]);
    for (const where of [`Name = '${long}'`, `Name IN ('a', '${long}')`, `Name LIKE '${long}'`]) {
      const err = errorOf(`SELECT Id FROM Account WHERE ${where}`);
      expect(err.errorCode, where.slice(0, 20)).toBe('MALFORMED_QUERY');
      expect(err.message).toContain('ERROR at Row:1:Column:');
      expect(err.message).toContain('4001 characters, at most 4000 are allowed');
    }
  });

  it('the string bound counts decoded characters: 4,000 escaped quotes are 4,000 characters', () => {
    expect(run(`SELECT Id FROM Account WHERE Name = '${"\\'".repeat(4000)}'`)).toEqual([]);
  });

  it('null limits switch a bound off', () => {
    expect(runSoql(`SELECT Id FROM Account WHERE Name = '${'a'.repeat(5000)}'`, [SCHEMA], () => ROWS, { maxStatementLength: null, maxWhereStringLength: null }).records).toEqual([]);
  });
});
