import { describe, expect, it } from 'vitest';
import { summarize } from './stats.js';
import { benchSvg, decades, escapeXml, fit, logScale, niceCeil, type PictureInput } from './svg.js';

const INPUT: PictureInput = {
  title: 'Customer 360 — npm run bench',
  subtitle: 'AMD EPYC, 2 cores <busy>',
  latency: [
    { group: '1. Cache hit', label: 'bare route', summary: summarize([0.5, 0.7, 0.9, 2]) },
    { group: '1. Cache hit', label: 'custom action (JWT)', summary: summarize([0.8, 1.1, 1.5, 4]) },
    { group: '3. Slow SAP', label: 'SAP at 2000 ms', summary: summarize([801, 803, 805, 830]) },
    { group: '8. Drills', label: 'nothing answered', summary: summarize([]) },
  ],
  storm: {
    title: 'Storm',
    charts: [
      { title: 'Salesforce (limit 5/s)', perSecond: [5, 9, 5, 0, 4], limit: 5, color: '#0b7fc7' },
      { title: 'SAP (limit 20/s)', perSecond: [20, 20, 18], limit: 20, color: '#c98a00' },
    ],
  },
};

describe('scales', () => {
  it('covers the data with whole decades', () => {
    expect(decades(0.5, 830)).toEqual([0.1, 1, 10, 100, 1000]);
    expect(decades(3, 4)).toEqual([1, 10]);
  });

  it('maps decades evenly (log scale) and clamps outside values', () => {
    const x = logScale([1, 10, 100], 0, 200);
    expect(x(1)).toBe(0);
    expect(x(10)).toBe(100);
    expect(x(100)).toBe(200);
    expect(x(0.001)).toBe(0);
    expect(x(1e6)).toBe(200);
  });

  it('rounds an axis maximum up to a readable number', () => {
    expect(niceCeil(7)).toBe(8);
    expect(niceCeil(13)).toBe(15);
    expect(niceCeil(42)).toBe(50);
    expect(niceCeil(180)).toBe(200);
    expect(niceCeil(0)).toBe(1);
  });
});

describe('the picture', () => {
  const svg = benchSvg(INPUT);

  it('is one well-formed SVG document with the title and escaped text', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('<title>Customer 360 — npm run bench</title>');
    expect(svg).toContain('2 cores &lt;busy&gt;');
    expect(svg).not.toMatch(/<busy>/);
    expect(svg).not.toContain('NaN');
    // every opened element is closed (self-closing or paired)
    const opened = (svg.match(/<(?!\/)[a-z]+[^>]*[^/]>/g) ?? []).length;
    const closed = (svg.match(/<\/[a-z]+>/g) ?? []).length;
    expect(opened).toBe(closed);
  });

  it('draws a heading per scenario, one latency row per series with its p50 and p99, and says when a series had no answers', () => {
    expect((svg.match(/>1\. Cache hit</g) ?? []).length).toBe(1);
    expect(svg).toContain('>bare route<');
    expect(svg).toContain('>custom action (JWT)<');
    expect(svg).toContain('p50 803 ms · p99 830 ms');
    expect(svg).toContain('no answers');
  });

  it('draws the storm per CRM: one bar per second and the limit as a dashed line', () => {
    expect(svg).toContain('Salesforce (limit 5/s)');
    expect((svg.match(/<title>second \d+: \d+ calls<\/title>/g) ?? []).length).toBe(8);
    expect((svg.match(/stroke-dasharray="6 4"/g) ?? []).length).toBe(2);
    expect(svg).toContain('limit 20/s');
  });

  it('marks reference lines such as the deadline', () => {
    const marked = benchSvg({ ...INPUT, markers: [{ ms: 800, label: 'deadline 800 ms' }] });
    expect(marked).toContain('>deadline 800 ms<');
    expect(marked).toContain('stroke-dasharray="2 3"');
  });

  it('cuts labels that would not fit', () => {
    expect(fit('short', 10)).toBe('short');
    expect(fit('a rather long series label', 10)).toBe('a rather …');
  });

  it('leaves the storm out when it did not run', () => {
    expect(benchSvg({ ...INPUT, storm: undefined })).not.toContain('stroke-dasharray');
  });

  it('escapes the five XML specials it can meet', () => {
    expect(escapeXml(`a&b<c>"d"`)).toBe('a&amp;b&lt;c&gt;&quot;d&quot;');
  });
});
