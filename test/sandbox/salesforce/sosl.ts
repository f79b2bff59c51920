/**
 * A real parser and evaluator for the SOSL subset the simulator serves:
 *
 *   FIND {term [OR term]...} [IN (ALL|NAME|EMAIL|PHONE) FIELDS]
 *     [RETURNING Object [(f1, f2, ... [LIMIT n])] [, Object ...]] [LIMIT n]
 *
 *   term := word [word]... | "a phrase"
 *
 * Several terms are joined by OR inside the braces, as Salesforce documents it
 * (`FIND {"Joe Smith" OR "Joe Smythe"}`); the operator is a bare word in any case. AND, AND NOT
 * and grouping parentheses, which SOSL also has, are refused here rather than half-implemented.
 *
 * Inside the braces the reserved characters  & | ! ( ) { } [ ] ^ " ~ * ? : \ ' + -  must be
 * escaped with a backslash (the double quote only where it is not a phrase's delimiter). The
 * simulator is stricter than Salesforce here on purpose: an unescaped reserved character (which
 * real SOSL may read as an operator or wildcard and so match MORE records) is refused with
 * MALFORMED_SEARCH, as is a backslash before any other character. A client that escapes correctly
 * sees exactly what it would on Salesforce.
 *
 * Salesforce's documented bounds on the search query (the text between the braces): longer than
 * 4,000 characters, its logical operators are removed and every word or phrase is OR-ed; longer
 * than 10,000 characters, no rows are returned; a search returns at most 2,000 results (API 28.0
 * and later). All three are `SoslLimits`.
 *
 * Matching, per term: PHONE compares digits only (so `\+1 \(415\) 555\-0100` finds '+14155550100');
 * EMAIL is a case-insensitive exact match; NAME a case-insensitive substring of Name; ALL any of
 * those plus a case-insensitive substring of the other text fields. A record matches when any term does.
 */
import {
  type NameRef,
  positionedMessage,
  resolveField,
  resolveObject,
  resolveSelectList,
  SalesforceQueryError,
  type SObjectSchema,
  type SRecord,
} from './soql.js';

export const SOSL_RESERVED = new Set(['&', '|', '!', '(', ')', '{', '}', '[', ']', '^', '"', '~', '*', '?', ':', '\\', "'", '+', '-']);

export type SearchScope = 'ALL' | 'NAME' | 'EMAIL' | 'PHONE';

export interface ReturningSpec {
  object: NameRef;
  /** null: no field list given (Salesforce then returns Id only). */
  fields: NameRef[] | null;
  limit: number | null;
}

export interface SoslSearch {
  /** The whole search query with escapes removed, trimmed (what the client asked for). */
  term: string;
  /** The OR-ed search terms within it, each with escapes removed and trimmed. */
  terms: string[];
  /** Characters between the braces, as written (Salesforce's bounds count these). */
  searchQueryLength: number;
  scope: SearchScope;
  returning: ReturningSpec[];
  limit: number | null;
}

function malformed(source: string, pos: number, detail: string): SalesforceQueryError {
  return new SalesforceQueryError('MALFORMED_SEARCH', positionedMessage(source, pos, detail));
}

type SoslToken =
  | { kind: 'word'; text: string; pos: number }
  | { kind: 'number'; text: string; pos: number }
  | { kind: 'punct'; text: '(' | ')' | ','; pos: number }
  | { kind: 'eof'; pos: number };

function tokenizeRest(source: string, from: number): SoslToken[] {
  const tokens: SoslToken[] = [];
  let i = from;
  while (i < source.length) {
    const ch = source[i];
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const start = i;
    if (/[A-Za-z_]/.test(ch)) {
      while (i < source.length && /[A-Za-z0-9_.]/.test(source[i])) i++;
      tokens.push({ kind: 'word', text: source.slice(start, i), pos: start });
      continue;
    }
    if (/[0-9]/.test(ch)) {
      while (i < source.length && /[0-9]/.test(source[i])) i++;
      if (i < source.length && /[A-Za-z_.]/.test(source[i])) throw malformed(source, start, `unexpected token: '${source.slice(start, i + 1)}'`);
      tokens.push({ kind: 'number', text: source.slice(start, i), pos: start });
      continue;
    }
    if (ch === '(' || ch === ')' || ch === ',') {
      tokens.push({ kind: 'punct', text: ch, pos: start });
      i++;
      continue;
    }
    throw malformed(source, i, `line 1:${i} no viable alternative at character '${ch}'`);
  }
  tokens.push({ kind: 'eof', pos: source.length });
  return tokens;
}

/** Salesforce's bounds on a search; null: unbounded. */
export interface SoslLimits {
  /** Search-query characters beyond which the logical operators are removed and every word is OR-ed (4,000). */
  operatorsDroppedAbove: number | null;
  /** Search-query characters beyond which no rows are returned (10,000). */
  noRowsAbove: number | null;
  /** Results of one search, over all objects (2,000). */
  maxResults: number | null;
}

export const SOSL_LIMITS: Readonly<SoslLimits> = Object.freeze({ operatorsDroppedAbove: 4_000, noRowsAbove: 10_000, maxResults: 2_000 });

/** A word or a quoted phrase of the search query, escapes removed, with the whitespace written before it. */
type Piece = { text: string; quoted: boolean; pos: number; gap: string };

/** Reads the search query from just after `{` up to the closing `}`: its words and phrases, and where it ends. */
function readSearchQuery(source: string, from: number): { pieces: Piece[]; end: number } {
  const pieces: Piece[] = [];
  let i = from;
  let gap = '';
  let word: Piece | undefined;
  let phrase: Piece | undefined;
  const current = (): Piece => {
    if (phrase) return phrase;
    if (!word) {
      word = { text: '', quoted: false, pos: i, gap };
      gap = '';
    }
    return word;
  };
  const endWord = () => {
    if (word) pieces.push(word);
    word = undefined;
  };
  while (i < source.length) {
    const ch = source[i];
    if (ch === '}') {
      if (phrase) throw malformed(source, i, `line 1:${i} unterminated phrase: a '"' is missing`);
      endWord();
      return { pieces, end: i + 1 };
    }
    if (ch === '\\') {
      const next = source[i + 1];
      if (next === undefined) break;
      if (!SOSL_RESERVED.has(next)) throw malformed(source, i, `Invalid escape sequence '\\${next}' in search term`);
      current().text += next;
      i += 2;
      continue;
    }
    if (ch === '"') {
      if (phrase) {
        pieces.push(phrase);
        phrase = undefined;
      } else {
        if (word) throw malformed(source, i, `line 1:${i} unexpected '"' inside a word; escape it with a backslash`);
        phrase = { text: '', quoted: true, pos: i, gap };
        gap = '';
      }
      i++;
      continue;
    }
    if (SOSL_RESERVED.has(ch)) {
      throw malformed(source, i, `line 1:${i} unescaped reserved character '${ch}' in search term; escape it with a backslash`);
    }
    if (!phrase && /\s/.test(ch)) {
      endWord();
      gap += ch;
    } else {
      current().text += ch;
    }
    i++;
  }
  throw malformed(source, source.length, `line 1:${source.length} mismatched character '<EOF>' expecting '}'`);
}

/** Words and phrases as written, with the whitespace between them kept. */
function joined(pieces: readonly Piece[]): string {
  return pieces.map((p, k) => (k === 0 ? '' : p.gap) + p.text).join('');
}

const OPERATORS = new Set(['OR', 'AND', 'NOT']);

/** Groups words and phrases into OR-ed terms (or, past the operator bound, one term each). */
function searchTerms(source: string, pieces: readonly Piece[], operatorsDropped: boolean): string[] {
  const isOperator = (p: Piece) => !p.quoted && OPERATORS.has(p.text.toUpperCase());
  if (operatorsDropped) return pieces.filter((p) => !isOperator(p)).map((p) => p.text);
  const groups: Piece[][] = [[]];
  for (const piece of pieces) {
    if (!isOperator(piece)) {
      groups[groups.length - 1].push(piece);
      continue;
    }
    if (piece.text.toUpperCase() !== 'OR') {
      throw malformed(source, piece.pos, `operator '${piece.text}' is not supported by this simulator: join terms with OR, or quote the word ("${piece.text}")`);
    }
    if (groups[groups.length - 1].length === 0) throw malformed(source, piece.pos, `line 1:${piece.pos} unexpected OR: a search term must come before it`);
    groups.push([]);
  }
  if (groups[groups.length - 1].length === 0) throw malformed(source, pieces[pieces.length - 1].pos, 'unexpected OR at the end of the search query');
  return groups.map(joined);
}

/** Parses SOSL text. Throws MALFORMED_SEARCH for anything outside the grammar. */
export function parseSosl(source: string, limits: SoslLimits = SOSL_LIMITS): SoslSearch {
  let i = 0;
  while (i < source.length && /\s/.test(source[i])) i++;
  if (source.slice(i, i + 4).toUpperCase() !== 'FIND' || /[A-Za-z0-9_]/.test(source[i + 4] ?? '')) {
    throw malformed(source, i, `unexpected token: '${source.slice(i).split(/\s/)[0] || '<EOF>'}' expecting FIND`);
  }
  i += 4;
  while (i < source.length && /\s/.test(source[i])) i++;
  if (source[i] !== '{') throw malformed(source, i, `line 1:${i} mismatched input expecting '{'`);
  const open = i;
  const { pieces, end } = readSearchQuery(source, open + 1);
  const searchQueryLength = end - open - 2;
  const term = joined(pieces);
  if (term.length < 2) throw malformed(source, end - 1, 'search term must be longer than one character');
  const operatorsDropped = limits.operatorsDroppedAbove !== null && searchQueryLength > limits.operatorsDroppedAbove;
  const terms = searchTerms(source, pieces, operatorsDropped);
  i = end;

  const tokens = tokenizeRest(source, i);
  let k = 0;
  const peek = () => tokens[k];
  const isWord = (w: string) => {
    const t = peek();
    return t.kind === 'word' && t.text.toUpperCase() === w;
  };
  const isPunct = (p: string) => {
    const t = peek();
    return t.kind === 'punct' && t.text === p;
  };
  const unexpected = () => {
    const t = peek();
    return malformed(source, t.pos, `unexpected token: '${t.kind === 'eof' ? '<EOF>' : t.text}'`);
  };
  const expectWord = (w: string) => {
    if (!isWord(w)) throw unexpected();
    k++;
  };
  const expectPunct = (p: string) => {
    if (!isPunct(p)) throw unexpected();
    k++;
  };
  const name = (): NameRef => {
    const t = peek();
    if (t.kind !== 'word' || ['IN', 'FIELDS', 'RETURNING', 'LIMIT'].includes(t.text.toUpperCase())) throw unexpected();
    k++;
    return { name: t.text, pos: t.pos };
  };
  const integer = (): number => {
    const t = peek();
    if (t.kind !== 'number') throw unexpected();
    k++;
    return Number(t.text);
  };

  let scope: SearchScope = 'ALL';
  if (isWord('IN')) {
    k++;
    const t = peek();
    const word = t.kind === 'word' ? t.text.toUpperCase() : '';
    if (word !== 'ALL' && word !== 'NAME' && word !== 'EMAIL' && word !== 'PHONE') throw unexpected();
    scope = word;
    k++;
    expectWord('FIELDS');
  }
  const returning: ReturningSpec[] = [];
  if (isWord('RETURNING')) {
    k++;
    do {
      if (returning.length > 0) k++; // the comma
      const object = name();
      let fields: NameRef[] | null = null;
      let limit: number | null = null;
      if (isPunct('(')) {
        k++;
        fields = [name()];
        while (isPunct(',')) {
          k++;
          fields.push(name());
        }
        if (isWord('LIMIT')) {
          k++;
          limit = integer();
        }
        expectPunct(')');
      }
      returning.push({ object, fields, limit });
    } while (isPunct(','));
  }
  let limit: number | null = null;
  if (isWord('LIMIT')) {
    k++;
    limit = integer();
  }
  if (peek().kind !== 'eof') throw unexpected();
  return { term, terms, searchQueryLength, scope, returning, limit };
}

export interface SoslResultGroup {
  object: SObjectSchema;
  fields: string[];
  records: SRecord[];
}

function digits(s: string): string {
  return s.replace(/\D+/g, '');
}

function termMatcher(text: string, scope: SearchScope, schema: SObjectSchema): (r: SRecord) => boolean {
  const term = text.toLowerCase();
  const termDigits = digits(text);
  const byType = (type: string) => schema.fields.filter((f) => f.type === type).map((f) => f.name);
  const phones = byType('phone');
  const emails = byType('email');
  const nameField = schema.fields.some((f) => f.name === 'Name') ? ['Name'] : [];
  const texts = schema.fields.filter((f) => f.type === 'string' || f.type === 'picklist').map((f) => f.name);
  const phoneHit = (r: SRecord) => termDigits.length > 0 && phones.some((f) => r[f] != null && digits(r[f]!) === termDigits);
  const emailHit = (r: SRecord) => emails.some((f) => r[f] != null && r[f]!.toLowerCase() === term);
  const nameHit = (r: SRecord) => nameField.some((f) => r[f] != null && r[f]!.toLowerCase().includes(term));
  const textHit = (r: SRecord) => texts.some((f) => r[f] != null && r[f]!.toLowerCase().includes(term));
  switch (scope) {
    case 'PHONE':
      return phoneHit;
    case 'EMAIL':
      return emailHit;
    case 'NAME':
      return nameHit;
    case 'ALL':
      return (r) => phoneHit(r) || emailHit(r) || nameHit(r) || textHit(r);
  }
}

/** A record matches when any of the OR-ed terms does. */
function matcher(search: SoslSearch, schema: SObjectSchema): (r: SRecord) => boolean {
  const hits = search.terms.map((t) => termMatcher(t, search.scope, schema));
  return (r) => hits.some((hit) => hit(r));
}

/** Resolves objects and fields and runs the search over `records` (never mutated). */
export function executeSosl(
  source: string,
  search: SoslSearch,
  schemas: readonly SObjectSchema[],
  records: (object: SObjectSchema) => readonly SRecord[],
  limits: SoslLimits = SOSL_LIMITS,
): SoslResultGroup[] {
  const noRows = limits.noRowsAbove !== null && search.searchQueryLength > limits.noRowsAbove;
  const specs: ReturningSpec[] = search.returning.length > 0 ? search.returning : schemas.map((s) => ({ object: { name: s.name, pos: 0 }, fields: null, limit: null }));
  const groups: SoslResultGroup[] = [];
  for (const spec of specs) {
    const object = resolveObject(source, schemas, spec.object);
    if (groups.some((g) => g.object === object)) {
      throw new SalesforceQueryError('MALFORMED_SEARCH', positionedMessage(source, spec.object.pos, `duplicate entity: ${object.name}`));
    }
    const fields = spec.fields ? resolveSelectList(source, object, spec.fields) : [resolveField(source, object, { name: 'Id', pos: spec.object.pos }).name];
    const hit = matcher(search, object);
    let found = noRows ? [] : records(object).filter(hit);
    if (spec.limit !== null) found = found.slice(0, spec.limit);
    groups.push({ object, fields, records: found });
  }
  const caps = [search.limit, limits.maxResults].filter((n): n is number => n !== null);
  if (caps.length > 0) {
    let left = Math.min(...caps);
    for (const g of groups) {
      g.records = g.records.slice(0, left);
      left -= g.records.length;
    }
  }
  return groups;
}

/** Parse and run in one step. */
export function runSosl(source: string, schemas: readonly SObjectSchema[], records: (object: SObjectSchema) => readonly SRecord[], limits: SoslLimits = SOSL_LIMITS): SoslResultGroup[] {
  return executeSosl(source, parseSosl(source, limits), schemas, records, limits);
}
