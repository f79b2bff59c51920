/**
 * OData V2 `$filter` (the subset SAP Gateway services are called with here): a real tokenizer,
 * a recursive-descent parser and a type-checking compiler to a row predicate. Pure functions.
 *
 * Grammar (precedence low → high):
 *   expr       := orExpr
 *   orExpr     := andExpr ('or' andExpr)*
 *   andExpr    := cmpExpr ('and' cmpExpr)*
 *   cmpExpr    := unary (('eq'|'ne'|'gt'|'ge'|'lt'|'le') unary)?
 *   unary      := 'not' unary | primary
 *   primary    := '(' expr ')' | literal | function '(' args ')' | property
 *   literal    := 'string' (quote doubled as '') | true | false | null | number | datetime'…' | datetimeoffset'…'
 *   function   := substringof | startswith | endswith | tolower | toupper
 *
 * Anything outside the subset (arithmetic, unknown functions, stray characters, a lone quote inside a
 * string literal) is a syntax error, never a silently widened query.
 */

export type EdmType = 'string' | 'boolean' | 'decimal' | 'datetime';
/** Property name → type of an entity type, in wire order. */
export type EntitySchema = Readonly<Record<string, EdmType>>;

export class ODataSyntaxError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
    this.name = 'ODataSyntaxError';
  }
}

// ------------------------------------------------------------------------------------ tokenizer

export type Token =
  | { kind: 'string'; value: string; pos: number }
  | { kind: 'number'; value: string; pos: number }
  | { kind: 'datetime'; value: number; raw: string; pos: number }
  | { kind: 'ident'; value: string; pos: number }
  | { kind: 'lparen' | 'rparen' | 'comma' | 'equals'; pos: number }
  | { kind: 'eof'; pos: number };

const IDENT_START = /[A-Za-z_]/;
const IDENT_PART = /[A-Za-z0-9_]/;
const DIGIT = /[0-9]/;

export function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i];
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      i++;
      continue;
    }
    const pos = i;
    if (c === '(') {
      tokens.push({ kind: 'lparen', pos });
      i++;
    } else if (c === ')') {
      tokens.push({ kind: 'rparen', pos });
      i++;
    } else if (c === ',') {
      tokens.push({ kind: 'comma', pos });
      i++;
    } else if (c === '=') {
      tokens.push({ kind: 'equals', pos });
      i++;
    } else if (c === "'") {
      const { value, end } = readString(input, i);
      tokens.push({ kind: 'string', value, pos });
      i = end;
    } else if (DIGIT.test(c) || (c === '-' && DIGIT.test(input[i + 1] ?? ''))) {
      const m = /^-?[0-9]+(\.[0-9]+)?([MmLlDdFf])?/.exec(input.slice(i));
      if (!m) throw new ODataSyntaxError(`malformed number at position ${pos}`, pos);
      const after = input[i + m[0].length] ?? '';
      if (IDENT_PART.test(after) || after === '.') throw new ODataSyntaxError(`malformed number at position ${pos}`, pos);
      tokens.push({ kind: 'number', value: m[0].replace(/[MmLlDdFf]$/, ''), pos });
      i += m[0].length;
    } else if (IDENT_START.test(c)) {
      let j = i + 1;
      while (j < input.length && IDENT_PART.test(input[j])) j++;
      const word = input.slice(i, j);
      if (input[j] === "'") {
        // a typed literal such as datetime'2026-11-01T00:00:00'
        const { value, end } = readString(input, j);
        tokens.push(typedLiteral(word, value, pos));
        i = end;
      } else {
        tokens.push({ kind: 'ident', value: word, pos });
        i = j;
      }
    } else {
      throw new ODataSyntaxError(`unexpected character '${c}' at position ${pos}`, pos);
    }
  }
  tokens.push({ kind: 'eof', pos: input.length });
  return tokens;
}

/** Reads a quoted literal starting at `start` (the opening quote); `''` is one quote. */
function readString(input: string, start: number): { value: string; end: number } {
  let value = '';
  let i = start + 1;
  for (;;) {
    if (i >= input.length) throw new ODataSyntaxError(`unterminated string literal starting at position ${start}`, start);
    const ch = input[i];
    if (ch === "'") {
      if (input[i + 1] === "'") {
        value += "'";
        i += 2;
        continue;
      }
      return { value, end: i + 1 };
    }
    value += ch;
    i++;
  }
}

function typedLiteral(prefix: string, text: string, pos: number): Token {
  if (prefix === 'datetime') {
    const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?$/.exec(text);
    if (!m) throw new ODataSyntaxError(`malformed datetime literal at position ${pos}`, pos);
    return { kind: 'datetime', value: utcMs(m), raw: text, pos };
  }
  if (prefix === 'datetimeoffset') {
    const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?(Z|[+-]\d{2}:\d{2})$/.exec(text);
    if (!m) throw new ODataSyntaxError(`malformed datetimeoffset literal at position ${pos}`, pos);
    let ms = utcMs(m);
    if (m[8] !== 'Z') {
      const sign = m[8][0] === '-' ? -1 : 1;
      ms -= sign * (Number(m[8].slice(1, 3)) * 60 + Number(m[8].slice(4, 6))) * 60_000;
    }
    return { kind: 'datetime', value: ms, raw: text, pos };
  }
  throw new ODataSyntaxError(`unknown literal type '${prefix}' at position ${pos}`, pos);
}

function utcMs(m: RegExpExecArray): number {
  const [y, mo, d, h, mi] = [1, 2, 3, 4, 5].map((k) => Number(m[k]));
  const s = m[6] === undefined ? 0 : Number(m[6]);
  const ms = m[7] === undefined ? 0 : Math.floor(Number(`0.${m[7]}`) * 1000);
  const value = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  const back = new Date(value);
  if (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) {
    throw new ODataSyntaxError(`invalid date '${m[0]}'`, 0);
  }
  return value;
}

// ------------------------------------------------------------------------------------ parser

export type CompareOp = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';
export type FunctionName = 'substringof' | 'startswith' | 'endswith' | 'tolower' | 'toupper';

export type FilterExpr =
  | { kind: 'or' | 'and'; left: FilterExpr; right: FilterExpr }
  | { kind: 'not'; operand: FilterExpr }
  | { kind: 'compare'; op: CompareOp; left: FilterExpr; right: FilterExpr }
  | { kind: 'property'; name: string; pos: number }
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: string }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'null' }
  | { kind: 'datetime'; value: number }
  | { kind: 'call'; name: FunctionName; args: FilterExpr[]; pos: number };

const COMPARE_OPS = new Set<string>(['eq', 'ne', 'gt', 'ge', 'lt', 'le']);
const UNSUPPORTED_OPS = new Set<string>(['add', 'sub', 'mul', 'div', 'mod', 'has', 'in']);
const RESERVED = new Set<string>(['and', 'or', 'not', ...COMPARE_OPS, ...UNSUPPORTED_OPS]);
const FUNCTIONS: Record<FunctionName, number> = { substringof: 2, startswith: 2, endswith: 2, tolower: 1, toupper: 1 };

export function parseFilter(input: string): FilterExpr {
  if (input.trim() === '') throw new ODataSyntaxError('empty filter expression', 0);
  const p = new Parser(tokenize(input));
  const expr = p.parseOr();
  p.expectEof();
  return expr;
}

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.i];
  }

  private next(): Token {
    const t = this.tokens[this.i];
    if (t.kind !== 'eof') this.i++;
    return t;
  }

  private isWord(word: string): boolean {
    const t = this.peek();
    return t.kind === 'ident' && t.value === word;
  }

  expectEof(): void {
    const t = this.peek();
    if (t.kind !== 'eof') throw new ODataSyntaxError(`unexpected ${describe(t)} at position ${t.pos}`, t.pos);
  }

  parseOr(): FilterExpr {
    let left = this.parseAnd();
    while (this.isWord('or')) {
      this.next();
      left = { kind: 'or', left, right: this.parseAnd() };
    }
    return left;
  }

  private parseAnd(): FilterExpr {
    let left = this.parseCompare();
    while (this.isWord('and')) {
      this.next();
      left = { kind: 'and', left, right: this.parseCompare() };
    }
    return left;
  }

  private parseCompare(): FilterExpr {
    const left = this.parseUnary();
    const t = this.peek();
    if (t.kind === 'ident' && COMPARE_OPS.has(t.value)) {
      this.next();
      const right = this.parseUnary();
      const after = this.peek();
      if (after.kind === 'ident' && COMPARE_OPS.has(after.value)) {
        throw new ODataSyntaxError(`chained comparison at position ${after.pos}; use parentheses`, after.pos);
      }
      return { kind: 'compare', op: t.value as CompareOp, left, right };
    }
    if (t.kind === 'ident' && UNSUPPORTED_OPS.has(t.value)) {
      throw new ODataSyntaxError(`operator '${t.value}' is not supported (position ${t.pos})`, t.pos);
    }
    return left;
  }

  private parseUnary(): FilterExpr {
    if (this.isWord('not')) {
      this.next();
      return { kind: 'not', operand: this.parseUnary() };
    }
    return this.parsePrimary();
  }

  private parsePrimary(): FilterExpr {
    const t = this.next();
    switch (t.kind) {
      case 'lparen': {
        const inner = this.parseOr();
        const close = this.next();
        if (close.kind !== 'rparen') throw new ODataSyntaxError(`expected ')' at position ${close.pos}`, close.pos);
        return inner;
      }
      case 'string':
        return { kind: 'string', value: t.value };
      case 'number':
        return { kind: 'number', value: t.value };
      case 'datetime':
        return { kind: 'datetime', value: t.value };
      case 'ident': {
        if (t.value === 'true' || t.value === 'false') return { kind: 'boolean', value: t.value === 'true' };
        if (t.value === 'null') return { kind: 'null' };
        if (RESERVED.has(t.value)) throw new ODataSyntaxError(`unexpected operator '${t.value}' at position ${t.pos}`, t.pos);
        if (this.peek().kind === 'lparen') return this.parseCall(t.value, t.pos);
        return { kind: 'property', name: t.value, pos: t.pos };
      }
      default:
        throw new ODataSyntaxError(`unexpected ${describe(t)} at position ${t.pos}`, t.pos);
    }
  }

  private parseCall(name: string, pos: number): FilterExpr {
    if (!Object.hasOwn(FUNCTIONS, name)) throw new ODataSyntaxError(`unknown function '${name}' at position ${pos}`, pos);
    this.next(); // (
    const args: FilterExpr[] = [];
    if (this.peek().kind !== 'rparen') {
      args.push(this.parseOr());
      while (this.peek().kind === 'comma') {
        this.next();
        args.push(this.parseOr());
      }
    }
    const close = this.next();
    if (close.kind !== 'rparen') throw new ODataSyntaxError(`expected ')' at position ${close.pos}`, close.pos);
    const fn = name as FunctionName;
    if (args.length !== FUNCTIONS[fn]) {
      throw new ODataSyntaxError(`function '${fn}' takes ${FUNCTIONS[fn]} argument(s), got ${args.length}`, pos);
    }
    return { kind: 'call', name: fn, args, pos };
  }
}

function describe(t: Token): string {
  switch (t.kind) {
    case 'eof':
      return 'end of expression';
    case 'ident':
      return `'${t.value}'`;
    case 'string':
      return 'string literal';
    case 'number':
      return `number ${t.value}`;
    case 'datetime':
      return 'datetime literal';
    case 'lparen':
      return "'('";
    case 'rparen':
      return "')'";
    case 'comma':
      return "','";
    case 'equals':
      return "'='";
  }
}

// ------------------------------------------------------------------------------------ compiler

/** A value's type during type checking ('number' covers Edm.Decimal and numeric literals). */
type ValueType = 'string' | 'boolean' | 'number' | 'datetime' | 'null';
/** An Edm.Decimal value (or numeric literal), compared exactly as decimal text. */
class Dec {
  constructor(readonly text: string) {}
}
/** Evaluated values: strings, booleans, decimals, datetimes as epoch ms, null. */
type Value = string | boolean | number | Dec | null;

export class ODataSemanticError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ODataSemanticError';
  }
}

export type RowPredicate = (row: Readonly<Record<string, unknown>>) => boolean;

/**
 * Type-checks `expr` against the entity type and returns a predicate over wire rows (Edm.Decimal as
 * strings, Edm.DateTime as `/Date(ms)/`). Unknown properties and type mismatches throw.
 */
export function compileFilter(expr: FilterExpr, schema: EntitySchema, typeName = 'entity'): RowPredicate {
  const type = typeOf(expr, schema, typeName);
  if (type !== 'boolean') throw new ODataSemanticError('the filter expression is not a boolean expression');
  return (row) => evaluate(expr, row, schema) === true;
}

/** Parses and compiles in one step. */
export function filterPredicate(input: string, schema: EntitySchema, typeName?: string): RowPredicate {
  return compileFilter(parseFilter(input), schema, typeName);
}

function edmToValueType(t: EdmType): ValueType {
  return t === 'decimal' ? 'number' : t;
}

function typeOf(expr: FilterExpr, schema: EntitySchema, typeName: string): ValueType {
  switch (expr.kind) {
    case 'or':
    case 'and': {
      for (const side of [expr.left, expr.right]) {
        if (typeOf(side, schema, typeName) !== 'boolean') throw new ODataSemanticError(`operands of '${expr.kind}' must be boolean`);
      }
      return 'boolean';
    }
    case 'not':
      if (typeOf(expr.operand, schema, typeName) !== 'boolean') throw new ODataSemanticError("operand of 'not' must be boolean");
      return 'boolean';
    case 'compare': {
      const l = typeOf(expr.left, schema, typeName);
      const r = typeOf(expr.right, schema, typeName);
      if (expr.op === 'eq' || expr.op === 'ne') {
        if (l !== r && l !== 'null' && r !== 'null') throw new ODataSemanticError(`cannot compare ${l} with ${r} using '${expr.op}'`);
        return 'boolean';
      }
      if (l !== r || l === 'null' || l === 'boolean') throw new ODataSemanticError(`cannot compare ${l} with ${r} using '${expr.op}'`);
      return 'boolean';
    }
    case 'property': {
      if (!Object.hasOwn(schema, expr.name)) throw new ODataSemanticError(`property '${expr.name}' not found in type '${typeName}'`);
      return edmToValueType(schema[expr.name]);
    }
    case 'string':
      return 'string';
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'null':
      return 'null';
    case 'datetime':
      return 'datetime';
    case 'call': {
      for (const arg of expr.args) {
        if (typeOf(arg, schema, typeName) !== 'string') throw new ODataSemanticError(`arguments of '${expr.name}' must be strings`);
      }
      return expr.name === 'tolower' || expr.name === 'toupper' ? 'string' : 'boolean';
    }
  }
}

function evaluate(expr: FilterExpr, row: Readonly<Record<string, unknown>>, schema: EntitySchema): Value {
  switch (expr.kind) {
    case 'or':
      return evaluate(expr.left, row, schema) === true || evaluate(expr.right, row, schema) === true;
    case 'and':
      return evaluate(expr.left, row, schema) === true && evaluate(expr.right, row, schema) === true;
    case 'not': {
      const v = evaluate(expr.operand, row, schema);
      return v === null ? null : !v;
    }
    case 'compare':
      return compare(expr.op, evaluate(expr.left, row, schema), evaluate(expr.right, row, schema));
    case 'property':
      return readProperty(row, expr.name, schema[expr.name]);
    case 'number':
      return new Dec(expr.value);
    case 'string':
    case 'boolean':
    case 'datetime':
      return expr.value;
    case 'null':
      return null;
    case 'call': {
      const args = expr.args.map((a) => evaluate(a, row, schema));
      if (args.some((a) => a === null)) return null;
      const [a, b] = args as string[];
      switch (expr.name) {
        case 'substringof':
          return b.includes(a);
        case 'startswith':
          return a.startsWith(b);
        case 'endswith':
          return a.endsWith(b);
        case 'tolower':
          return a.toLowerCase();
        case 'toupper':
          return a.toUpperCase();
      }
    }
  }
}

function readProperty(row: Readonly<Record<string, unknown>>, name: string, type: EdmType): Value {
  const v = row[name];
  if (v === null || v === undefined) return null;
  if (type === 'datetime') {
    if (typeof v === 'number') return v;
    const m = /^\/Date\((-?\d+)(?:[+-]\d{4})?\)\/$/.exec(String(v));
    if (!m) throw new Error(`property ${name} holds no Edm.DateTime: ${String(v)}`);
    return Number(m[1]);
  }
  if (type === 'boolean') return v === true;
  if (type === 'decimal') return new Dec(String(v));
  return String(v);
}

function compare(op: CompareOp, l: Value, r: Value): boolean {
  if (l === null || r === null) {
    if (op === 'eq') return l === r;
    if (op === 'ne') return l !== r;
    return false;
  }
  let c: number;
  if (l instanceof Dec && r instanceof Dec) c = compareDecimal(l.text, r.text);
  else if (typeof l === 'number' && typeof r === 'number') c = l === r ? 0 : l < r ? -1 : 1;
  else if (typeof l === 'boolean' && typeof r === 'boolean') c = l === r ? 0 : 1;
  else c = l === r ? 0 : String(l) < String(r) ? -1 : 1;
  switch (op) {
    case 'eq':
      return c === 0;
    case 'ne':
      return c !== 0;
    case 'gt':
      return c > 0;
    case 'ge':
      return c >= 0;
    case 'lt':
      return c < 0;
    case 'le':
      return c <= 0;
  }
}

/** Compares two decimal strings exactly (no floating point): -1, 0 or 1. */
export function compareDecimal(a: string, b: string): number {
  const pa = decimalParts(a);
  const pb = decimalParts(b);
  const scale = Math.max(pa.frac.length, pb.frac.length);
  const va = BigInt(pa.sign + pa.int + pa.frac.padEnd(scale, '0'));
  const vb = BigInt(pb.sign + pb.int + pb.frac.padEnd(scale, '0'));
  return va === vb ? 0 : va < vb ? -1 : 1;
}

function decimalParts(s: string): { sign: '' | '-'; int: string; frac: string } {
  const m = /^([+-]?)(\d+)(?:\.(\d+))?$/.exec(s.trim());
  if (!m) throw new Error(`not a decimal: ${s}`);
  return { sign: m[1] === '-' ? '-' : '', int: m[2], frac: m[3] ?? '' };
}

// ------------------------------------------------------------------------------------ batched look-ups

/**
 * How many look-up keys a filter carries: the most distinct literals one property is compared to
 * with `eq`, directly or through an `or` chain on that property (`and`: the largest of its two
 * sides). OData V2 has no `in`, so a batch is `(Customer eq 'a' or Customer eq 'b') and …`: 2.
 */
export function filterBatchSize(expr: FilterExpr): number {
  return lookupKeys(expr)?.values.size ?? 0;
}

function literalKey(e: FilterExpr): string | undefined {
  switch (e.kind) {
    case 'string':
    case 'number':
      return `${e.kind}:${e.value}`;
    case 'boolean':
    case 'datetime':
      return `${e.kind}:${String(e.value)}`;
    default:
      return undefined;
  }
}

function lookupKeys(e: FilterExpr): { property: string; values: Set<string> } | undefined {
  switch (e.kind) {
    case 'compare': {
      if (e.op !== 'eq') return undefined;
      const [prop, lit] = e.left.kind === 'property' ? [e.left, e.right] : [e.right, e.left];
      const key = literalKey(lit);
      return prop.kind === 'property' && key !== undefined ? { property: prop.name, values: new Set([key]) } : undefined;
    }
    case 'or': {
      const l = lookupKeys(e.left);
      const r = lookupKeys(e.right);
      return l && r && l.property === r.property ? { property: l.property, values: new Set([...l.values, ...r.values]) } : undefined;
    }
    case 'and': {
      const l = lookupKeys(e.left);
      const r = lookupKeys(e.right);
      if (!l) return r;
      if (!r) return l;
      return r.values.size > l.values.size ? r : l;
    }
    default:
      return undefined;
  }
}

// ------------------------------------------------------------------------------------ literals & keys

/** An Edm.String literal for a URL: quotes doubled (`O'Neil` → `'O''Neil'`); URL-encode afterwards. */
export function formatStringLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

export type KeyPredicate = { kind: 'single'; value: string } | { kind: 'named'; values: Record<string, string> };

/** The text between the parentheses of `Set(…)`: `'1003764'` or `BusinessPartner='1',AddressID='2'`. */
export function parseKeyPredicate(input: string): KeyPredicate {
  const tokens = tokenize(input);
  let i = 0;
  const at = () => tokens[i];
  const first = at();
  if (first.kind === 'string') {
    if (tokens[1].kind !== 'eof') throw new ODataSyntaxError(`unexpected ${describe(tokens[1])} in key predicate`, tokens[1].pos);
    return { kind: 'single', value: first.value };
  }
  const values: Record<string, string> = {};
  for (;;) {
    const name = at();
    if (name.kind !== 'ident') throw new ODataSyntaxError(`expected a key property name at position ${name.pos}`, name.pos);
    const eq = tokens[i + 1];
    if (eq.kind !== 'equals') throw new ODataSyntaxError(`expected '=' at position ${eq.pos}`, eq.pos);
    const value = tokens[i + 2];
    if (value.kind !== 'string') throw new ODataSyntaxError(`expected a string literal at position ${value.pos}`, value.pos);
    if (Object.hasOwn(values, name.value)) throw new ODataSyntaxError(`duplicate key property '${name.value}'`, name.pos);
    values[name.value] = value.value;
    i += 3;
    const sep = at();
    if (sep.kind === 'eof') return { kind: 'named', values };
    if (sep.kind !== 'comma') throw new ODataSyntaxError(`unexpected ${describe(sep)} in key predicate`, sep.pos);
    i++;
  }
}

/**
 * The values a string property must take for `expr` to hold, when the expression pins it down
 * (`P eq 'a'`, an `or` of such, an `and` with one): the rows worth evaluating are then only those
 * holding one of them (the simulator's index, as a gateway's database uses its key). Undefined
 * when the expression does not pin the property; the full filter still decides every row.
 */
export function pinnedValues(expr: FilterExpr, property: string): Set<string> | undefined {
  switch (expr.kind) {
    case 'compare': {
      if (expr.op !== 'eq') return undefined;
      const [prop, literal] = expr.left.kind === 'property' ? [expr.left, expr.right] : [expr.right, expr.left];
      return prop.kind === 'property' && prop.name === property && literal.kind === 'string' ? new Set([literal.value]) : undefined;
    }
    case 'or': {
      const left = pinnedValues(expr.left, property);
      const right = left && pinnedValues(expr.right, property);
      return left && right ? new Set([...left, ...right]) : undefined;
    }
    case 'and': {
      const left = pinnedValues(expr.left, property);
      const right = pinnedValues(expr.right, property);
      if (left && right) return new Set([...left].filter((v) => right.has(v)));
      return left ?? right;
    }
    default:
      return undefined;
  }
}

/** Per row array (the state replaces an array on a delete and appends otherwise): positions by property value. */
const indexes = new WeakMap<readonly object[], { length: number; byProp: Map<string, Map<string, number[]>> }>();

/**
 * The rows a filter can hold for, in their order: those holding a value the filter pins an indexed
 * property to, else every row. Only narrows the search; the filter itself still judges each row.
 */
export function candidateRows<R extends Readonly<Record<string, unknown>>>(rows: readonly R[], filter: FilterExpr | null, schema: EntitySchema, indexed: readonly string[]): readonly R[] {
  if (filter === null) return rows;
  for (const prop of indexed) {
    if (schema[prop] !== 'string') continue;
    const values = pinnedValues(filter, prop);
    if (values === undefined) continue;
    let index = indexes.get(rows);
    if (!index || index.length !== rows.length) {
      index = { length: rows.length, byProp: new Map() };
      indexes.set(rows, index);
    }
    let byValue = index.byProp.get(prop);
    if (!byValue) {
      byValue = new Map();
      rows.forEach((row, i) => {
        const v = row[prop];
        if (v === null || v === undefined) return;
        const key = String(v);
        const at = byValue!.get(key);
        if (at) at.push(i);
        else byValue!.set(key, [i]);
      });
      index.byProp.set(prop, byValue);
    }
    const positions = [...values].flatMap((v) => byValue!.get(v) ?? []).sort((a, b) => a - b);
    return positions.map((i) => rows[i]!);
  }
  return rows;
}
