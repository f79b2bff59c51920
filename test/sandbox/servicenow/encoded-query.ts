/**
 * ServiceNow encoded queries (`sysparm_query`), the subset the middleware uses, parsed and
 * evaluated the way the platform does it.
 *
 * Grammar (as ServiceNow reads it):
 *   query    := group ( '^NQ' group )*                 new query: OR of whole groups
 *   group    := clause ( '^' clause | '^ORDERBY…' )*    AND of clauses
 *   clause   := term ( '^OR' term )*                    OR binds to the preceding term
 *   term     := field operator value
 *   field    := name ( '.' name )*                      dot-walk through reference fields
 *   '^^'     := a literal caret inside a value (the only escape there is)
 *   'ORDERBY<field>' / 'ORDERBYDESC<field>' sort; a trailing 'EQ' segment is a no-op.
 *
 * The dangerous part, reproduced on purpose: a term ServiceNow cannot use (unknown field,
 * unknown operator, no operator at all) is SILENTLY DROPPED and the rest of the query still runs,
 * so `bogus=1^active=true` returns every active record. `parseEncodedQuery` is purely syntactic;
 * `compileEncodedQuery` resolves fields against a table and drops what does not resolve.
 */

export const OPERATORS = [
  // longest / most specific first: the operator follows the field name with no separator
  'ISNOTEMPTY',
  'ISEMPTY',
  'NOT LIKE',
  'NOT IN',
  'STARTSWITH',
  'ENDSWITH',
  'LIKE',
  'IN',
  '!=',
  '<=',
  '>=',
  '=',
  '<',
  '>',
] as const;

export type Operator = (typeof OPERATORS)[number];

export interface Condition {
  /** Field name, possibly dot-walked (`company.u_customer_number`). */
  field: string;
  operator: Operator;
  /** The value with `^^` already turned into `^`. Empty for ISEMPTY / ISNOTEMPTY. */
  value: string;
}

export interface OrderBy {
  field: string;
  descending: boolean;
}

/** A parsed term: either a usable condition or a segment ServiceNow would ignore. */
export type Term = { kind: 'condition'; condition: Condition } | { kind: 'invalid'; text: string };

export interface EncodedQuery {
  /** `^NQ`-separated groups → AND-ed clauses → OR-ed terms. */
  groups: Term[][][];
  orderBy: OrderBy[];
}

const FIELD = /^[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*/;
const FIELD_ONLY = /^[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*$/;

type Joiner = 'start' | 'and' | 'or' | 'nq';

/** Splits on `^`, honouring `^^` as a literal caret. Returns raw segments with how each was joined. */
export function splitSegments(query: string): Array<{ joiner: Joiner; text: string }> {
  const raw: string[] = [];
  let current = '';
  for (let i = 0; i < query.length; i++) {
    const ch = query[i];
    if (ch !== '^') {
      current += ch;
    } else if (query[i + 1] === '^') {
      current += '^';
      i++;
    } else {
      raw.push(current);
      current = '';
    }
  }
  raw.push(current);
  return raw.map((text, i) => classify(text, i === 0));
}

function classify(raw: string, first: boolean): { joiner: Joiner; text: string } {
  if (first) return { joiner: 'start', text: raw };
  if (raw.startsWith('ORDERBY')) return { joiner: 'and', text: raw };
  if (raw.startsWith('NQ')) return { joiner: 'nq', text: raw.slice(2) };
  if (raw.startsWith('OR')) return { joiner: 'or', text: raw.slice(2) };
  return { joiner: 'and', text: raw };
}

/** Parses one term (`field` + operator + value). Anything else is an invalid (ignored) term. */
export function parseTerm(text: string): Term {
  const m = FIELD.exec(text);
  if (!m) return { kind: 'invalid', text };
  const field = m[0];
  const rest = text.slice(field.length);
  for (const op of OPERATORS) {
    if (!rest.startsWith(op)) continue;
    const value = rest.slice(op.length);
    if ((op === 'ISEMPTY' || op === 'ISNOTEMPTY') && value !== '') return { kind: 'invalid', text };
    return { kind: 'condition', condition: { field, operator: op, value } };
  }
  return { kind: 'invalid', text };
}

/** Syntactic parse; never throws (ServiceNow never rejects an encoded query). */
export function parseEncodedQuery(query: string): EncodedQuery {
  const groups: Term[][][] = [[]];
  const orderBy: OrderBy[] = [];
  for (const seg of splitSegments(query)) {
    const text = seg.text;
    if (text === '' || text === 'EQ') continue;
    if (text.startsWith('ORDERBY') && seg.joiner !== 'or') {
      const descending = text.startsWith('ORDERBYDESC');
      const field = text.slice(descending ? 'ORDERBYDESC'.length : 'ORDERBY'.length);
      if (FIELD_ONLY.test(field)) orderBy.push({ field, descending });
      continue;
    }
    if (seg.joiner === 'nq') groups.push([]);
    const group = groups[groups.length - 1];
    const term = parseTerm(text);
    if (seg.joiner === 'or' && group.length > 0) group[group.length - 1].push(term);
    else group.push([term]);
  }
  return { groups: groups.filter((g) => g.length > 0), orderBy };
}

// ------------------------------------------------------------------------------------ batched look-ups

/**
 * How many look-up keys an encoded query carries: the most distinct values one field is matched
 * against in a clause, by `=` or `IN` (`u_customer_numberINa,b,c` carries 3; `company=x^ORcompany=y`
 * 2); across `^` (AND) and `^NQ` the largest clause counts. Counted on the syntax, before fields are
 * resolved, as the request was written.
 */
export function encodedQueryBatchSize(query: EncodedQuery | string): number {
  const parsed = typeof query === 'string' ? parseEncodedQuery(query) : query;
  let best = 0;
  for (const group of parsed.groups) {
    for (const clause of group) {
      const conditions = clause.flatMap((t) => (t.kind === 'condition' ? [t.condition] : []));
      if (conditions.length === 0 || conditions.length !== clause.length) continue;
      const field = conditions[0].field;
      if (conditions.some((c) => c.field !== field || (c.operator !== '=' && c.operator !== 'IN'))) continue;
      const values = new Set(conditions.flatMap((c) => (c.operator === 'IN' ? c.value.split(',') : [c.value])));
      best = Math.max(best, values.size);
    }
  }
  return best;
}

// ------------------------------------------------------------------------------------ evaluation

export type FieldType = 'string' | 'boolean' | 'integer' | 'datetime' | 'reference' | 'sys_id';

/** What a table tells the evaluator about one (possibly dot-walked) field. */
export interface ResolvedField<R> {
  type: FieldType;
  /** The stored value as ServiceNow sends it with display_value=false (always a string). */
  get(record: R): string;
}

/** Resolves a field path on the queried table; undefined when the field does not exist. */
export type FieldResolver<R> = (path: string) => ResolvedField<R> | undefined;

export interface CompiledQuery<R> {
  matches(record: R): boolean;
  /** Sorts a copy according to the ORDERBY terms (stable; unknown sort fields ignored). */
  sort(records: R[]): R[];
  /** The terms that were silently dropped (for diagnostics; ServiceNow reports nothing). */
  ignored: string[];
}

export function compileEncodedQuery<R>(query: EncodedQuery | string, resolve: FieldResolver<R>): CompiledQuery<R> {
  const parsed = typeof query === 'string' ? parseEncodedQuery(query) : query;
  const ignored: string[] = [];
  type Pred = (r: R) => boolean;
  const groups: Pred[][][] = [];
  for (const group of parsed.groups) {
    const clauses: Pred[][] = [];
    for (const clause of group) {
      const terms: Pred[] = [];
      for (const term of clause) {
        if (term.kind === 'invalid') {
          ignored.push(term.text);
          continue;
        }
        const field = resolve(term.condition.field);
        if (!field) {
          ignored.push(`${term.condition.field}${term.condition.operator}${term.condition.value}`);
          continue;
        }
        terms.push(predicate(field, term.condition));
      }
      if (terms.length > 0) clauses.push(terms);
    }
    // a group whose every clause was dropped has no condition left: it matches everything
    groups.push(clauses);
  }
  const sorters = parsed.orderBy
    .map((o) => ({ o, field: resolve(o.field) }))
    .filter((s): s is { o: OrderBy; field: ResolvedField<R> } => s.field !== undefined);
  return {
    ignored,
    matches(record: R): boolean {
      if (groups.length === 0) return true;
      return groups.some((clauses) => clauses.every((terms) => terms.some((t) => t(record))));
    },
    sort(records: R[]): R[] {
      const copy = [...records];
      if (sorters.length === 0) return copy;
      return copy
        .map((r, i) => ({ r, i }))
        .sort((a, b) => {
          for (const s of sorters) {
            const c = compareValues(s.field.get(a.r), s.field.get(b.r));
            if (c !== 0) return s.o.descending ? -c : c;
          }
          return a.i - b.i;
        })
        .map((x) => x.r);
    },
  };
}

const NUMERIC = /^-?\d+(?:\.\d+)?$/;

/** Numbers compare as numbers, everything else (including 'YYYY-MM-DD HH:mm:ss') as text. */
export function compareValues(a: string, b: string): number {
  if (NUMERIC.test(a) && NUMERIC.test(b)) return Number(a) - Number(b);
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  return x < y ? -1 : x > y ? 1 : 0;
}

function normalise(type: FieldType, value: string): string {
  if (type === 'boolean') {
    const v = value.toLowerCase();
    if (v === 'true' || v === '1') return 'true';
    if (v === 'false' || v === '0') return 'false';
  }
  // string comparisons are case-insensitive, as on ServiceNow's default collation
  return value.toLowerCase();
}

function predicate<R>(field: ResolvedField<R>, c: Condition): (r: R) => boolean {
  const want = normalise(field.type, c.value);
  const list = new Set(c.value.split(',').map((v) => normalise(field.type, v)));
  return (record: R) => {
    const raw = field.get(record);
    const have = normalise(field.type, raw);
    switch (c.operator) {
      case '=':
        return have === want;
      case '!=':
        return have !== want;
      case 'LIKE':
        return have.includes(want);
      case 'NOT LIKE':
        return !have.includes(want);
      case 'STARTSWITH':
        return have.startsWith(want);
      case 'ENDSWITH':
        return have.endsWith(want);
      case 'IN':
        return list.has(have);
      case 'NOT IN':
        return !list.has(have);
      case 'ISEMPTY':
        return raw === '';
      case 'ISNOTEMPTY':
        return raw !== '';
      case '<':
        return raw !== '' && compareValues(raw, c.value) < 0;
      case '>':
        return raw !== '' && compareValues(raw, c.value) > 0;
      case '<=':
        return raw !== '' && compareValues(raw, c.value) <= 0;
      case '>=':
        return raw !== '' && compareValues(raw, c.value) >= 0;
    }
  };
}

/** Per record array (a seeded table, never changed in place): positions by a field's normalised value. */
const indexes = new WeakMap<readonly object[], Map<string, Map<string, number[]>>>();

/**
 * The records a query can match, in table order: when one group alone holds an AND-ed clause of a
 * single `=` or `IN` condition on a known field (`company.u_customer_numberIN…`), only the records
 * holding one of its values (the simulator's index, as the instance's database uses one); else
 * every record. Only narrows the search: the query itself still judges each record. The records
 * must not change in place while indexed (the simulator's tables are replaced, never edited).
 */
export function candidateRecords<R extends object>(records: readonly R[], query: EncodedQuery | string, resolve: FieldResolver<R>): readonly R[] {
  const parsed = typeof query === 'string' ? parseEncodedQuery(query) : query;
  if (parsed.groups.length !== 1) return records;
  for (const clause of parsed.groups[0]!) {
    const term = clause.length === 1 ? clause[0]! : undefined;
    if (term?.kind !== 'condition' || (term.condition.operator !== '=' && term.condition.operator !== 'IN')) continue;
    const field = resolve(term.condition.field);
    if (!field) continue;
    let byField = indexes.get(records);
    if (!byField) {
      byField = new Map();
      indexes.set(records, byField);
    }
    let byValue = byField.get(term.condition.field);
    if (!byValue) {
      byValue = new Map();
      for (const [i, record] of records.entries()) {
        const value = normalise(field.type, field.get(record));
        const at = byValue.get(value);
        if (at) at.push(i);
        else byValue.set(value, [i]);
      }
      byField.set(term.condition.field, byValue);
    }
    const wanted = term.condition.operator === '=' ? [term.condition.value] : term.condition.value.split(',');
    const positions = new Set<number>();
    for (const value of wanted) for (const i of byValue.get(normalise(field.type, value)) ?? []) positions.add(i);
    return [...positions].sort((a, b) => a - b).map((i) => records[i]!);
  }
  return records;
}
