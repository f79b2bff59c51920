import { describe, expect, it } from 'vitest';

import { UpstreamError } from '../upstream/upstream-error.js';
import { assertIdentifier } from './identifiers.js';

/** A syntactically valid address of exactly `length` characters (64-character local part, 63-character labels). */
function emailOfLength(length: number): string {
  const local = 'a'.repeat(64);
  let rest = length - local.length - 1 - '.com'.length;
  const labels: string[] = [];
  while (rest > 0) {
    const take = Math.min(63, rest);
    labels.push('b'.repeat(take));
    rest -= take + 1; // the dot after it
  }
  const email = `${local}@${labels.join('.')}.com`;
  expect(email).toHaveLength(length);
  return email;
}

function refusal(kind: 'customer number' | 'phone' | 'email', value: string): UpstreamError {
  try {
    assertIdentifier('sap', kind, value);
  } catch (err) {
    expect(err).toBeInstanceOf(UpstreamError);
    return err as UpstreamError;
  }
  throw new Error(`expected ${JSON.stringify(value)} to be refused as ${kind}`);
}

describe('assertIdentifier', () => {
  it.each(['0010100001', 'A', 'ACME-42', 'acme.eu_01', 'Z'.repeat(64)])('accepts the customer number %j', (value) => {
    expect(() => assertIdentifier('sap', 'customer number', value)).not.toThrow();
  });

  it.each(['+14155550100', '+442079460000', '+4930123456', '+123456789012345'])('accepts the E.164 number %j', (value) => {
    expect(() => assertIdentifier('salesforce', 'phone', value)).not.toThrow();
  });

  it.each(['contact1@acmecorp.example.com', 'first.last+tag@sub.example.co.uk', "o'brien@example.com", emailOfLength(254)])('accepts the e-mail %j', (value) => {
    expect(() => assertIdentifier('salesforce', 'email', value)).not.toThrow();
  });

  it.each([
    "x' OR '1'='1",
    '0010100001^ORactive=true',
    "0010100001') or ('1'='1",
    '0010100001 OR 1=1',
    '0010100001\n',
    '../0010100001',
    '-0010100001',
    '',
    'Z'.repeat(65),
    '東京',
  ])('refuses the customer number %j with bad_request', (value) => {
    const err = refusal('customer number', value);
    expect(err.kind).toBe('bad_request');
    expect(err.source).toBe('sap');
    expect(err.transient).toBe(false);
  });

  it.each(['4155550100', '+0123456789', '+141555', '+1234567890123456', '+1 415 555 0100', '+14155550100} OR {x', '+14155550100\n', ''])(
    'refuses the phone %j with bad_request',
    (value) => {
      expect(refusal('phone', value).kind).toBe('bad_request');
    },
  );

  it.each([
    "a@b.com' OR '1'='1",
    'a@b.com OR 1=1',
    'a@b',
    '@example.com',
    'a@-example.com',
    'a@example-.com',
    'a b@example.com',
    'a@example.com\n',
    'a"b@example.com',
    `${'a'.repeat(65)}@example.com`,
    emailOfLength(255),
    '',
  ])('refuses the e-mail %j with bad_request', (value) => {
    expect(refusal('email', value).kind).toBe('bad_request');
  });

  it('does not echo the refused value in the error message', () => {
    const err = refusal('customer number', "x' OR '1'='1");
    expect(err.message).not.toContain("x' OR");
    expect(err.message).toContain('customer number');
  });
});
