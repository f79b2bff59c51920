import { beforeAll, describe, expect, it } from 'vitest';

import { summarize } from './stats.js';
import { benchSvg, decades, formatMs, type PictureInput } from './svg.js';

const INPUT: PictureInput = {
  title: 'Customer 360 — npm run bench',
  subtitle: 'AMD EPYC, 2 cores <busy> & "quick"',
  latency: [
    { group: '1. Cache hit', label: 'bare route', summary: summarize([0.5, 0.7, 0.9, 2]) },
    { group: '1. Cache hit', label: 'custom action (JWT)', summary: summarize([0.8, 1.1, 1.5, 4]) },
    { group: '3. Slow SAP', label: 'SAP at 2000 ms', summary: summarize([801, 803, 805, 830]) },
    { group: '8. Drills', label: 'nothing answered', summary: summarize([]) },
    { group: '8. Drills', label: 'a series whose name is far too long to fit in the column left of the latency plot', summary: summarize([3, 4]) },
  ],
  storm: {
    title: 'Storm',
    charts: [
      { title: 'Salesforce (limit 5/s)', perSecond: [5, 9, 5, 0, 4], limit: 5, color: '#0b7fc7' },
      { title: 'SAP (limit 20/s)', perSecond: [20, 20, 18], limit: 20, color: '#c98a00' },
    ],
  },
};

/** Everything the picture says in words: its text elements and the accessible names of its marks. */
function texts(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
}
function names(svg: string): string[] {
  return [...svg.matchAll(/aria-label="([^"]*)"/g)].map((m) => m[1]);
}

describe('the latency axis', () => {
  it('covers the data with whole decades', () => {
    expect(decades(0.5, 830)).toEqual([0.1, 1, 10, 100, 1000]);
    expect(decades(3, 4)).toEqual([1, 10]);
    // nothing measured below 0.01 ms, and at least one decade
    expect(decades(0, 0)).toEqual([0.01, 0.1]);
  });

  it('writes ms as people read them', () => {
    expect([0.354, 4.23, 803.4, 1500, 12_345].map(formatMs)).toEqual(['0.35 ms', '4.2 ms', '803 ms', '1.5 s', '12 s']);
  });
});

describe('the picture', () => {
  let svg: string;
  let words: string[];
  beforeAll(async () => {
    svg = await benchSvg(INPUT);
    words = texts(svg);
  });

  it('is one SVG document with the title, and the text escaped', () => {
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]* width="\d+" height="\d+"/);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(words).toContain('Customer 360 — npm run bench');
    expect(words).toContain('AMD EPYC, 2 cores &lt;busy&gt; &amp; "quick"');
    expect(svg).not.toContain('<busy>');
    expect(svg).not.toContain('NaN');
  });

  it('draws the latency on a logarithmic axis labelled in ms and s', () => {
    expect(names(svg)).toContain('X-axis for a log scale with values from 0.1 to 1,000');
    for (const tick of ['0.1 ms', '1 ms', '10 ms', '100 ms', '1 s']) expect(words).toContain(tick);
  });

  it('heads each scenario once, and names each series in the order given', () => {
    for (const group of ['1. Cache hit', '3. Slow SAP', '8. Drills']) expect(words.filter((w) => w === group)).toHaveLength(1);
    const order = ['bare route', 'custom action (JWT)', 'SAP at 2000 ms', 'nothing answered'].map((label) => words.indexOf(label));
    expect(order.every((at) => at >= 0)).toBe(true);
    expect(order).toEqual([...order].sort((a, b) => a - b));
  });

  it('gives every series its percentiles, in the note beside it and in its accessible name', () => {
    expect(words).toContain('p50 803 ms · p99 830 ms');
    expect(words).toContain('p50 0.7 ms · p99 2 ms');
    expect(names(svg)).toContain('SAP at 2000 ms: min 801 ms, p50 803 ms, p90 830 ms, p99 830 ms, max 830 ms (4 answers)');
  });

  it('says when a series had no answers instead of drawing it', () => {
    expect(words).toContain('no answers');
    expect(names(svg)).toContain('nothing answered: no answers');
    expect(names(svg).filter((n) => n.startsWith('nothing answered: min'))).toEqual([]);
  });

  it('cuts a name too long for its column, with an ellipsis', () => {
    const label = INPUT.latency[4].label;
    const cut = words.filter((w) => w.startsWith('a series whose name'));
    expect(cut).toHaveLength(1);
    expect(cut[0]).not.toBe(label);
    expect(cut[0].endsWith('…')).toBe(true);
    expect(label.startsWith(cut[0].slice(0, -1))).toBe(true);
  });

  it('draws the storm per CRM: its title, one bar per second, and the limit as a dashed line', () => {
    expect(words).toContain('Storm');
    expect(words).toContain('Salesforce (limit 5/s)');
    expect(names(svg).filter((n) => /^second \d+: \d+ calls$/.test(n))).toEqual([
      'second 1: 5 calls',
      'second 2: 9 calls',
      'second 3: 5 calls',
      'second 4: 0 calls',
      'second 5: 4 calls',
      'second 1: 20 calls',
      'second 2: 20 calls',
      'second 3: 18 calls',
    ]);
    expect(names(svg)).toEqual(expect.arrayContaining(['limit 5/s', 'limit 20/s']));
    expect(words).toEqual(expect.arrayContaining(['limit 5/s', 'limit 20/s', 'seconds of the storm (5)', 'seconds of the storm (3)']));
    expect(svg.match(/stroke-dasharray="6,4"/g)).toHaveLength(2);
  });

  it('marks reference lines such as the deadline, across every scenario, named once', async () => {
    const marked = await benchSvg({ ...INPUT, markers: [{ ms: 800, label: 'deadline 800 ms' }] });
    expect(texts(marked).filter((w) => w === 'deadline 800 ms')).toHaveLength(1);
    // one dotted line in each of the three scenarios
    expect(names(marked).filter((n) => n === 'deadline 800 ms')).toHaveLength(3);
    expect(marked.match(/stroke-dasharray="2,3"/g)).toHaveLength(3);
    expect(svg).not.toContain('stroke-dasharray="2,3"');
  });

  it('leaves the storm out when it did not run', async () => {
    const calm = await benchSvg({ ...INPUT, storm: undefined });
    expect(calm).not.toContain('stroke-dasharray');
    expect(texts(calm)).not.toContain('Salesforce (limit 5/s)');
    expect(texts(calm)).toContain('bare route');
  });

  it('still draws a picture when nothing was measured', async () => {
    const empty = await benchSvg({ title: 'Nothing', subtitle: '', latency: [] });
    expect(texts(empty)).toEqual(expect.arrayContaining(['Nothing', 'no latency was measured']));
  });
});
