import { describe, expect, it } from 'vitest';

import { currentTrace, outboundTraceparent, parseTraceparent, runWithTrace, traceContextFrom, traceLogFields } from './trace-context.js';

const VALID = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('W3C trace context', () => {
  it('keeps the caller\'s trace id and flags, and gives the request a span of its own', () => {
    const context = traceContextFrom({ traceparent: VALID }, 'corr-1');
    expect(context.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(context.flags).toBe('01');
    expect(context.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(context.spanId).not.toBe('00f067aa0ba902b7');
  });

  it.each([
    ['absent', undefined],
    ['garbage', 'hello'],
    ['all-zero trace id', '00-00000000000000000000000000000000-00f067aa0ba902b7-01'],
    ['all-zero parent id', '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01'],
    ['version ff', 'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'],
    ['version 00 with extra fields', `${VALID}-extra`],
    ['short trace id', '00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01'],
  ])('starts a new trace when traceparent is %s', (_, header) => {
    expect(parseTraceparent(header)).toBeUndefined();
    const context = traceContextFrom({ traceparent: header }, 'c');
    expect(context.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(context.traceId).not.toBe('4bf92f3577b34da6a3ce929d0e0e4736');
  });

  it('accepts a later version with extra fields (forward compatible)', () => {
    expect(parseTraceparent(`01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-more`)).toEqual({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', parentId: '00f067aa0ba902b7', flags: '00' });
  });

  it('passes the trace on to outbound calls with this request\'s span as parent, across awaits', async () => {
    const context = traceContextFrom({ traceparent: VALID }, 'corr-2');
    const seen = await runWithTrace(context, async () => {
      await new Promise((resolve) => setImmediate(resolve));
      return { header: outboundTraceparent(), fields: traceLogFields() };
    });
    expect(seen.header).toBe(`00-4bf92f3577b34da6a3ce929d0e0e4736-${context.spanId}-01`);
    expect(seen.fields).toEqual({ traceId: context.traceId, spanId: context.spanId, correlationId: 'corr-2' });
    expect(currentTrace()).toBeUndefined();
    expect(outboundTraceparent()).toBeUndefined();
  });
});
