/**
 * Building SOQL and SOSL safely. Values are always validated by the caller and escaped here by
 * Salesforce's rules; field names come only from validated configuration.
 */

const SOQL_ESCAPES: Record<string, string> = {
  '\\': '\\\\',
  "'": "\\'",
  '"': '\\"',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
};

/** A SOQL string literal, quotes included: backslash-escapes `' " \` and the control escapes SOQL knows. */
export function soqlString(value: string): string {
  let out = "'";
  for (const ch of value) {
    const escaped = SOQL_ESCAPES[ch];
    if (escaped !== undefined) out += escaped;
    else if (ch < ' ') throw new RangeError('control character in SOQL literal');
    else out += ch;
  }
  return `${out}'`;
}

const SOSL_RESERVED = new Set(['&', '|', '!', '(', ')', '{', '}', '[', ']', '^', '"', '~', '*', '?', ':', '\\', "'", '+', '-']);

/** A SOSL search term for inside `FIND {…}`: every reserved character backslash-escaped. */
export function soslTerm(value: string): string {
  let out = '';
  for (const ch of value) {
    if (ch < ' ') throw new RangeError('control character in SOSL term');
    out += SOSL_RESERVED.has(ch) ? `\\${ch}` : ch;
  }
  return out;
}

export interface AccountFields {
  customerNumberField: string;
  loyaltyTierField: string;
  lastInteractionField: string;
  emailField: string;
}

export function accountByCustomerNumber(f: AccountFields, customerNumber: string): string {
  return `SELECT Id, Name, Phone, ${f.emailField}, ${f.loyaltyTierField}, ${f.lastInteractionField} FROM Account WHERE ${f.customerNumberField} = ${soqlString(customerNumber)} LIMIT 1`;
}

export function accountsByEmail(f: AccountFields, email: string, limit: number): string {
  return `SELECT Id, ${f.customerNumberField} FROM Account WHERE ${f.emailField} = ${soqlString(email)} ORDER BY ${f.lastInteractionField} DESC LIMIT ${limit}`;
}

export function accountsByPhone(f: AccountFields, e164: string, limit: number): string {
  return `FIND {${soslTerm(e164)}} IN PHONE FIELDS RETURNING Account(Id, ${f.customerNumberField}) LIMIT ${limit}`;
}

/** Many customers' accounts in one SOQL (`IN` list); the customer number is selected to tell the rows apart. */
export function accountsByCustomerNumbers(f: AccountFields, customerNumbers: readonly string[]): string {
  return `SELECT Id, Name, Phone, ${f.emailField}, ${f.loyaltyTierField}, ${f.lastInteractionField}, ${f.customerNumberField} FROM Account WHERE ${f.customerNumberField} IN (${customerNumbers.map(soqlString).join(', ')})`;
}
