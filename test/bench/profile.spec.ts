import { describe, expect, it } from 'vitest';

import { areaOf, byArea, type CpuProfile,profileReport, selfTimes } from './profile.js';

const frame = (functionName: string, url: string, lineNumber = 0) => ({ functionName, url, lineNumber, columnNumber: 0, scriptId: '0' });

/** root → handler (ours) → parse (fastify); plus idle and GC. Samples: handler, parse, parse, idle, gc. */
const PROFILE: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)', ''), children: [2, 4, 5] },
    { id: 2, callFrame: frame('customerLookup', 'file:///work/app/dist/src/genesys/custom-action.controller.js', 40), children: [3] },
    { id: 3, callFrame: frame('parse', 'file:///work/app/node_modules/fastify/lib/contentTypeParser.js', 9) },
    { id: 4, callFrame: frame('(idle)', '') },
    { id: 5, callFrame: frame('(garbage collector)', '') },
  ],
  startTime: 0,
  endTime: 10_000,
  samples: [2, 3, 3, 4, 5],
  // the first delta leads up to the first sample; each later one is the time the previous sample ran
  timeDeltas: [0, 1000, 2000, 3000, 1000],
};

describe('CPU profile summary', () => {
  it('sums self time per function from samples and time deltas', () => {
    const times = selfTimes(PROFILE);
    const byName = Object.fromEntries(times.map((t) => [t.name, t.selfMs]));
    expect(byName).toEqual({ customerLookup: 1, parse: 5, '(idle)': 1, '(garbage collector)': 0 });
    expect(times[0]).toMatchObject({ name: 'parse', where: 'fastify/lib/contentTypeParser.js:10', area: 'pkg:fastify' });
    expect(times.find((t) => t.name === 'customerLookup')?.where).toBe('dist/src/genesys/custom-action.controller.js:41');
  });

  it('falls back to hit counts when the profile has no samples', () => {
    const noSamples: CpuProfile = { ...PROFILE, samples: undefined, timeDeltas: undefined, nodes: PROFILE.nodes.map((n) => ({ ...n, hitCount: n.id === 3 ? 3 : n.id === 2 ? 1 : 0 })) };
    const byName = Object.fromEntries(selfTimes(noSamples).map((t) => [t.name, t.selfMs]));
    expect(byName.parse).toBeCloseTo(7.5);
    expect(byName.customerLookup).toBeCloseTo(2.5);
  });

  it('tells our code from packages, Node internals, GC and idle', () => {
    expect(areaOf('file:///x/dist/src/cache/source-cache.js', 'getAll')).toBe('our code');
    expect(areaOf('file:///x/node_modules/@nestjs/core/router/router-execution-context.js', 'f')).toBe('pkg:@nestjs/core');
    expect(areaOf('node:internal/streams/writable', 'write')).toBe('node internals');
    expect(areaOf('', '(garbage collector)')).toBe('GC');
    expect(areaOf('', '(idle)')).toBe('idle');
    expect(areaOf('', 'JSON.parse')).toBe('native / V8');
  });

  it('groups by area and reports shares of busy time (idle left out)', () => {
    expect(byArea(selfTimes(PROFILE)).map((a) => a.area)).toEqual(['pkg:fastify', 'our code', 'idle', 'GC']);
    const report = profileReport(PROFILE);
    expect(report).toMatch(/^busy 6 ms of 10 ms profiled/);
    expect(report).toContain(' 83.3 %       5 ms  parse  fastify/lib/contentTypeParser.js:10  [pkg:fastify]');
    expect(report).toContain('our code, by self time:');
    expect(report).not.toContain('(idle)');
  });
});
