/**
 * A real parser and evaluator for the SOSL subset the simulator serves:
 *
 *   FIND {term} [IN (ALL|NAME|EMAIL|PHONE) FIELDS]
 *     [RETURNING Object [(f1, f2, ... [LIMIT n])] [, Object ...]] [LIMIT n]
 *
 * Inside the braces the reserved characters  & | ! ( ) { } [ ] ^ " ~ * ? : \ ' + -  must be
 * escaped with a backslash. The simulator is stricter than Salesforce here on purpose: an
 * unescaped reserved character (which real SOSL may read as an operator or wildcard and so
 * match MORE records) is refused with MALFORMED_SEARCH, as is a backslash before any other
 * character. A client that escapes correctly sees exactly what it would on Salesforce.
 *
 * Matching: PHONE compares digits only (so `\+1 (415) 555-0100` finds '+14155550100'); EMAIL is a
 * case-insensitive exact match; NAME a case-insensitive substring of Name; ALL any of those plus
 * a case-insensitive substring of the other text fields.
 */
import {
  positionedMessage,
  resolveField,
  resolveObject,
  resolveSelectList,
  SalesforceQueryError,
  type NameRef,
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
  /** The search term with escapes removed, trimmed. */
  term: string;
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

/** Parses SOSL text. Throws MALFORMED_SEARCH for anything outside the grammar. */
export function parseSosl(source: string): SoslSearch {
  let i = 0;
  while (i < source.length && /\s/.test(source[i])) i++;
  if (source.slice(i, i + 4).toUpperCase() !== 'FIND' || /[A-Za-z0-9_]/.test(source[i + 4] ?? '')) {
    throw malformed(source, i, `unexpected token: '${source.slice(i).split(/\s/)[0] || '<EOF>'}' expecting FIND`);
  }
  i += 4;
  while (i < source.length && /\s/.test(source[i])) i++;
  if (source[i] !== '{') throw malformed(source, i, `line 1:${i} mismatched input expecting '{'`);
  i++;
  let term = '';
  let closed = false;
  while (i < source.length) {
    const ch = source[i];
    if (ch === '}') {
      closed = true;
      i++;
      break;
    }
    if (ch === '\\') {
      const next = source[i + 1];
      if (next === undefined) break;
      if (!SOSL_RESERVED.has(next)) throw malformed(source, i, `Invalid escape sequence '\\${next}' in search term`);
      term += next;
      i += 2;
      continue;
    }
    if (SOSL_RESERVED.has(ch)) {
      throw malformed(source, i, `line 1:${i} unescaped reserved character '${ch}' in search term; escape it with a backslash`);
    }
    term += ch;
    i++;
  }
  if (!closed) throw malformed(source, source.length, `line 1:${source.length} mismatched character '<EOF>' expecting '}'`);
  term = term.trim();
  if (term.length < 2) throw malformed(source, i - 1, 'search term must be longer than one character');

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
  return { term, scope, returning, limit };
}

export interface SoslResultGroup {
  object: SObjectSchema;
  fields: string[];
  records: SRecord[];
}

function digits(s: string): string {
  return s.replace(/\D+/g, '');
}

function matcher(search: SoslSearch, schema: SObjectSchema): (r: SRecord) => boolean {
  const term = search.term.toLowerCase();
  const termDigits = digits(search.term);
  const byType = (type: string) => schema.fields.filter((f) => f.type === type).map((f) => f.name);
  const phones = byType('phone');
  const emails = byType('email');
  const nameField = schema.fields.some((f) => f.name === 'Name') ? ['Name'] : [];
  const texts = schema.fields.filter((f) => f.type === 'string' || f.type === 'picklist').map((f) => f.name);
  const phoneHit = (r: SRecord) => termDigits.length > 0 && phones.some((f) => r[f] != null && digits(r[f]!) === termDigits);
  const emailHit = (r: SRecord) => emails.some((f) => r[f] != null && r[f]!.toLowerCase() === term);
  const nameHit = (r: SRecord) => nameField.some((f) => r[f] != null && r[f]!.toLowerCase().includes(term));
  const textHit = (r: SRecord) => texts.some((f) => r[f] != null && r[f]!.toLowerCase().includes(term));
  switch (search.scope) {
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

/** Resolves objects and fields and runs the search over `records` (never mutated). */
export function executeSosl(source: string, search: SoslSearch, schemas: readonly SObjectSchema[], records: (object: SObjectSchema) => readonly SRecord[]): SoslResultGroup[] {
  const specs: ReturningSpec[] = search.returning.length > 0 ? search.returning : schemas.map((s) => ({ object: { name: s.name, pos: 0 }, fields: null, limit: null }));
  const groups: SoslResultGroup[] = [];
  for (const spec of specs) {
    const object = resolveObject(source, schemas, spec.object);
    if (groups.some((g) => g.object === object)) {
      throw new SalesforceQueryError('MALFORMED_SEARCH', positionedMessage(source, spec.object.pos, `duplicate entity: ${object.name}`));
    }
    const fields = spec.fields ? resolveSelectList(source, object, spec.fields) : [resolveField(source, object, { name: 'Id', pos: spec.object.pos }).name];
    const hit = matcher(search, object);
    let found = records(object).filter(hit);
    if (spec.limit !== null) found = found.slice(0, spec.limit);
    groups.push({ object, fields, records: found });
  }
  if (search.limit !== null) {
    let left = search.limit;
    for (const g of groups) {
      g.records = g.records.slice(0, left);
      left -= g.records.length;
    }
  }
  return groups;
}

/** Parse and run in one step. */
export function runSosl(source: string, schemas: readonly SObjectSchema[], records: (object: SObjectSchema) => readonly SRecord[]): SoslResultGroup[] {
  return executeSosl(source, parseSosl(source), schemas, records);
}
