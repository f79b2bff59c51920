import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  candidateRows,
  compareDecimal,
  type EntitySchema,
  filterBatchSize,
  filterPredicate,
  formatStringLiteral,
  ODataSemanticError,
  ODataSyntaxError,
  parseFilter,
  parseKeyPredicate,
  pinnedValues,
  tokenize,
} from './odata-filter.js';

const schema: EntitySchema = {
  Customer: 'string',
  CustomerFullName: 'string',
  Amount: 'decimal',
  IsCleared: 'boolean',
  PostingDate: 'datetime',
};

const rows = [
  { Customer: '0010100001', CustomerFullName: 'Acme Corp', Amount: '1250.500', IsCleared: false, PostingDate: '/Date(1761955200000)/' },
  { Customer: '0010100008', CustomerFullName: "O'Neil & Sons", Amount: '-100.250', IsCleared: false, PostingDate: '/Date(1759276800000)/' },
  { Customer: '0010100009', CustomerFullName: 'Acme Holdings', Amount: '99.999', IsCleared: true, PostingDate: '/Date(1735689600000)/' },
];

function matching(filter: string): string[] {
  const p = filterPredicate(filter, schema, 'T');
  return rows.filter((r) => p(r)).map((r) => r.Customer);
}

describe('tokenize', () => {
  it('reads a doubled quote as one quote inside a string literal', () => {
    const tokens = tokenize("CustomerFullName eq 'O''Neil & Sons'");
    expect(tokens[2]).toMatchObject({ kind: 'string', value: "O'Neil & Sons" });
    expect(tokens).toHaveLength(4); // ident, ident(eq), string, eof
  });

  it('rejects an unterminated literal and stray characters', () => {
    expect(() => tokenize("Customer eq '0010")).toThrow(ODataSyntaxError);
    expect(() => tokenize('Customer = 1')).not.toThrow(); // '=' is a token (key predicates) …
    expect(() => parseFilter("Customer = '1'")).toThrow(ODataSyntaxError); // … but not a filter operator
    expect(() => tokenize('Customer eq "1"')).toThrow(/unexpected character/);
    expect(() => tokenize("Customer eq '1';")).toThrow(/unexpected character ';'/);
  });

  it('parses datetime and datetimeoffset literals as UTC instants', () => {
    expect(tokenize("datetime'2026-11-01T00:00'")[0]).toMatchObject({ kind: 'datetime', value: Date.UTC(2026, 10, 1) });
    expect(tokenize("datetime'2026-11-01T12:30:15.5'")[0]).toMatchObject({ value: Date.UTC(2026, 10, 1, 12, 30, 15, 500) });
    expect(tokenize("datetimeoffset'2026-11-01T02:00:00+02:00'")[0]).toMatchObject({ value: Date.UTC(2026, 10, 1) });
    expect(() => tokenize("datetime'2026-02-30T00:00'")).toThrow(ODataSyntaxError);
    expect(() => tokenize("guid'x'")).toThrow(/unknown literal type/);
  });
});

describe('parseFilter + compileFilter', () => {
  it('compares strings, booleans and combines with and/or/not and parentheses', () => {
    expect(matching("Customer eq '0010100001'")).toEqual(['0010100001']);
    expect(matching("Customer ne '0010100001' and IsCleared eq false")).toEqual(['0010100008']);
    expect(matching("(Customer eq '0010100001' or Customer eq '0010100009') and not IsCleared")).toEqual(['0010100001']);
    expect(matching('IsCleared eq true')).toEqual(['0010100009']);
    expect(matching("not (Customer eq '0010100001')")).toEqual(['0010100008', '0010100009']);
  });

  it('and binds tighter than or', () => {
    expect(matching("Customer eq '0010100009' or Customer eq '0010100001' and IsCleared eq true")).toEqual(['0010100009']);
  });

  it('matches a literal with a correctly doubled quote exactly', () => {
    expect(matching("CustomerFullName eq 'O''Neil & Sons'")).toEqual(['0010100008']);
  });

  it('a lone quote inside a literal is a syntax error, never a match', () => {
    expect(() => parseFilter("CustomerFullName eq 'O'Neil & Sons'")).toThrow(ODataSyntaxError);
  });

  it('an injection widens the query only when sent unescaped; escaped it matches nothing', () => {
    expect(matching("Customer eq '1' or '1' eq '1'")).toHaveLength(3);
    const escaped = `Customer eq ${formatStringLiteral("1' or '1' eq '1")}`;
    expect(escaped).toBe("Customer eq '1'' or ''1'' eq ''1'");
    expect(matching(escaped)).toEqual([]);
  });

  it('compares Edm.Decimal exactly as decimals, not as text or floats', () => {
    expect(matching('Amount gt 100')).toEqual(['0010100001']);
    expect(matching('Amount lt 0')).toEqual(['0010100008']);
    expect(matching('Amount eq 1250.5M')).toEqual(['0010100001']);
    expect(matching('Amount ge -100.25 and Amount le 99.999')).toEqual(['0010100008', '0010100009']);
    expect(compareDecimal('0.300', '0.3')).toBe(0);
    expect(compareDecimal('-5', '-100.250')).toBe(1);
  });

  it('compares Edm.DateTime with datetime literals', () => {
    expect(matching("PostingDate ge datetime'2025-10-01T00:00:00'")).toEqual(['0010100001', '0010100008']);
    expect(matching("PostingDate lt datetime'2025-10-01T00:00'")).toEqual(['0010100009']);
  });

  it('supports substringof, startswith, endswith, tolower', () => {
    expect(matching("substringof('Acme',CustomerFullName)")).toEqual(['0010100001', '0010100009']);
    expect(matching("substringof('Acme',CustomerFullName) eq true and IsCleared eq false")).toEqual(['0010100001']);
    expect(matching("startswith(CustomerFullName,'O''Neil')")).toEqual(['0010100008']);
    expect(matching("endswith(CustomerFullName,'Holdings')")).toEqual(['0010100009']);
    expect(matching("tolower(CustomerFullName) eq 'acme corp'")).toEqual(['0010100001']);
  });

  it('null comparisons', () => {
    expect(matching('Customer eq null')).toEqual([]);
    expect(matching('Customer ne null')).toHaveLength(3);
  });

  it('rejects unknown properties and type mismatches', () => {
    expect(() => matching("Nope eq '1'")).toThrow(ODataSemanticError);
    expect(() => matching("Nope eq '1'")).toThrow(/property 'Nope' not found in type 'T'/);
    expect(() => matching('Customer eq 1')).toThrow(ODataSemanticError);
    expect(() => matching("IsCleared eq 'false'")).toThrow(ODataSemanticError);
    expect(() => matching('Customer')).toThrow(/not a boolean/);
    expect(() => matching("Customer eq '1' and 'x'")).toThrow(ODataSemanticError);
    expect(() => matching("substringof(Amount,'1')")).toThrow(ODataSemanticError);
  });

  it('rejects malformed syntax', () => {
    for (const bad of [
      '',
      '   ',
      "Customer eq '1' or",
      "Customer eq '1')",
      "(Customer eq '1'",
      "Customer eq eq '1'",
      "Customer eq '1' eq true",
      'Amount add 1 gt 2',
      "Customer EQ '1'",
      "foo('x')",
      "substringof('x')",
      "Customer eq '1' Customer eq '2'",
      'Amount gt 1.2.3',
      'Amount gt 12abc',
    ]) {
      expect(() => matching(bad), bad).toThrow(/./);
      let err: unknown;
      try {
        matching(bad);
      } catch (e) {
        err = e;
      }
      expect(err instanceof ODataSyntaxError || err instanceof ODataSemanticError, bad).toBe(true);
    }
  });
});

describe('parseKeyPredicate', () => {
  it('reads a single quoted key with doubled quotes', () => {
    expect(parseKeyPredicate("'1003764'")).toEqual({ kind: 'single', value: '1003764' });
    expect(parseKeyPredicate("'O''Neil'")).toEqual({ kind: 'single', value: "O'Neil" });
  });

  it('reads named keys', () => {
    expect(parseKeyPredicate("BusinessPartner='1003701',AddressID='28001'")).toEqual({
      kind: 'named',
      values: { BusinessPartner: '1003701', AddressID: '28001' },
    });
  });

  it('rejects lone quotes, unquoted and trailing junk', () => {
    for (const bad of ["'O'Neil'", '1003764', "'1' or '1'", "A='1',", "A='1',A='2'", "A='1' B='2'", ''])
      expect(() => parseKeyPredicate(bad), bad).toThrow(ODataSyntaxError);
  });
});

describe('batched look-ups: or chains (OData V2 has no "in")', () => {
  const many = Array.from({ length: 400 }, (_, i) => ({ Customer: `00101${String(i).padStart(5, '0')}`, IsCleared: i % 3 === 0 }));
  const chain = (ids: readonly string[]) => ids.map((id) => `Customer eq ${formatStringLiteral(id)}`).join(' or ');

  it('a parenthesised chain of 300 equalities and IsCleared eq false matches exactly those rows, whatever the order', () => {
    const wanted = many.filter((_, i) => i % 4 !== 1).slice(0, 300).map((r) => r.Customer);
    const p = filterPredicate(`(${chain([...wanted].reverse())} or Customer eq '0099999999') and IsCleared eq false`, schema, 'T');
    expect(many.filter((r) => p(r)).map((r) => r.Customer)).toEqual(many.filter((r) => wanted.includes(r.Customer) && !r.IsCleared).map((r) => r.Customer));
  });

  it('without the parentheses, and binds tighter: only the last customer is filtered by IsCleared (why clients must bracket the chain)', () => {
    const p = filterPredicate(`Customer eq '0010100000' or Customer eq '0010100003' and IsCleared eq false`, schema, 'T');
    // 0010100000 is cleared (index 0) and still matches; 0010100003 is cleared too and does not
    expect(many.filter((r) => p(r)).map((r) => r.Customer)).toEqual(['0010100000']);
  });

  it('a quote inside a chained literal stays a literal', () => {
    expect(matching(`(${chain(["O'Neil", '0010100008'])}) and IsCleared eq false`)).toEqual(['0010100008']);
  });

  it('"in" (OData V4) is refused as a syntax error', () => {
    expect(() => parseFilter("Customer in ('0010100001','0010100008')")).toThrowError(ODataSyntaxError);
  });

  it.each([
    ['one equality', "Customer eq '1'", 1],
    ['a chain (repeats once), in brackets, with and', "(Customer eq '1' or Customer eq '2' or Customer eq '1' or Customer eq '3') and IsCleared eq false", 3],
    ['literal on the left', "'1' eq Customer or '2' eq Customer", 2],
    ['the larger side of an and', "Customer eq '1' and (CustomerFullName eq 'a' or CustomerFullName eq 'b')", 2],
    ['or over two properties', "Customer eq '1' or CustomerFullName eq 'a'", 0],
    ['ne', "Customer ne '1'", 0],
    ['a function', "startswith(Customer, '1') eq true", 0],
  ])('counts the keys a filter carries: %s', (_label, filter, size) => {
    expect(filterBatchSize(parseFilter(filter))).toBe(size);
  });
});

describe('candidate rows (the simulator\'s index on a pinned property)', () => {
  it('pins a property through eq, or-chains and and', () => {
    expect(pinnedValues(parseFilter("Customer eq 'a' or Customer eq 'b'"), 'Customer')).toEqual(new Set(['a', 'b']));
    expect(pinnedValues(parseFilter("(Customer eq 'a' or 'b' eq Customer) and IsCleared eq false"), 'Customer')).toEqual(new Set(['a', 'b']));
    expect(pinnedValues(parseFilter("Customer eq 'a' or IsCleared eq false"), 'Customer')).toBeUndefined();
    expect(pinnedValues(parseFilter("Customer ne 'a'"), 'Customer')).toBeUndefined();
    expect(pinnedValues(parseFilter("not (Customer eq 'a')"), 'Customer')).toBeUndefined();
    expect(pinnedValues(parseFilter("Customer eq 'a' and Customer eq 'b'"), 'Customer')).toEqual(new Set());
  });

  it('selects exactly the rows a full scan selects, in the same order, for any filter', () => {
    const customer = fc.constantFrom('0010100001', '0010100002', '0010100003', '0010100004');
    const row = fc.record({ Customer: fc.option(customer, { nil: null }), CustomerFullName: fc.constantFrom('Acme', 'Beta'), Amount: fc.constantFrom('1.00', '-2.50', '10'), IsCleared: fc.boolean(), PostingDate: fc.constant('/Date(1735689600000)/') });
    const leaf = fc.oneof(
      customer.map((c) => `Customer eq '${c}'`),
      customer.map((c) => `'${c}' eq Customer`),
      customer.map((c) => `Customer ne '${c}'`),
      fc.constantFrom('IsCleared eq false', 'Amount gt 0', "CustomerFullName eq 'Acme'", 'Customer eq null'),
    );
    const filter = fc.letrec<{ expr: string }>((tie) => ({
      expr: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, fc.tuple(tie('expr'), fc.constantFrom('and', 'or'), tie('expr')).map(([l, op, r]) => `(${l} ${op} ${r})`), tie('expr').map((e) => `not (${e})`)),
    })).expr;
    fc.assert(
      fc.property(fc.array(row, { minLength: 1, maxLength: 30 }), filter, (generated, text) => {
        const data = [...generated];
        const predicate = filterPredicate(text, schema);
        const expected = data.filter((r) => predicate(r));
        expect(candidateRows(data, parseFilter(text), schema, ['Customer']).filter((r) => predicate(r))).toEqual(expected);
        data.push({ ...data[0]!, Customer: '0010100001' }); // an appended row is seen (the index follows the array)
        const grown = data.filter((r) => predicate(r));
        expect(candidateRows(data, parseFilter(text), schema, ['Customer']).filter((r) => predicate(r))).toEqual(grown);
      }),
      { numRuns: 300 },
    );
  });
});
