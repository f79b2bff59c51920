/**
 * A real tokenizer, parser and evaluator for the SOQL subset the simulator serves:
 *
 *   SELECT f1, f2, ... FROM Object
 *     [WHERE cond] [ORDER BY field [ASC|DESC] [NULLS FIRST|LAST], ...] [LIMIT n] [OFFSET n]
 *
 *   cond    := term (AND term)* | term (OR term)*        -- mixing AND/OR needs parentheses, as in SOQL
 *   term    := NOT term | '(' cond ')' | field op literal | field [NOT] IN '(' literal, ... ')' | field LIKE 'pattern'
 *   op      := = | != | <> | < | <= | > | >=
 *   literal := 'string' | null | true | false | number | YYYY-MM-DD | YYYY-MM-DDThh:mm:ssZ
 *
 * String literals follow SOQL's escaping: \' \" \\ \n \r \t \b \f (and their upper-case forms) and,
 * in LIKE patterns only, \% and \_. Any other backslash is a MALFORMED_QUERY, like Salesforce.
 * Keywords, object and field names are case-insensitive; `=` and LIKE on text are case-insensitive.
 *
 * Salesforce's documented bounds ("SOQL and SOSL Limits for Search Queries"): a statement of at most
 * 100,000 characters ("SOQL statements can not be longer than 100000 characters", MALFORMED_QUERY),
 * and at most 4,000 characters in each string within a WHERE clause. Both are `SoqlLimits`.
 *
 * Pure functions only: no HTTP, no state. Errors are thrown as `SalesforceQueryError` carrying the
 * Salesforce errorCode (MALFORMED_QUERY, INVALID_FIELD, INVALID_TYPE, INVALID_QUERY_FILTER_OPERATOR...).
 */

export type SFieldType = 'id' | 'string' | 'phone' | 'email' | 'picklist' | 'date' | 'datetime';

export interface SFieldDef {
  name: string;
  type: SFieldType;
}

export interface SObjectSchema {
  name: string;
  fields: readonly SFieldDef[];
}

/** A stored record: canonical field name → value (dates as 'YYYY-MM-DD', datetimes as Salesforce sends them: '2026-11-20T14:03:11.000+0000'), null when empty. */
export type SRecord = Record<string, string | null>;

/** A query-language error in Salesforce's terms; the simulator answers it as 400 [{message, errorCode}]. */
export class SalesforceQueryError extends Error {
  constructor(
    readonly errorCode: string,
    message: string,
  ) {
    super(message);
    this.name = 'SalesforceQueryError';
  }
}

/** Salesforce's way of pointing at the offending spot: the query line, a caret, row and column. */
export function positionedMessage(source: string, pos: number, detail: string): string {
  const before = source.slice(0, pos);
  const row = before.split('\n').length;
  const lineStart = before.lastIndexOf('\n') + 1;
  const lineEnd = source.indexOf('\n', pos) === -1 ? source.length : source.indexOf('\n', pos);
  const column = pos - lineStart + 1;
  return `\n${source.slice(lineStart, lineEnd)}\n${' '.repeat(column - 1)}^\nERROR at Row:${row}:Column:${column}\n${detail}`;
}

// ------------------------------------------------------------------------------------------ tokens

export type Token =
  | { kind: 'ident'; text: string; pos: number }
  | { kind: 'string'; value: string; likeSource: string; likeEscape: boolean; raw: string; pos: number }
  | { kind: 'number'; text: string; pos: number }
  | { kind: 'date'; text: string; pos: number }
  | { kind: 'datetime'; text: string; pos: number }
  | { kind: 'op'; text: '=' | '!=' | '<>' | '<' | '<=' | '>' | '>='; pos: number }
  | { kind: 'punct'; text: ',' | '(' | ')'; pos: number }
  | { kind: 'eof'; pos: number };

const SIMPLE_ESCAPES: Record<string, string> = {
  n: '\n', N: '\n', r: '\r', R: '\r', t: '\t', T: '\t', b: '\b', B: '\b', f: '\f', F: '\f',
  '"': '"', "'": "'", '\\': '\\',
};

function regexEscape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

function isDigit(ch: string | undefined): boolean {
  return ch !== undefined && ch >= '0' && ch <= '9';
}

function isIdentStart(ch: string | undefined): boolean {
  return ch !== undefined && /[A-Za-z_]/.test(ch);
}

function isIdentPart(ch: string | undefined): boolean {
  return ch !== undefined && /[A-Za-z0-9_]/.test(ch);
}

function malformed(source: string, pos: number, detail: string): SalesforceQueryError {
  return new SalesforceQueryError('MALFORMED_QUERY', positionedMessage(source, pos, detail));
}

/** Splits SOQL into tokens; throws MALFORMED_QUERY on an unterminated string, a bad escape or a stray character. */
export function tokenizeSoql(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = source.length;
  while (i < n) {
    const ch = source[i];
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const start = i;
    if (ch === "'") {
      i++;
      let value = '';
      let likeSource = '';
      let likeEscape = false;
      let closed = false;
      while (i < n) {
        const c = source[i];
        if (c === "'") {
          closed = true;
          i++;
          break;
        }
        if (c === '\\') {
          const next = source[i + 1];
          if (next === undefined) break; // unterminated
          if (next in SIMPLE_ESCAPES) {
            value += SIMPLE_ESCAPES[next];
            likeSource += regexEscape(SIMPLE_ESCAPES[next]);
          } else if (next === '%' || next === '_') {
            value += next;
            likeSource += regexEscape(next);
            likeEscape = true;
          } else {
            const raw = source.slice(start, Math.min(n, i + 2));
            throw malformed(source, i, `Invalid string literal '${raw.slice(1)}...'. Illegal character sequence '\\${next}' in string literal.`);
          }
          i += 2;
          continue;
        }
        value += c;
        likeSource += c === '%' ? '.*' : c === '_' ? '.' : regexEscape(c);
        i++;
      }
      if (!closed) throw malformed(source, n, `line 1:${n} mismatched character '<EOF>' expecting '''`);
      tokens.push({ kind: 'string', value, likeSource, likeEscape, raw: source.slice(start, i), pos: start });
      continue;
    }
    if (isDigit(ch) || ((ch === '-' || ch === '+') && isDigit(source[i + 1]))) {
      const rest = source.slice(i);
      const dt = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:\d{2})/.exec(rest);
      const d = /^\d{4}-\d{2}-\d{2}/.exec(rest);
      const num = /^[+-]?\d+(\.\d+)?/.exec(rest);
      const m = dt ?? d ?? num;
      if (!m) throw malformed(source, i, `unexpected token: '${ch}'`);
      const text = m[0];
      if (isIdentPart(source[i + text.length]) || source[i + text.length] === '.') {
        throw malformed(source, i, `unexpected token: '${source.slice(i).split(/[\s,()]/)[0]}'`);
      }
      if (dt || d) {
        if (!validDate(text.slice(0, 10))) throw malformed(source, i, `line 1:${i} no viable alternative at character '${text}': invalid date`);
        tokens.push({ kind: dt ? 'datetime' : 'date', text, pos: start });
      } else {
        tokens.push({ kind: 'number', text, pos: start });
      }
      i += text.length;
      continue;
    }
    if (isIdentStart(ch)) {
      i++;
      while (i < n && (isIdentPart(source[i]) || (source[i] === '.' && isIdentStart(source[i + 1])))) i++;
      tokens.push({ kind: 'ident', text: source.slice(start, i), pos: start });
      continue;
    }
    const two = source.slice(i, i + 2);
    if (two === '!=' || two === '<>' || two === '<=' || two === '>=') {
      tokens.push({ kind: 'op', text: two, pos: start });
      i += 2;
      continue;
    }
    if (ch === '=' || ch === '<' || ch === '>') {
      tokens.push({ kind: 'op', text: ch, pos: start });
      i++;
      continue;
    }
    if (ch === ',' || ch === '(' || ch === ')') {
      tokens.push({ kind: 'punct', text: ch, pos: start });
      i++;
      continue;
    }
    throw malformed(source, i, `line 1:${i} no viable alternative at character '${ch}'`);
  }
  tokens.push({ kind: 'eof', pos: n });
  return tokens;
}

function validDate(text: string): boolean {
  const [y, m, d] = text.split('-').map(Number);
  if (m < 1 || m > 12 || d < 1) return false;
  return d <= new Date(Date.UTC(y, m, 0)).getUTCDate();
}

// ------------------------------------------------------------------------------------------ AST

export interface NameRef {
  name: string;
  pos: number;
}

export type Literal =
  | { kind: 'string'; value: string; likeSource: string; likeEscape: boolean; pos: number }
  | { kind: 'number'; text: string; pos: number }
  | { kind: 'date'; text: string; pos: number }
  | { kind: 'datetime'; text: string; pos: number }
  | { kind: 'boolean'; value: boolean; pos: number }
  | { kind: 'null'; pos: number };

export type ComparisonOp = '=' | '!=' | '<' | '<=' | '>' | '>=';

export type Condition =
  | { type: 'and' | 'or'; items: Condition[] }
  | { type: 'not'; item: Condition }
  | { type: 'compare'; field: NameRef; op: ComparisonOp; value: Literal }
  | { type: 'in'; field: NameRef; negated: boolean; values: Literal[] }
  | { type: 'like'; field: NameRef; pattern: Extract<Literal, { kind: 'string' }> };

export interface OrderItem {
  field: NameRef;
  descending: boolean;
  nullsFirst: boolean;
}

export interface SoqlQuery {
  fields: NameRef[];
  object: NameRef;
  where: Condition | null;
  orderBy: OrderItem[];
  limit: number | null;
  offset: number | null;
}

const RESERVED = new Set([
  'SELECT', 'FROM', 'WHERE', 'AND', 'OR', 'NOT', 'IN', 'LIKE', 'ORDER', 'BY', 'LIMIT', 'OFFSET', 'NULL', 'TRUE', 'FALSE',
  'ASC', 'DESC', 'NULLS', 'GROUP', 'HAVING', 'WITH', 'USING', 'FOR', 'INCLUDES', 'EXCLUDES',
]);

function describe(t: Token): string {
  switch (t.kind) {
    case 'eof':
      return '<EOF>';
    case 'string':
      return t.raw;
    case 'ident':
    case 'number':
    case 'date':
    case 'datetime':
    case 'op':
    case 'punct':
      return t.text;
  }
}

class Parser {
  private i = 0;

  constructor(
    private readonly source: string,
    private readonly tokens: Token[],
  ) {}

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.i + offset, this.tokens.length - 1)];
  }

  private next(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.i++;
    return t;
  }

  private unexpected(t: Token = this.peek()): SalesforceQueryError {
    return malformed(this.source, t.pos, `unexpected token: '${describe(t)}'`);
  }

  private isKeyword(word: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.kind === 'ident' && t.text.toUpperCase() === word;
  }

  private expectKeyword(word: string): void {
    if (!this.isKeyword(word)) throw this.unexpected();
    this.i++;
  }

  private expectPunct(p: ',' | '(' | ')'): void {
    const t = this.peek();
    if (t.kind !== 'punct' || t.text !== p) throw this.unexpected();
    this.i++;
  }

  private name(): NameRef {
    const t = this.peek();
    if (t.kind !== 'ident' || RESERVED.has(t.text.toUpperCase())) throw this.unexpected();
    this.i++;
    return { name: t.text, pos: t.pos };
  }

  private integer(): number {
    const t = this.peek();
    if (t.kind !== 'number' || !/^\d+$/.test(t.text)) throw this.unexpected();
    this.i++;
    const value = Number(t.text);
    if (!Number.isSafeInteger(value)) throw malformed(this.source, t.pos, `number too large: ${t.text}`);
    return value;
  }

  parse(): SoqlQuery {
    this.expectKeyword('SELECT');
    const fields = [this.name()];
    while (this.peek().kind === 'punct' && (this.peek() as { text: string }).text === ',') {
      this.i++;
      fields.push(this.name());
    }
    this.expectKeyword('FROM');
    const object = this.name();
    let where: Condition | null = null;
    if (this.isKeyword('WHERE')) {
      this.i++;
      where = this.condition();
    }
    const orderBy: OrderItem[] = [];
    if (this.isKeyword('ORDER')) {
      this.i++;
      this.expectKeyword('BY');
      do {
        if (orderBy.length > 0) this.i++; // the comma
        const field = this.name();
        let descending = false;
        if (this.isKeyword('ASC')) this.i++;
        else if (this.isKeyword('DESC')) {
          this.i++;
          descending = true;
        }
        let nullsFirst = !descending;
        if (this.isKeyword('NULLS')) {
          this.i++;
          if (this.isKeyword('FIRST')) nullsFirst = true;
          else if (this.isKeyword('LAST')) nullsFirst = false;
          else throw this.unexpected();
          this.i++;
        }
        orderBy.push({ field, descending, nullsFirst });
      } while (this.peek().kind === 'punct' && (this.peek() as { text: string }).text === ',');
    }
    let limit: number | null = null;
    if (this.isKeyword('LIMIT')) {
      this.i++;
      limit = this.integer();
    }
    let offset: number | null = null;
    if (this.isKeyword('OFFSET')) {
      this.i++;
      offset = this.integer();
    }
    if (this.peek().kind !== 'eof') throw this.unexpected();
    return { fields, object, where, orderBy, limit, offset };
  }

  private condition(): Condition {
    const first = this.term();
    const joiner = this.isKeyword('AND') ? 'AND' : this.isKeyword('OR') ? 'OR' : null;
    if (!joiner) return first;
    const other = joiner === 'AND' ? 'OR' : 'AND';
    const items = [first];
    while (this.isKeyword(joiner)) {
      this.i++;
      items.push(this.term());
    }
    // SOQL has no precedence between AND and OR: mixing them without parentheses is a syntax error.
    if (this.isKeyword(other)) throw this.unexpected();
    return { type: joiner === 'AND' ? 'and' : 'or', items };
  }

  private term(): Condition {
    if (this.isKeyword('NOT')) {
      this.i++;
      return { type: 'not', item: this.term() };
    }
    const t = this.peek();
    if (t.kind === 'punct' && t.text === '(') {
      this.i++;
      const inner = this.condition();
      this.expectPunct(')');
      return inner;
    }
    const field = this.name();
    if (this.isKeyword('IN') || (this.isKeyword('NOT') && this.isKeyword('IN', 1))) {
      const negated = this.isKeyword('NOT');
      this.i += negated ? 2 : 1;
      this.expectPunct('(');
      const values = [this.literal()];
      while (this.peek().kind === 'punct' && (this.peek() as { text: string }).text === ',') {
        this.i++;
        values.push(this.literal());
      }
      this.expectPunct(')');
      return { type: 'in', field, negated, values };
    }
    if (this.isKeyword('LIKE')) {
      this.i++;
      const p = this.literal();
      if (p.kind !== 'string') throw malformed(this.source, p.pos, 'LIKE requires a string literal');
      return { type: 'like', field, pattern: p };
    }
    const op = this.next();
    if (op.kind !== 'op') throw this.unexpected(op);
    const value = this.literal();
    return { type: 'compare', field, op: op.text === '<>' ? '!=' : op.text, value };
  }

  private literal(): Literal {
    const t = this.next();
    switch (t.kind) {
      case 'string':
        return { kind: 'string', value: t.value, likeSource: t.likeSource, likeEscape: t.likeEscape, pos: t.pos };
      case 'number':
      case 'date':
      case 'datetime':
        return { kind: t.kind, text: t.text, pos: t.pos };
      case 'ident': {
        const word = t.text.toUpperCase();
        if (word === 'NULL') return { kind: 'null', pos: t.pos };
        if (word === 'TRUE' || word === 'FALSE') return { kind: 'boolean', value: word === 'TRUE', pos: t.pos };
        throw this.unexpected(t);
      }
      default:
        throw this.unexpected(t);
    }
  }
}

/** Parses SOQL text into an AST. Throws MALFORMED_QUERY for anything outside the grammar. */
export function parseSoql(source: string): SoqlQuery {
  return new Parser(source, tokenizeSoql(source)).parse();
}

/** Salesforce's bounds on a statement; null: unbounded. */
export interface SoqlLimits {
  /** Characters in the whole statement (Salesforce: 100,000). */
  maxStatementLength: number | null;
  /** Characters in each string literal of the WHERE clause (Salesforce: 4,000). */
  maxWhereStringLength: number | null;
}

export const SOQL_LIMITS: Readonly<SoqlLimits> = Object.freeze({ maxStatementLength: 100_000, maxWhereStringLength: 4_000 });

/** Refuses a statement longer than the limit, in Salesforce's words, before it is parsed. */
export function checkStatementLength(source: string, limits: SoqlLimits = SOQL_LIMITS): void {
  const max = limits.maxStatementLength;
  if (max !== null && source.length > max) {
    throw new SalesforceQueryError('MALFORMED_QUERY', `SOQL statements can not be longer than ${max} characters.`);
  }
}

/** Refuses a WHERE string literal longer than the limit (each string counts on its own, as Salesforce states it). */
export function checkWhereStrings(source: string, where: Condition | null, limits: SoqlLimits = SOQL_LIMITS): void {
  const max = limits.maxWhereStringLength;
  if (max === null || where === null) return;
  const check = (lit: Literal) => {
    if (lit.kind === 'string' && lit.value.length > max) {
      throw malformed(source, lit.pos, `String literal in WHERE clause is too long: ${lit.value.length} characters, at most ${max} are allowed`);
    }
  };
  const walk = (c: Condition): void => {
    switch (c.type) {
      case 'and':
      case 'or':
        c.items.forEach(walk);
        return;
      case 'not':
        walk(c.item);
        return;
      case 'compare':
        check(c.value);
        return;
      case 'in':
        c.values.forEach(check);
        return;
      case 'like':
        check(c.pattern);
    }
  };
  walk(where);
}

/**
 * How many look-up keys a WHERE clause carries: the most distinct values one field is matched
 * against by `=`, `IN (…)` or an OR of those on the same field (AND: the largest of its parts).
 * `Customer_Number__c IN ('a','b','c')` carries 3; `Name = 'x'` 1; a clause without such a
 * condition 0.
 */
export function soqlBatchSize(where: Condition | null): number {
  if (where === null) return 0;
  const keys = lookupKeys(where);
  return keys ? keys.values.size : 0;
}

function lookupKeys(c: Condition): { field: string; values: Set<string> } | undefined {
  switch (c.type) {
    case 'compare':
      return c.op === '=' && c.value.kind !== 'null' ? { field: c.field.name.toLowerCase(), values: new Set([literalValue(c.value) ?? '']) } : undefined;
    case 'in':
      return c.negated ? undefined : { field: c.field.name.toLowerCase(), values: new Set(c.values.flatMap((v) => (v.kind === 'null' ? [] : [literalValue(v) ?? '']))) };
    case 'or': {
      const parts = c.items.map(lookupKeys);
      const first = parts[0];
      if (!first || parts.some((p) => !p || p.field !== first.field)) return undefined;
      return { field: first.field, values: new Set(parts.flatMap((p) => [...(p?.values ?? [])])) };
    }
    case 'and':
      return c.items
        .map(lookupKeys)
        .reduce<{ field: string; values: Set<string> } | undefined>((best, p) => (p && (!best || p.values.size > best.values.size) ? p : best), undefined);
    default:
      return undefined;
  }
}

// ------------------------------------------------------------------------------------------ evaluation

export interface SoqlResult {
  object: SObjectSchema;
  /** Canonical names of the selected fields, in the selected order. */
  fields: string[];
  /** Matching records (whole records), filtered, ordered, offset and limited. */
  records: SRecord[];
}

const TEXT_TYPES: ReadonlySet<SFieldType> = new Set(['id', 'string', 'phone', 'email', 'picklist']);

export function resolveObject(source: string, schemas: readonly SObjectSchema[], ref: NameRef): SObjectSchema {
  const found = schemas.find((s) => s.name.toLowerCase() === ref.name.toLowerCase());
  if (!found) {
    throw new SalesforceQueryError(
      'INVALID_TYPE',
      positionedMessage(source, ref.pos, `sObject type '${ref.name}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.`),
    );
  }
  return found;
}

export function resolveField(source: string, schema: SObjectSchema, ref: NameRef): SFieldDef {
  const found = schema.fields.find((f) => f.name.toLowerCase() === ref.name.toLowerCase());
  if (!found) {
    throw new SalesforceQueryError(
      'INVALID_FIELD',
      positionedMessage(source, ref.pos, `No such column '${ref.name}' on entity '${schema.name}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`),
    );
  }
  return found;
}

/** Resolves a select list (canonical names, duplicates refused as Salesforce does). */
export function resolveSelectList(source: string, schema: SObjectSchema, refs: readonly NameRef[]): string[] {
  const names: string[] = [];
  for (const ref of refs) {
    const f = resolveField(source, schema, ref);
    if (names.includes(f.name)) {
      throw new SalesforceQueryError('INVALID_FIELD', positionedMessage(source, ref.pos, `duplicate field selected: ${f.name}`));
    }
    names.push(f.name);
  }
  return names;
}

function filterError(source: string, pos: number, detail: string): SalesforceQueryError {
  return new SalesforceQueryError('INVALID_QUERY_FILTER_OPERATOR', positionedMessage(source, pos, detail));
}

type Predicate = (r: SRecord) => boolean;

function checkLiteral(source: string, field: SFieldDef, lit: Literal): void {
  if (lit.kind === 'null') return;
  if (lit.kind === 'string' && lit.likeEscape) {
    throw malformed(source, lit.pos, `Invalid string literal. Illegal character sequence '\\%' or '\\_' outside a LIKE expression.`);
  }
  if (TEXT_TYPES.has(field.type)) {
    if (lit.kind !== 'string') {
      throw filterError(source, lit.pos, `value of filter criterion for field '${field.name}' must be of type string and should be enclosed in quotes`);
    }
    if (field.type === 'id' && !/^[A-Za-z0-9]{15}([A-Za-z0-9]{3})?$/.test(lit.value)) {
      throw filterError(source, lit.pos, `invalid ID field: ${lit.value}`);
    }
    return;
  }
  if (field.type === 'date' && lit.kind !== 'date') {
    throw filterError(source, lit.pos, `value of filter criterion for field '${field.name}' must be of type date and should not be enclosed in quotes`);
  }
  if (field.type === 'datetime' && lit.kind !== 'datetime') {
    throw filterError(source, lit.pos, `value of filter criterion for field '${field.name}' must be of type dateTime and should not be enclosed in quotes`);
  }
}

function literalValue(lit: Literal): string | null {
  switch (lit.kind) {
    case 'null':
      return null;
    case 'string':
      return lit.value;
    case 'boolean':
      return String(lit.value);
    default:
      return lit.text;
  }
}

/** Normalised form used for equality and ordering of a field's values. */
function norm(field: SFieldDef, value: string): string {
  if (field.type === 'id') return value.slice(0, 15);
  if (field.type === 'date') return value;
  // stored '…+0000' and a literal '…Z' or '…+01:00' compare as instants
  if (field.type === 'datetime') return new Date(value.replace(/([+-]\d\d)(\d\d)$/, '$1:$2')).toISOString();
  return value.toLowerCase();
}

function compileCondition(source: string, schema: SObjectSchema, cond: Condition): Predicate {
  switch (cond.type) {
    case 'and': {
      const parts = cond.items.map((c) => compileCondition(source, schema, c));
      return (r) => parts.every((p) => p(r));
    }
    case 'or': {
      const parts = cond.items.map((c) => compileCondition(source, schema, c));
      return (r) => parts.some((p) => p(r));
    }
    case 'not': {
      const inner = compileCondition(source, schema, cond.item);
      return (r) => !inner(r);
    }
    case 'compare': {
      const field = resolveField(source, schema, cond.field);
      checkLiteral(source, field, cond.value);
      const lit = literalValue(cond.value);
      const want = lit === null ? null : norm(field, lit);
      const op = cond.op;
      return (r) => {
        const raw = r[field.name] ?? null;
        const have = raw === null ? null : norm(field, raw);
        if (op === '=') return have === want;
        if (op === '!=') return have !== want;
        if (have === null || want === null) return false;
        if (op === '<') return have < want;
        if (op === '<=') return have <= want;
        if (op === '>') return have > want;
        return have >= want;
      };
    }
    case 'in': {
      const field = resolveField(source, schema, cond.field);
      const wanted = new Set<string | null>();
      for (const v of cond.values) {
        checkLiteral(source, field, v);
        const lit = literalValue(v);
        wanted.add(lit === null ? null : norm(field, lit));
      }
      const negated = cond.negated;
      return (r) => {
        const raw = r[field.name] ?? null;
        const hit = wanted.has(raw === null ? null : norm(field, raw));
        return negated ? !hit : hit;
      };
    }
    case 'like': {
      const field = resolveField(source, schema, cond.field);
      if (!TEXT_TYPES.has(field.type) || field.type === 'id') {
        throw filterError(source, cond.field.pos, `invalid operator on ${field.type} field: LIKE`);
      }
      const re = new RegExp(`^${cond.pattern.likeSource}$`, 'is');
      return (r) => {
        const raw = r[field.name] ?? null;
        return raw !== null && re.test(raw);
      };
    }
  }
}

const MAX_OFFSET = 2000;

/** Resolves names, type-checks literals and runs the query over `records` (never mutated). */
export function executeSoql(
  source: string,
  query: SoqlQuery,
  schemas: readonly SObjectSchema[],
  records: (object: SObjectSchema) => readonly SRecord[],
  limits: SoqlLimits = SOQL_LIMITS,
): SoqlResult {
  checkWhereStrings(source, query.where, limits);
  const object = resolveObject(source, schemas, query.object);
  const fields = resolveSelectList(source, object, query.fields);
  const predicate = query.where ? compileCondition(source, object, query.where) : () => true;
  const order = query.orderBy.map((o) => ({ ...o, def: resolveField(source, object, o.field) }));
  if (query.offset !== null && query.offset > MAX_OFFSET) {
    throw new SalesforceQueryError('NUMBER_OUTSIDE_VALID_RANGE', `Maximum SOQL offset allowed is ${MAX_OFFSET}`);
  }
  let rows = records(object).filter(predicate);
  if (order.length > 0) {
    rows = [...rows].sort((a, b) => {
      for (const o of order) {
        const av = a[o.def.name] ?? null;
        const bv = b[o.def.name] ?? null;
        if (av === bv) continue;
        if (av === null) return o.nullsFirst ? -1 : 1;
        if (bv === null) return o.nullsFirst ? 1 : -1;
        const an = norm(o.def, av);
        const bn = norm(o.def, bv);
        if (an === bn) continue;
        const c = an < bn ? -1 : 1;
        return o.descending ? -c : c;
      }
      return 0;
    });
  }
  const start = query.offset ?? 0;
  const end = query.limit === null ? undefined : start + query.limit;
  return { object, fields, records: rows.slice(start, end) };
}

/** Checks the length, parses and runs in one step. */
export function runSoql(source: string, schemas: readonly SObjectSchema[], records: (object: SObjectSchema) => readonly SRecord[], limits: SoqlLimits = SOQL_LIMITS): SoqlResult {
  checkStatementLength(source, limits);
  return executeSoql(source, parseSoql(source), schemas, records, limits);
}
