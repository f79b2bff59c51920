import { describe, expect, it } from 'vitest';

import { correlationIdFrom } from './correlation.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('correlationIdFrom', () => {
  it('uses an id-shaped ININ-Correlation-Id', () => {
    expect(correlationIdFrom({ 'inin-correlation-id': '3f1c2a9e-8b7d-4c6e-a5f4-0123456789ab' })).toBe('3f1c2a9e-8b7d-4c6e-a5f4-0123456789ab');
    expect(correlationIdFrom({ 'inin-correlation-id': 'flow:abc_1.2-3' })).toBe('flow:abc_1.2-3');
  });

  it('prefers ININ-Correlation-Id over X-Correlation-Id over X-Request-Id', () => {
    expect(correlationIdFrom({ 'x-request-id': 'req-3', 'x-correlation-id': 'corr-2', 'inin-correlation-id': 'inin-1' })).toBe('inin-1');
    expect(correlationIdFrom({ 'x-request-id': 'req-3', 'x-correlation-id': 'corr-2' })).toBe('corr-2');
    expect(correlationIdFrom({ 'x-request-id': 'req-3' })).toBe('req-3');
  });

  it.each([
    ['spaces', 'abc 123'],
    ['a newline', 'abc\n'],
    ['a forged log line', 'abc\r\n{"level":"error","msg":"forged"}'],
    ['over-long (129)', 'a'.repeat(129)],
    ['empty', ''],
    ['quotes', 'abc"def'],
    ['unicode', 'abc\u2028def'],
  ])('ignores an ININ-Correlation-Id with %s', (_what, value) => {
    expect(correlationIdFrom({ 'inin-correlation-id': value, 'x-correlation-id': 'fallback-1' })).toBe('fallback-1');
    expect(correlationIdFrom({ 'inin-correlation-id': value })).toMatch(UUID);
  });

  it('accepts up to 128 characters', () => {
    expect(correlationIdFrom({ 'inin-correlation-id': 'a'.repeat(128) })).toBe('a'.repeat(128));
  });

  it('ignores a repeated header (an array)', () => {
    expect(correlationIdFrom({ 'x-correlation-id': ['a', 'b'] } as never)).toMatch(UUID);
  });

  it('generates a fresh UUID when no usable header is present', () => {
    const a = correlationIdFrom({});
    const b = correlationIdFrom({});
    expect(a).toMatch(UUID);
    expect(b).toMatch(UUID);
    expect(a).not.toBe(b);
  });
});
