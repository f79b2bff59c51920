import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { serializeReply, shareAnswer } from './shared-answer.js';

/** An answer, and how often it has been turned into JSON. */
function counted(body: Record<string, unknown>) {
  const count = { serializations: 0 };
  const answer = {
    toJSON() {
      count.serializations++;
      return body;
    },
  };
  return { answer, count };
}

describe('serializeReply', () => {
  it('writes any payload as JSON.stringify does, shared or not, however often', () => {
    const json = fc.jsonValue();
    fc.assert(
      fc.property(json, fc.boolean(), fc.integer({ min: 1, max: 3 }), (value, shared, times) => {
        const payload = shared && typeof value === 'object' && value !== null ? shareAnswer(structuredClone(value)) : value;
        for (let i = 0; i < times; i++) expect(serializeReply(payload)).toBe(JSON.stringify(value));
      }),
      { numRuns: 300 },
    );
  });

  it('serializes a shared answer once, at its first reply', () => {
    const { answer, count } = counted({ status: 'ok', data: { customerView: { customerId: '0010100001' } } });
    shareAnswer(answer);
    expect(count.serializations).toBe(0);
    const first = serializeReply(answer);
    expect(serializeReply(answer)).toBe(first);
    expect(serializeReply(answer)).toBe(first);
    expect(count.serializations).toBe(1);
    expect(JSON.parse(first)).toEqual({ status: 'ok', data: { customerView: { customerId: '0010100001' } } });
  });

  it('serializes anything not shared anew on every reply (it may have changed)', () => {
    const { answer, count } = counted({ status: 'ok' });
    serializeReply(answer);
    serializeReply(answer);
    expect(count.serializations).toBe(2);
  });

  it('freezes what it shares, so the text it keeps cannot fall behind the object', () => {
    const answer = shareAnswer({ status: 'ok' });
    expect(Object.isFrozen(answer)).toBe(true);
    expect(() => {
      (answer as { status: string }).status = 'degraded';
    }).toThrow(TypeError);
  });
});
