import { describe, expect, it } from 'vitest';

import { addedLatency, busiestSecond, classify, count, cpuPerRequestMs, degradedSources, emptyTally, median, metricValue, percentile, perSecondSeries, ratePerSecond, summarize } from './stats.js';

describe('percentile (nearest rank)', () => {
  const sorted = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

  it('picks the value at rank ceil(p·n)', () => {
    expect(percentile(sorted, 50)).toBe(5);
    expect(percentile(sorted, 90)).toBe(9);
    expect(percentile(sorted, 99)).toBe(10);
    expect(percentile(sorted, 100)).toBe(10);
    expect(percentile(sorted, 0)).toBe(1);
  });

  it('is NaN without values and refuses a p outside 0..100', () => {
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile(sorted, 101)).toThrow(RangeError);
    expect(() => percentile(sorted, Number.NaN)).toThrow(RangeError);
  });

  it('p99 of 1,000 values is the 990th smallest', () => {
    const values = Array.from({ length: 1000 }, (_, i) => i + 1);
    expect(percentile(values, 99)).toBe(990);
  });
});

describe('summarize', () => {
  it('sorts numerically (not as strings) and reports count, min, mean, p50, p90, p99, max', () => {
    const s = summarize([10, 9, 100, 1, 2]);
    expect(s).toEqual({ count: 5, min: 1, mean: 24.4, p50: 9, p90: 100, p99: 100, max: 100 });
  });

  it('does not reorder its input', () => {
    const input = [3, 1, 2];
    summarize(input);
    expect(input).toEqual([3, 1, 2]);
  });

  it('is all NaN (count 0) without values', () => {
    const s = summarize([]);
    expect(s.count).toBe(0);
    expect(s.p50).toBeNaN();
  });
});

describe('addedLatency', () => {
  it('subtracts the slowest source from every request, so percentiles shift by it', () => {
    const added = addedLatency([52, 53, 51.5, 60], { salesforce: 20, sap: 50, servicenow: 35 });
    expect(added.p50).toBeCloseTo(2);
    expect(added.max).toBeCloseTo(10);
    expect(added.min).toBeCloseTo(1.5);
  });

  it('may be negative when an answer came before the slowest source (a cache hit, a timeout shorter than it)', () => {
    expect(addedLatency([30], { sap: 50 }).p50).toBe(-20);
  });
});

describe('per-second figures', () => {
  it('finds the busiest calendar second', () => {
    expect(busiestSecond({ '100': 4, '101': 9, '102': 7 })).toEqual({ second: 101, count: 9 });
    expect(busiestSecond({}).count).toBe(0);
  });

  it('makes a dense series with zeros for quiet seconds', () => {
    expect(perSecondSeries({ '10': 3, '12': 5 }, 9, 13)).toEqual([0, 3, 0, 5, 0]);
  });

  it('takes the median of rounds', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  it('computes a rate from a count and elapsed time', () => {
    expect(ratePerSecond(500, 250)).toBe(2000);
    expect(ratePerSecond(5, 0)).toBe(0);
  });
});

describe('reading answers', () => {
  it('classifies custom action and REST answers', () => {
    expect(classify(200, '{"status":"ok","data":{"customerView":{"isDegraded":false}}}')).toBe('ok');
    expect(classify(200, '{"status":"degraded","data":{"customerView":{"degradedSources":"sap"}}}')).toBe('degraded');
    expect(classify(200, '{"status":"not_found","data":{"customerView":null}}')).toBe('not_found');
    expect(classify(200, '{"customerId":"0010100001","degraded":true}')).toBe('degraded');
    expect(classify(200, '{"customerId":"0010100001","degraded":false}')).toBe('ok');
    expect(classify(503, '{"status":"error"}')).toBe('http_error');
  });

  it('lists the degraded sources of a custom action answer', () => {
    expect(degradedSources('{"degradedSources":"sap,servicenow","isDegraded":true}')).toEqual(['sap', 'servicenow']);
    expect(degradedSources('{"degradedSources":"","isDegraded":false}')).toEqual([]);
    expect(degradedSources('not json')).toEqual([]);
  });

  it('tallies outcomes: 200s are answered (ok, degraded, not found), the rest failed, by status', () => {
    const t = emptyTally();
    count(t, 'ok', '200');
    count(t, 'degraded', '200');
    count(t, 'http_error', '503');
    count(t, 'conn_error', 'ECONNREFUSED');
    count(t, 'timeout', 'timeout');
    expect(t).toEqual({ sent: 5, answered: 2, ok: 1, degraded: 1, notFound: 0, failed: 3, byStatus: { '200': 2, '503': 1, ECONNREFUSED: 1, timeout: 1 } });
  });
});

describe('metricValue', () => {
  const text = [
    '# HELP c360_nodejs_eventloop_lag_p99_seconds The 99th percentile of the recorded event loop delays.',
    '# TYPE c360_nodejs_eventloop_lag_p99_seconds gauge',
    'c360_nodejs_eventloop_lag_p99_seconds 0.012345',
    'c360_nodejs_eventloop_lag_p999_seconds 0.02',
    'c360_nodejs_heap_size_used_bytes 2.5e7',
    'c360_breaker_state{source="sap"} 2',
  ].join('\n');

  it('reads a gauge by its exact name, in any number notation, labelled or not', () => {
    expect(metricValue(text, 'c360_nodejs_eventloop_lag_p99_seconds')).toBe(0.012345);
    expect(metricValue(text, 'c360_nodejs_heap_size_used_bytes')).toBe(25_000_000);
    expect(metricValue(text, 'c360_breaker_state')).toBe(2);
    expect(metricValue(text, 'c360_missing')).toBeUndefined();
  });
});

describe('cpuPerRequestMs', () => {
  it('takes what the process uses at rest in as long out of a run, then shares the rest over its requests', () => {
    // 1.2 CPU-s in a 10 s run of 200 requests, 0.02 CPU-s per second at rest: (1.2 − 0.2) / 200 = 5 ms
    expect(cpuPerRequestMs(1.2, 0.02, 10, 200)).toBeCloseTo(5, 10);
    expect(cpuPerRequestMs(1.2, 0, 10, 200)).toBeCloseTo(6, 10);
  });

  it('never goes below zero (a run shorter than the clock ticks of /proc) and is undefined without requests', () => {
    expect(cpuPerRequestMs(0.01, 0.02, 10, 200)).toBe(0);
    expect(cpuPerRequestMs(1, 0, 10, 0)).toBeNaN();
  });
});
